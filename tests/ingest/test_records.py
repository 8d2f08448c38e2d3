"""CSV records: the same field mapping as JSONL, the same decoding as text files, bad rows reported."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from ingest import FieldMap, ingest_paths
from kb import KnowledgeBase

ROWS = [
    {"编号": "n1", "标题": "关于做好失业保险稳岗返还工作的通知", "正文": "一、返还条件\n\n（一）参保企业上年度未裁员的，可以申请稳岗返还。"
     "（责任部门：人社局）", "层级": "市级"},
    {"编号": "n2", "标题": "", "正文": "第一条 为了规范住房公积金管理，制定本条例。\n\n第二条 本条例适用于住房公积金的缴存、提取。",
     "层级": "国家"},
    {"编号": "", "标题": "没有编号", "正文": "这一行没有编号，应当报告而不是存入。", "层级": ""},
    {"编号": "n4", "标题": "没有正文", "正文": "", "层级": ""},
]
FIELDS = FieldMap(id_field="编号", title_field="标题", text_field="正文")


def _csv(rows: list[dict[str, str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), delimiter=delimiter)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8", ","), ("utf-8-sig", ","), ("gb18030", ","),
                                                     ("utf-16", "\t")])
def test_csv_records_in_every_encoding_excel_writes(encoding: str, delimiter: str, tmp_path: Path,
                                                    knowledge_base: KnowledgeBase) -> None:
    path = tmp_path / "notices.csv"
    path.write_bytes(_csv(ROWS, delimiter).encode(encoding))
    report = ingest_paths(knowledge_base, [path], fields=FIELDS)
    assert {Path(f.source).name: f.reason for f in report.failures} == {"notices.csv:8": "no id in field '编号'"}
    # a row with a title but no text names a document without its text: kept, with no passages
    assert knowledge_base.document("n4")["metadata"]["text_missing"] is True
    assert knowledge_base.segments_of("n4") == []
    n1, n2 = knowledge_base.document("n1"), knowledge_base.document("n2")
    assert n1["title"] == "关于做好失业保险稳岗返还工作的通知" and n1["metadata"] == {"层级": "市级"}
    assert n2["title"] == "第一条 为了规范住房公积金管理，制定本条例" and n2["source"].endswith("notices.csv:5")
    assert [(s["anchor"], s["departments"]) for s in knowledge_base.segments_of("n1")] == [("s1.1", ["人社局"])]


def test_a_csv_without_the_text_column_is_one_failure(tmp_path: Path, knowledge_base: KnowledgeBase) -> None:
    path = tmp_path / "other.csv"
    path.write_text("id,title,body\n1,标题,正文\n2,标题二,正文二\n", encoding="utf-8")
    report = ingest_paths(knowledge_base, [path])
    assert [(Path(f.source).name, f.reason) for f in report.failures] == [
        ("other.csv", "no column 'text' in the CSV header (columns: id, title, body)")]


def test_a_spreadsheet_saved_with_a_csv_name_is_refused(tmp_path: Path, knowledge_base: KnowledgeBase) -> None:
    import zipfile

    path = tmp_path / "faq.csv"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    report = ingest_paths(knowledge_base, [path])
    assert [f.code for f in report.failures] == ["unsupported_type"]
    assert report.failures[0].reason == "unsupported_type: named .csv but the content is an Excel workbook (.xlsx)"
