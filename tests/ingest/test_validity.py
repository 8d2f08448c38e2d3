"""Validity statements in the text become effective/expiry dates and repeal lists."""

from __future__ import annotations

from ingest import parse_document
from ingest.validity import read_validity


def test_effective_and_expiry_dates() -> None:
    found = read_validity("本办法自2020年1月1日起施行，有效期至2022年12月31日。")
    assert found.effective_date == "2020-01-01" and found.expiry_date == "2022-12-31"
    relative = read_validity("本通知自印发之日起施行，有效期3年。", issued="2019-11-01")
    assert relative.effective_date == "2019-11-01" and relative.expiry_date == "2022-11-01"
    chinese = read_validity("本条例自二〇二〇年三月一日起实施。")
    assert chinese.effective_date == "2020-03-01" and chinese.expiry_date is None


def test_repeals_name_the_old_document_by_number_and_title() -> None:
    found = read_validity("本办法自2020年1月1日起施行。原《常熟市住房公积金管理办法》（常政发〔2015〕12号）同时废止。")
    assert found.repeals == ("常政发〔2015〕12号", "常熟市住房公积金管理办法")
    assert read_validity("对违反本条例的行为，依法予以处罚。").repeals == ()


def test_parse_document_puts_them_in_metadata_unless_the_record_says_otherwise() -> None:
    text = "第一条 为了规范管理，制定本办法。\n\n第二条 本办法自2021年5月1日起施行。原《某市管理办法》同时废止。"
    document = parse_document(text, doc_id="d", title="某市新管理办法")
    assert document.metadata["effective_date"] == "2021-05-01"
    assert document.metadata["repeals"] == ["某市管理办法"]
    overridden = parse_document(text, doc_id="d", title="某市新管理办法", metadata={"effective_date": "2021-06-01"})
    assert overridden.metadata["effective_date"] == "2021-06-01"


def test_a_certificates_validity_period_is_not_the_documents_own():
    """居民身份证法 says how long an identity card is valid; the law itself does not expire."""
    text = ("第五条 十六周岁以上公民的居民身份证的有效期为十年、二十年、长期。\n"
            "第二十三条 本法自2004年1月1日起施行。")
    found = read_validity(text, issued="2011-10-29")
    assert found.effective_date == "2004-01-01"
    assert found.expiry_date is None


def test_a_validity_period_naming_the_policies_counts():
    found = read_validity("以上政策自2020年2月1日起执行，有效期至2020年6月30日。")
    assert found.expiry_date == "2020-06-30"
