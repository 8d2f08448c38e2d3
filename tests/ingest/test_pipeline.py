"""Reading files and records into a real knowledge base: encodings, bad files, JSONL fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest import FieldMap, ingest_paths
from kb import KnowledgeBase
from tests.conftest import SEED

NOTICE = "关于做好失业保险稳岗返还工作的通知\n\n一、返还条件\n\n（一）参保企业上年度未裁员或裁员率低于全国城镇调查失业率控制目标的，可以申请稳岗返还。（责任部门：人社局）\n"


@pytest.fixture()
def knowledge_base(tmp_path: Path) -> KnowledgeBase:
    return KnowledgeBase(tmp_path / "kb", create=True)


def test_gb18030_utf8_bom_and_utf16_files_ingest_identically(tmp_path: Path, knowledge_base: KnowledgeBase) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "gbk-notice.txt").write_bytes(NOTICE.encode("gb18030"))
    (folder / "bom-notice.txt").write_bytes(b"\xef\xbb\xbf" + NOTICE.replace("稳岗", "稳 岗").encode("utf-8"))
    (folder / "utf16-notice.md").write_bytes(NOTICE.encode("utf-16"))
    report = ingest_paths(knowledge_base, [folder])
    assert report.failures == []
    outcomes = sorted(r.outcome for r in report.results)
    # the three files hold the same text: one is stored, the other two are reported as duplicates
    assert outcomes == ["added", "duplicate", "duplicate"]
    [row] = knowledge_base.documents()
    assert row["doc_id"] == "bom-notice"  # the first file in sorted order is the one kept
    assert {r.same_as for r in report.results if r.outcome == "duplicate"} == {"bom-notice"}
    assert knowledge_base.document("bom-notice")["text"].startswith("关于做好失业保险稳")


def test_an_undecodable_file_is_reported_and_skipped_while_others_go_in(tmp_path: Path,
                                                                        knowledge_base: KnowledgeBase) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.txt").write_text(NOTICE, encoding="utf-8")
    (folder / "broken.txt").write_bytes(b"\x00\x01\x02\xff\xfe\x00\x80\x81" * 50)
    (folder / "ignored.bin").write_bytes(b"\x00")
    report = ingest_paths(knowledge_base, [folder, tmp_path / "missing.txt"])
    failed = {Path(f.source).name: f.reason for f in report.failures}
    assert set(failed) == {"broken.txt", "missing.txt"}
    assert "decode" in failed["broken.txt"]
    assert [d["doc_id"] for d in knowledge_base.documents()] == ["good"]


def test_jsonl_records_with_other_field_names_and_bad_lines(tmp_path: Path, knowledge_base: KnowledgeBase) -> None:
    path = tmp_path / "records.jsonl"
    lines = [
        json.dumps({"docid": "n1", "body": NOTICE, "level": "市级", "expired": False}, ensure_ascii=False),
        "{not json",
        json.dumps({"docid": "n2", "body": "第一条 为了规范住房公积金管理，制定本条例。\n\n第二条 本条例适用于住房公积金的缴存、提取。",
                    "name": "住房公积金管理条例", "expired": True}, ensure_ascii=False),
        json.dumps({"docid": "n3"}),
        json.dumps({"docid": "n4", "name": "汕头经济特区突发公共卫生事件应急条例", "body": "", "expired": False},
                   ensure_ascii=False),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    report = ingest_paths(knowledge_base, [path], fields=FieldMap(id_field="docid", title_field="name", text_field="body"))
    assert sorted(Path(f.source).name for f in report.failures) == ["records.jsonl:2", "records.jsonl:4"]
    n1, n2 = knowledge_base.document("n1"), knowledge_base.document("n2")
    assert n1["title"] == "关于做好失业保险稳岗返还工作的通知"  # a record without a title gets one from its text
    assert n1["metadata"]["level"] == "市级"
    assert n2["title"] == "住房公积金管理条例" and n2["status"] == "expired"
    assert [s["locator"] for s in knowledge_base.segments_of("n2")] == ["第一条", "第二条"]
    # a record that names a document without its text is kept (listed, dated), with no passages
    n4 = knowledge_base.document("n4")
    assert n4["title"] == "汕头经济特区突发公共卫生事件应急条例" and n4["metadata"]["text_missing"] is True
    assert knowledge_base.segments_of("n4") == []


def test_reingesting_the_seed_does_not_duplicate_it(tmp_path: Path, knowledge_base: KnowledgeBase) -> None:
    first = ingest_paths(knowledge_base, [SEED])
    counts = knowledge_base.store.counts()
    second = ingest_paths(knowledge_base, [SEED])
    assert [r.outcome for r in first.results] == ["added"] and [r.outcome for r in second.results] == ["unchanged"]
    assert knowledge_base.store.counts() == counts


def test_a_large_record_file_reports_what_it_has_stored_batch_by_batch(tmp_path: Path,
                                                                       knowledge_base: KnowledgeBase) -> None:
    """One JSONL file of thousands of laws is one "file": progress must also count stored records."""
    from ingest.pipeline import BATCH_DOCUMENTS

    count = BATCH_DOCUMENTS + 3
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"r{i}", "title": f"第{i}号通知",
                                          "text": f"关于第{i}项补贴的通知。申请人向财政局提出申请，编号{i}。"},
                                         ensure_ascii=False) for i in range(count)), encoding="utf-8")
    heard: list[tuple[int, int]] = []
    report = ingest_paths(knowledge_base, [path], on_stored=lambda documents, chars: heard.append((documents, chars)))
    assert [documents for documents, _ in heard] == [BATCH_DOCUMENTS, count]
    assert heard[-1][1] == report.characters and heard[0][1] < heard[-1][1]


def test_a_second_record_with_the_same_id_is_refused_and_the_first_kept(tmp_path: Path,
                                                                        knowledge_base: KnowledgeBase) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "n1", "title": "稳岗返还通知", "text": NOTICE},
        {"id": "n2", "title": "另一个通知", "text": "关于高龄津贴发放的通知\n\n一、八十周岁以上老人每月领取高龄津贴。"},
        {"id": "n1", "title": "同一编号的另一条", "text": "关于创业补贴的通知\n\n一、首次创业的可以申请一次性创业补贴。"},
    ]), encoding="utf-8")
    report = ingest_paths(knowledge_base, [path])
    assert [(Path(f.source).name, f.code) for f in report.failures] == [("records.jsonl:3", "duplicate_id")]
    assert "line 1" in report.failures[0].reason
    assert knowledge_base.document("n1")["title"] == "稳岗返还通知"
    assert sorted(d["doc_id"] for d in knowledge_base.documents()) == ["n1", "n2"]


@pytest.mark.parametrize("text,kind", [(12345, "a number"), (["第一条", "第二条"], "a list"), ({"a": 1}, "an object"),
                                       (True, "true/false")])
def test_a_record_whose_text_is_not_a_string_is_refused_not_stored_empty(
        tmp_path: Path, knowledge_base: KnowledgeBase, text: object, kind: str) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(json.dumps({"id": "bad", "title": "有标题的记录", "text": text}, ensure_ascii=False),
                    encoding="utf-8")
    report = ingest_paths(knowledge_base, [path])
    assert [(f.code, f.reason) for f in report.failures] == [("invalid_record", f"field 'text' must be a string, not {kind}")]
    assert knowledge_base.documents() == []
