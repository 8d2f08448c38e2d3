"""公文 metadata by rule: 发文机关, 文号, 标题, 成文日期, 版记."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import GongwenMetadata, clean_text, extract_metadata
from ingest.gongwen import DOC_NUMBER, is_closing_line, normalise_doc_number, numeral_value, parse_date

SEED = Path(__file__).resolve().parents[2] / "corpus" / "seed" / "changshu-2019-zhengwu-gongkai-yaodian.txt"


def test_seed_metadata() -> None:
    metadata = extract_metadata(clean_text(SEED.read_text(encoding="utf-8")))
    assert metadata == GongwenMetadata(
        issuer="常熟市人民政府办公室",
        doc_number="常政办发〔2019〕143号",
        title="市政府办公室关于印发《常熟市2019年政务公开工作要点》的通知",
        attached_title="常熟市2019年政务公开工作要点",
        signed_date="2019-11-01",
        printed_date="2019-11-01",
        publicity="此件公开发布",
        cc="市委各部门，市人大办、市政协办，市纪委监委，市法院，市检察院，市人武部，各民主党派、人民团体、"
        "工商联，各条线垂直单位，各驻常单位（公司）",
    )


@pytest.mark.parametrize(
    "written",
    [
        "常政办发〔2019〕143号",
        "常政办发[2019]143号",
        "常政办发【2019】143号",
        "常政办发(2019)143号",
        "常政办发（2019）143号",
        "常政办发 〔2019〕 143 号",
        "（常政办发［2019］143号）",
    ],
)
def test_doc_number_variants_normalise(written: str) -> None:
    assert normalise_doc_number(written) == "常政办发〔2019〕143号"
    assert DOC_NUMBER.search(written) is not None


def test_normalise_refuses_text_without_a_doc_number() -> None:
    with pytest.raises(ValueError):
        normalise_doc_number("2019年工作要点")


def test_doc_number_cited_in_the_body_is_not_the_documents_own() -> None:
    text = (
        "某县人民政府办公室文件\n\n关于做好政务新媒体工作的通知\n\n各镇人民政府：\n\n"
        "贯彻落实《实施意见》（苏政办发〔2019〕56号）等有关要求。\n\n某县人民政府办公室\n2019年5月6日"
    )
    metadata = extract_metadata(text)
    assert metadata.doc_number is None
    assert metadata.title == "关于做好政务新媒体工作的通知"
    assert metadata.issuer == "某县人民政府办公室"


def test_chinese_dates_publicity_variants_and_absent_fields() -> None:
    text = (
        "关于调整某项补贴标准的批复\n\n某局：\n\n你局请示收悉。现批复如下。\n\n某市人民政府\n"
        "二〇一九年十一月一日\n\n（此件依申请公开）"
    )
    metadata = extract_metadata(text)
    assert metadata.signed_date == "2019-11-01"
    assert metadata.issuer == "某市人民政府"  # the signature above the date
    assert metadata.publicity == "此件依申请公开"
    assert metadata.title == "关于调整某项补贴标准的批复"
    assert (metadata.doc_number, metadata.printed_date, metadata.cc, metadata.attached_title) == (None,) * 4


def test_flattened_web_page_head() -> None:
    text = (
        "北京市人民政府办公厅 关于应对疫情影响促进中小微企业持续健康发展的若干措施 京政办发[2020]7号 "
        "各区人民政府，市政府各委、办、局： 为深入贯彻落实党中央决策部署，现提出如下措施。"
    )
    metadata = extract_metadata(text)
    assert metadata.doc_number == "京政办发〔2020〕7号"
    # the issuer line and the title line read together as the full title
    assert metadata.title == "北京市人民政府办公厅关于应对疫情影响促进中小微企业持续健康发展的若干措施"


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("一", 1),
        ("十", 10),
        ("十一", 11),
        ("二十", 20),
        ("五十四", 54),
        ("一百零五", 105),
        ("一百二十", 120),
        ("二〇一九", 2019),
        ("12", 12),
        ("１２", 12),
    ],
)
def test_numeral_value(numeral: str, value: int) -> None:
    assert numeral_value(numeral) == value


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2019年11月1日", "2019-11-01"),
        ("二〇一九年十一月一日", "2019-11-01"),
        ("二○二○年二月二十九日", "2020-02-29"),
        ("2019 年 11 月 1 日印发", "2019-11-01"),
        ("2020-05-14", "2020-05-14"),
        ("2019年2月30日", None),
        ("无日期", None),
    ],
)
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


@pytest.mark.parametrize(
    ("line", "closing"),
    [
        ("2019年11月1日", True),
        ("常熟市人民政府办公室 2019年11月1日印发", True),
        ("抄送：市委各部门。", True),
        ("（此件公开发布）", True),
        ("国家卫生健康委 2020年1月25日", True),
        ("2019年11月1日起施行。", False),
        ("（一）推进行政决策公开。", False),
    ],
)
def test_closing_lines(line: str, closing: bool) -> None:
    assert is_closing_line(line) is closing


@pytest.mark.parametrize("variant", ["常政办发〔２０２１〕８８号", "常政办发［２０２１］８８号", "常政办发【2021】８８号"])
def test_a_doc_number_in_full_width_digits_is_the_same_number(variant: str) -> None:
    # found by the bad-input catalogue (B32): a full-width year was not read as a 文号 at all
    assert normalise_doc_number(variant) == "常政办发〔2021〕88号"
