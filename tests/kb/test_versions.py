"""Versions and validity: the latest version is in force, older ones are superseded, by their own dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from kb import KnowledgeBase, SearchFilters
from kb.versions import VersionFacts, resolve
from tests.conftest import make_document


def facts(doc_id, title, day=None, number=None, jurisdiction="national", **metadata):
    return VersionFacts(doc_id, title, number, day, metadata, jurisdiction=jurisdiction)


def test_the_latest_version_by_date_is_current_whatever_the_input_order() -> None:
    documents = [facts("v2023", "行政复议法", "2023-09-01", valid_from="2024-01-01"),
                 facts("v2017", "行政复议法", "2017-09-01", valid_from="2018-01-01"),
                 facts("other", "劳动法", "2018-12-29")]
    for ordering in (documents, list(reversed(documents))):
        resolved = resolve(ordering, today=date(2025, 1, 1))
        assert resolved["v2023"].status == "in_force" and resolved["v2023"].superseded_by is None
        assert resolved["v2017"].status == "superseded" and resolved["v2017"].superseded_by == "v2023"
        assert resolved["v2017"].superseded_from == 20240101
        assert resolved["other"].status == "in_force"


def test_before_the_new_version_takes_effect_the_old_one_is_still_in_force() -> None:
    resolved = resolve([facts("old", "条例", "2017-01-01"), facts("new", "条例", "2024-05-01", valid_from="2025-01-01")],
                       today=date(2024, 6, 1))
    assert resolved["old"].status == "in_force" and resolved["old"].superseded_by == "new"


def test_a_document_is_not_in_force_before_its_own_date() -> None:
    resolved = resolve([facts("notice", "补贴通知", "2022-03-01"), facts("law", "条例", "2010-01-01",
                                                                   valid_from="2009-06-01")], today=date(2025, 1, 1))
    assert resolved["notice"].effective == 20220301
    assert resolved["law"].effective == 20100101  # an amended version takes effect with its own date


def test_same_doc_number_parts_repeals_and_expiry() -> None:
    resolved = resolve([
        facts("a", "通知（旧稿）", "2019-01-01", number="常政办发〔2019〕1号"),
        facts("b", "通知", "2019-03-01", number="常政办发〔2019〕1号"),
        facts("civil-1", "民法典", "2020-05-28", part="总则"),
        facts("civil-2", "民法典", "2020-05-28", part="物权编"),
        facts("repealed", "常熟市旧办法", "2015-01-01", number="常政发〔2015〕12号"),
        facts("repealer", "常熟市新办法", "2020-01-01", repeals=["常政发〔2015〕12号"]),
        facts("dated", "临时措施", "2020-02-01", expiry_date="2020-06-30"),
        facts("flagged", "旧条例", "2001-01-01", expired=True),
    ], today=date(2025, 1, 1))
    assert resolved["a"].status == "superseded" and resolved["a"].superseded_by == "b"
    assert resolved["civil-1"].status == resolved["civil-2"].status == "in_force"
    assert resolved["repealed"].status == "superseded" and resolved["repealed"].superseded_by == "repealer"
    assert resolved["dated"].status == "expired" and resolved["dated"].expires == 20200630
    assert resolved["flagged"].status == "expired"


def test_copies_of_one_date_and_titles_of_unknown_origin_are_not_versions() -> None:
    resolved = resolve([
        facts("site-a", "通知", "2020-02-10", number="京政办发〔2020〕7号"),
        facts("site-b", "通知（转载）", "2020-02-10", number="京政办发〔2020〕7号"),
        facts("city-1", "关于做好疫情防控工作的通知", "2020-02-01", jurisdiction=None),
        facts("city-2", "关于做好疫情防控工作的通知", "2020-03-01", jurisdiction=None),
        facts("undated", "条例", None), facts("dated", "条例", "2020-01-01"),
    ], today=date(2025, 1, 1))
    assert {d: v.status for d, v in resolved.items()} == dict.fromkeys(resolved, "in_force")


@pytest.fixture()
def versioned_kb(tmp_path, policy_documents) -> KnowledgeBase:
    new = replace(make_document("fund-2024", "住房公积金提取办法", ["职工购买自住住房的，可以提取住房公积金，每年限提取一次。"]),
                  date="2024-03-01", metadata={"valid_from": "2024-04-01", "jurisdiction": "常熟市"})
    old = replace(make_document("fund-2015", "住房公积金提取办法", ["职工购买自住住房的，可以提取住房公积金，不限次数。"]),
                  date="2015-03-01", metadata={"valid_from": "2015-04-01", "jurisdiction": "常熟市"})
    knowledge_base = KnowledgeBase(tmp_path, create=True)
    knowledge_base.add_documents([*policy_documents, new, old])  # the newer one is ingested first
    knowledge_base.build()
    return knowledge_base


def test_search_returns_the_version_in_force_and_history_on_request(versioned_kb: KnowledgeBase) -> None:
    question = "买房可以提取住房公积金吗"
    today = [h.doc_id for h in versioned_kb.search(question, top_k=10).hits]
    assert "fund-2024" in today and "fund-2015" not in today
    in_2020 = versioned_kb.search(question, top_k=10, filters=SearchFilters(as_of="2020-01-01")).hits
    assert "fund-2015" in [h.doc_id for h in in_2020] and "fund-2024" not in [h.doc_id for h in in_2020]
    history = versioned_kb.search(question, top_k=10, filters=SearchFilters.from_options(include_superseded=True)).hits
    old = next(h for h in history if h.doc_id == "fund-2015")
    assert old.status == "superseded" and old.superseded_by == "fund-2024"
    assert versioned_kb.document("fund-2015")["superseded_by"] == "fund-2024"


@pytest.mark.parametrize("as_of", ["last year", "2019-13-45", "2021-02-29", "2020-00-10", "2020-1-5"])
def test_bad_as_of_is_refused(as_of: str) -> None:
    """Impossible days too: "2019-13-45" was once accepted and compared as a number."""
    from kb import InvalidFilter

    with pytest.raises(InvalidFilter, match="as_of must be a date"):
        SearchFilters(as_of=as_of)


def test_a_leap_day_is_a_day() -> None:
    assert SearchFilters(as_of="2020-02-29").as_of == "2020-02-29"


def test_a_document_is_in_force_through_its_last_valid_day() -> None:
    item = [facts("faq", "口罩怎么预约", "2020-02-01", expiry_date="2020-06-30")]
    assert resolve(item, today=date(2020, 6, 30))["faq"].status == "in_force"
    assert resolve(item, today=date(2020, 7, 1))["faq"].status == "expired"
