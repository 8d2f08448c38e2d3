"""parse_document: which source wins for each Document field; slugify."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import clean_text, parse_document, segment_text, slugify
from kb import EXPIRED, IN_FORCE

SEED = Path(__file__).resolve().parents[2] / "corpus" / "seed" / "changshu-2019-zhengwu-gongkai-yaodian.txt"


def test_seed_document() -> None:
    raw = SEED.read_text(encoding="utf-8")
    document = parse_document(raw, doc_id=slugify(SEED.name), source=str(SEED))
    assert document.doc_id == "changshu-2019-zhengwu-gongkai-yaodian"
    assert document.title == "市政府办公室关于印发《常熟市2019年政务公开工作要点》的通知"
    assert document.doc_number == "常政办发〔2019〕143号"
    assert document.issuer == "常熟市人民政府办公室"
    assert document.date == "2019-11-01"
    assert document.status == IN_FORCE
    assert document.source == str(SEED)
    assert document.text == clean_text(raw)
    assert document.segments == segment_text(document.text)
    assert document.metadata["attached_title"] == "常熟市2019年政务公开工作要点"
    assert document.metadata["publicity"] == "此件公开发布"
    assert document.metadata["printed_date"] == "2019-11-01"
    assert document.metadata["cc"].startswith("市委各部门，")
    assert document.segment_id(document.segments[2]) == "changshu-2019-zhengwu-gongkai-yaodian#s1.1"


def test_record_metadata_title_date_and_status() -> None:
    record = {
        "publish": "2020-05-14",
        "valid_from": "2020-05-15",
        "expired": True,
        "collection": "上海地方法规",
        "text": "ignored",
    }
    document = parse_document(
        "## 第一章  总则\n\n第一条 为了规范口岸开放，制定本条例。\n\n第二条 本条例适用于本市。",
        doc_id="lawrefbook:1",
        title="上海口岸服务条例",
        metadata=record,
    )
    assert document.title == "上海口岸服务条例"
    assert document.date == "2020-05-14"  # publish before valid_from
    assert document.status == EXPIRED
    assert document.metadata == {
        "publish": "2020-05-14",
        "valid_from": "2020-05-15",
        "expired": True,
        "collection": "上海地方法规",
    }
    assert [segment.anchor for segment in document.segments] == ["a1", "a2"]
    assert record["text"] == "ignored"  # the caller's dict is not changed


@pytest.mark.parametrize(
    ("metadata", "date", "status"),
    [
        ({"expired": False, "valid_from": "2019-01-01"}, "2019-01-01", IN_FORCE),
        ({"expired": None, "version_date": "2018-03-02"}, "2018-03-02", IN_FORCE),
        ({"date": "2017年5月6日"}, "2017-05-06", IN_FORCE),
        ({"status": "superseded"}, None, "superseded"),
        ({}, None, IN_FORCE),
    ],
)
def test_dates_and_statuses_from_records(metadata: dict, date: str | None, status: str) -> None:
    document = parse_document("第一条 内容。\n\n第二条 内容。", doc_id="x", title="某条例", metadata=metadata)
    assert (document.date, document.status) == (date, status)


def test_the_documents_own_date_wins_over_the_record() -> None:
    text = "关于某事的通知\n\n各单位：\n\n请遵照执行。\n\n某市人民政府\n2019年11月1日"
    document = parse_document(text, doc_id="x", metadata={"publish": "2020-01-01"})
    assert document.date == "2019-11-01"
    assert document.title == "关于某事的通知"


def test_fallback_title_of_a_flattened_page() -> None:
    text = (
        "工业和信息化部组织开展负压救护车重点生产企业督导检查 2020年2月4日，为做好新型冠状病毒感染的肺炎疫情防控"
        "物资保障工作，加强负压救护车生产质量检查工作。"
    )
    assert parse_document(text, doc_id="x").title == "工业和信息化部组织开展负压救护车重点生产企业督导检查"


def test_fallback_title_is_capped() -> None:
    text = "为了进一步规范和加强本市各级行政机关在政务服务事项办理过程中的信息公开与数据共享工作，现作如下说明。"
    title = parse_document(text, doc_id="x").title
    assert title.startswith("为了进一步规范") and len(title) <= 41


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("changshu-2019-zhengwu-gongkai-yaodian.txt", "changshu-2019-zhengwu-gongkai-yaodian"),
        ("Changshu 2019_Yaodian.MD", "changshu-2019-yaodian"),
        ("docs/常熟市 政务公开（2019）.txt", "常熟市-政务公开-2019"),
        ("ＡＢＣ.v2.json", "abc-v2"),
        ("???.txt", ""),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug
