"""A large record file parsed in worker processes gives the same documents and failures, in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest import records
from ingest.records import FieldMap, read_records

LAW = ("第一章 总则\n第一条 为了规范住房公积金管理，维护住房公积金所有者的合法权益，制定本条例。\n"
       "第二条 本条例适用于中华人民共和国境内住房公积金的缴存、提取、使用、管理和监督。\n"
       "第二章 缴存\n第三条 职工个人缴存的住房公积金和职工所在单位为职工缴存的住房公积金，属于职工个人所有。\n"
       "本条例自2002年3月24日起施行。原《住房公积金管理办法》（国发〔1999〕12号）同时废止。\n")


def _lines(count: int) -> list[str]:
    lines = []
    for i in range(count):
        if i % 97 == 5:
            lines.append("{not json")
        elif i % 89 == 7:
            lines.append(json.dumps({"id": f"law-{i - 1}", "title": "重复编号", "text": LAW}, ensure_ascii=False))
        elif i % 83 == 3:
            lines.append(json.dumps({"id": f"law-{i}", "text": 12}, ensure_ascii=False))
        elif i % 79 == 2:
            lines.append(json.dumps({"id": f"law-{i}", "title": "只有标题"}, ensure_ascii=False))
        else:
            lines.append(json.dumps({"id": f"law-{i}", "title": f"住房公积金管理条例（{i}）", "text": LAW * (1 + i % 3),
                                     "expired": i % 11 == 0}, ensure_ascii=False))
    return lines


@pytest.fixture
def large_file(tmp_path: Path) -> Path:
    path = tmp_path / "laws.jsonl"
    lines = _lines(600)
    while len("\n".join(lines).encode("utf-8")) < records.PARALLEL_BYTES:
        lines = lines + lines[:50]  # repeated ids: duplicates, reported by line, in order
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_workers_give_what_one_process_gives(large_file: Path) -> None:
    one = list(read_records(large_file, FieldMap(), workers=1))
    two = list(read_records(large_file, FieldMap(), workers=2))
    assert two == one
    kinds = {type(item).__name__ for item in one}
    assert kinds == {"Document", "Failure"}
    assert {f.code for f in one if type(f).__name__ == "Failure"} >= {"duplicate_id", "invalid_record", "invalid"}


def test_a_worker_that_fails_on_a_record_reports_it(large_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = records.record_document

    def flaky(record, fields, where):
        if record.get("id") == "law-10":
            raise RuntimeError("parser defect")
        return original(record, fields, where)

    monkeypatch.setattr(records, "record_document", flaky)
    items = list(read_records(large_file, FieldMap(), workers=2))
    failures = [item for item in items if type(item).__name__ == "Failure" and "parser defect" in item.reason]
    lines = large_file.read_text(encoding="utf-8").splitlines()
    expected = [str(number) for number, line in enumerate(lines, start=1) if '"id": "law-10"' in line]
    assert [f.source.rsplit(":", 1)[-1] for f in failures] == expected
    assert items == list(read_records(large_file, FieldMap(), workers=1))
