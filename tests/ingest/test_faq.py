"""FAQ items: one document and one segment per standard question, from JSONL or CSV, into a real kb."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from ingest import Failure, FaqFieldMap, faq_document, ingest_paths, read_faq
from kb import KnowledgeBase

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
ITEMS = [
    {"id": "gjj-001", "question": "住房公积金怎么提取？", "similar_questions": ["公积金如何提取", "怎么取公积金"],
     "answer": "职工购买、建造自住住房的，可以申请提取住房公积金账户内的存储余额。", "dept": "住房公积金管理中心",
     "post_date": "2023-05-04", "contact_phone": "12329", "keywords": ["公积金", "提取"]},
    {"id": "sb-002", "question": "失业保险金怎么申领？", "answer": "失业人员可以通过线上或线下方式申领失业保险金。",
     "dept": "人社局", "valid_to": "2020-12-31"},
    {"id": "bad-003", "answer": "没有标准问题的条目无法检索。"},
]


def test_an_item_is_one_document_with_one_segment_over_its_whole_text() -> None:
    document = faq_document(ITEMS[0], FaqFieldMap(), "faq.jsonl:1")
    assert document.doc_id == "gjj-001" and document.title == "住房公积金怎么提取？"
    assert document.text == ("住房公积金怎么提取？\n公积金如何提取\n怎么取公积金\n\n"
                             "职工购买、建造自住住房的，可以申请提取住房公积金账户内的存储余额。")
    [segment] = document.segments
    assert (segment.anchor, segment.locator, segment.section_path, segment.departments) == (
        "faq", "问答", ("住房公积金怎么提取？",), ("住房公积金管理中心",))
    assert (segment.start, segment.end, segment.text) == (0, len(document.text), document.text)
    assert document.date == "2023-05-04" and document.status == "in_force"
    assert document.metadata == {
        "kind": "faq", "question": "住房公积金怎么提取？", "similar_questions": ["公积金如何提取", "怎么取公积金"],
        "answer": "职工购买、建造自住住房的，可以申请提取住房公积金账户内的存储余额。", "department": "住房公积金管理中心",
        "post_date": "2023-05-04", "contact_phone": "12329", "keywords": ["公积金", "提取"]}


def test_validity_and_an_id_made_from_the_question() -> None:
    expired = faq_document(ITEMS[1], FaqFieldMap(), today=datetime.date(2021, 1, 1))
    assert expired.status == "expired" and expired.metadata["valid_to"] == "2020-12-31"
    current = faq_document(ITEMS[1], FaqFieldMap(), today=datetime.date(2020, 12, 31))
    assert current.status == "in_force"
    without_id = faq_document({"question": "怎么办理居住证？", "answer": "到派出所办理。"}, FaqFieldMap())
    assert without_id.doc_id == faq_document({"question": "怎么办理居住证？"}, FaqFieldMap()).doc_id
    assert without_id.doc_id.startswith("faq-")


def test_read_faq_from_csv_with_other_column_names(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_bytes(("编号,标准问,相似问,答案,答复部门\n"
                      "q1,新生儿怎么办理医保？,新生儿医保怎么办|宝宝医保如何参保,出生后可在线办理参保登记。,医保局\n"
                      "q2,,,没有问题,医保局\n").encode("gb18030"))
    mapping = FaqFieldMap(id_field="编号", question_field="标准问", similar_field="相似问", answer_field="答案",
                          department_field="答复部门")
    items = list(read_faq(path, mapping))
    assert isinstance(items[1], Failure) and items[1].reason == "no question in field '标准问'"
    assert items[1].source.endswith("faq.csv:3")
    document = items[0]
    assert document.text == "新生儿怎么办理医保？\n新生儿医保怎么办\n宝宝医保如何参保\n\n出生后可在线办理参保登记。"
    assert document.segments[0].departments == ("医保局",)


def test_ingest_paths_with_faq_stores_citable_items(tmp_path: Path, knowledge_base: KnowledgeBase) -> None:
    path = tmp_path / "faq.jsonl"
    path.write_text("\n".join(json.dumps(item, ensure_ascii=False) for item in ITEMS), encoding="utf-8")
    report = ingest_paths(knowledge_base, [path], faq=True)
    assert [(Path(f.source).name, f.reason) for f in report.failures] == [("faq.jsonl:3", "no question in field 'question'")]
    segment = knowledge_base.segment("gjj-001#faq")
    assert segment["section_path"] == ["住房公积金怎么提取？"] and segment["departments"] == ["住房公积金管理中心"]
    assert knowledge_base.document("gjj-001")["metadata"]["kind"] == "faq"
    assert knowledge_base.document("sb-002")["status"] == "expired"


@pytest.mark.slow
def test_the_taipei_faq_ingests_whole(tmp_path: Path, knowledge_base: KnowledgeBase) -> None:
    path = SHARED / "taipei-faq" / "faq.jsonl"
    if not path.exists():
        pytest.skip("shared corpus file taipei-faq/faq.jsonl is absent (expected beside the repo at ../shared/corpus)")
    report = ingest_paths(knowledge_base, [path], faq=True)
    assert report.failures == []
    assert len(report.results) == 1877
    # ten items repeat another item's question and answer (same department, another id and date; one
    # differs only by a line break): the knowledge base stores the text once and reports the copies
    assert report.count("added") == 1867 and report.count("duplicate") == 10
    assert knowledge_base.store.counts() == {"documents": 1867, "segments": 1867}
    # the source lost a few characters in an earlier Big5 conversion ("化�品"): kept, and counted
    damaged = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if "\ufffd" in line]
    assert len(damaged) == 8
    assert knowledge_base.document(damaged[0]["id"])["metadata"]["replacement_characters"] == 2
    document = knowledge_base.document("GIP_94148269")
    assert document["title"] == "常見的資訊安全攻擊手法有哪些？該如何防範？"
    [segment] = knowledge_base.segments_of("GIP_94148269")
    assert segment["anchor"] == "faq" and segment["departments"] == ["臺北市政府警察局"]
    assert document["metadata"]["source_unit"] == "警察局" and document["metadata"]["contact_phone"] == "1999"


def test_an_item_damaged_beyond_repair_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "faq.jsonl"
    answer = ("請撥打1999市民熱線或衛生局檢舉專線，由衛生局受理檢舉，並依藥事法及化粧品衛生安全管理法查處；"
              "檢舉人身分依法保密，查證屬實者得依規定發給檢舉獎金。")
    lines = [{"id": "ok", "question": "如何檢舉違規藥物、化\ufffd品？", "answer": answer},
             {"id": "lost", "question": "\ufffd\ufffd\ufffd\ufffd？", "answer": "\ufffd\ufffd\ufffd"}]
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    kept, refused = list(read_faq(path))
    assert kept.metadata["replacement_characters"] == 1
    assert isinstance(refused, Failure) and "U+FFFD" in refused.reason and refused.source.endswith("faq.jsonl:2")
