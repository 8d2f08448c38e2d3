"""Versions and validity on the real law corpus: 行政复议法 2017 and 2023, 上海市住宅物业管理规定."""

from __future__ import annotations

import json

from ingest import ingest_paths
from kb import KnowledgeBase, SearchFilters
from tests.conftest import shared_file

TITLES = {"中华人民共和国行政复议法", "上海市住宅物业管理规定", "中华人民共和国民法典"}


def test_the_current_version_answers_and_history_is_kept(tmp_path) -> None:
    laws = shared_file("laws/laws.jsonl")
    records = [line for line in laws.open(encoding="utf-8") if json.loads(line)["title"] in TITLES]
    # newest first, so the order of ingestion cannot be what decides
    records.sort(key=lambda line: json.loads(line)["version_date"] or "", reverse=True)
    subset = tmp_path / "laws.jsonl"
    subset.write_text("".join(records), encoding="utf-8")
    knowledge_base = KnowledgeBase(tmp_path / "kb", create=True)
    report = ingest_paths(knowledge_base, [subset])
    assert report.failures == []
    knowledge_base.build()

    old, new = "lawrefbook:9626891e9a3a", "lawrefbook:7fb0391723fa"  # 行政复议法 2017, 2023
    assert knowledge_base.document(old)["status"] == "superseded"
    assert knowledge_base.document(old)["superseded_by"] == new
    assert knowledge_base.document(new)["status"] == "in_force"
    assert knowledge_base.document("lawrefbook:d3f1f67c4ecb")["status"] == "superseded"
    civil_parts = [d for d in knowledge_base.documents(limit=100) if d["title"] == "中华人民共和国民法典"]
    assert len(civil_parts) > 1 and {d["status"] for d in civil_parts} == {"in_force"}

    question = "对行政机关的行政行为不服可以申请行政复议吗"
    today = {h.doc_id for h in knowledge_base.search(question, top_k=10).hits}
    assert new in today and old not in today
    in_2020 = {h.doc_id for h in knowledge_base.search(question, top_k=10, filters=SearchFilters(as_of="2020-06-01")).hits}
    assert old in in_2020 and new not in in_2020
