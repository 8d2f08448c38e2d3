"""An evaluation end to end on a small KB: judged metrics, unreachable gold, the worst questions, and a
self-contained HTML page that escapes everything that came from questions or documents."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from evaluation import (
    ANSWER,
    DOCUMENT,
    PASSAGE,
    EvaluationSettings,
    Question,
    QuestionSet,
    evaluate,
    parse_configurations,
    render_html,
    write_outputs,
)
from kb import KnowledgeBase

QUESTIONS = (
    Question("p1", "住房公积金提取要怎么办理", PASSAGE, {"topic-1#a3": 1}, part="queries.jsonl"),
    Question("p2", "<script>alert('q')</script>租房补贴", PASSAGE, {"old-rules#a1": 1}, part="queries.jsonl"),
    Question("p3", "不存在的条文", PASSAGE, {"nowhere#a9": 1}, part="queries.jsonl"),
    Question("d1", "失业保险补缴", DOCUMENT, {"topic-2": 1}, part="docs.jsonl"),
    Question("a1", "网页补贴发放", ANSWER, {"html-doc": 1}, answer="<b>加粗</b>补贴", part="answers.jsonl"),
    Question("a2", "医疗保险变更", ANSWER, {"topic-4": 1}, answer="第8项", part="answers.jsonl"),
)


@pytest.fixture(scope="module")
def evaluation(eval_kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory):
    question_set = QuestionSet("mixed", "memory", QUESTIONS)
    return evaluate(eval_kb, question_set, parse_configurations("baseline,bm25,hybrid"),
                    EvaluationSettings(top_k=60, worst=6), cache_dir=tmp_path_factory.mktemp("cache"))


def test_report_describes_configurations_index_and_metrics(evaluation, eval_kb: KnowledgeBase) -> None:
    report = evaluation.report
    manifest = eval_kb.searcher.index.directory / "manifest.json"
    assert report["kb"]["manifest_sha256"] == hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert report["kb"]["generation"] == eval_kb.searcher.index.generation
    assert [c["name"] for c in report["configurations"]] == ["baseline", "bm25", "hybrid"]
    assert report["settings"]["reference"] == "baseline" and report["settings"]["primary"] == "hybrid"
    assert set(report["metrics"]["bm25"]) == {"R@1", "R@5", "R@10", "R@100", "RR@10", "nDCG@10"}
    assert report["set"]["gold"] == {"passage": 3, "document": 1, "answer": 2}
    assert set(report["metrics_by_part"]) == {"queries.jsonl", "docs.jsonl", "answers.jsonl"}
    assert {row["configuration"] for row in report["comparisons"]} == {"bm25", "hybrid"}
    json.dumps(report)  # plain data all the way down


def test_answer_and_document_gold_are_judged(evaluation) -> None:
    per_question = evaluation.report["per_question"]
    assert per_question["p1"]["bm25"]["first_relevant"] == 1
    assert per_question["d1"]["bm25"]["first_relevant"] == 1
    assert per_question["a1"]["bm25"]["first_relevant"] == 1  # "<b>加粗</b>补贴" is in the html document's text
    assert per_question["a2"]["bm25"]["first_relevant"] is not None


def test_gold_that_cannot_be_returned_is_reported(evaluation) -> None:
    unreachable = {e["qid"]: e["why"] for e in evaluation.report["unreachable_gold"]["examples"]}
    assert unreachable == {"p2": "filtered by status", "p3": "not in the index"}
    assert all(v["R@100"] == 0 for v in evaluation.report["per_question"]["p3"].values())


def test_worst_questions_show_what_came_back_and_what_was_expected(evaluation) -> None:
    worst = {item["qid"]: item for item in evaluation.report["worst"]}
    assert worst["p3"]["expected"]["passages"] == [{"segment_id": "nowhere#a9", "missing": True}]
    returned = worst["p1"]["returned"][0]
    assert returned["title"] and returned["locator"].startswith("第") and "excerpt" in returned
    assert worst["a1"]["expected"]["answer"] == "<b>加粗</b>补贴"
    assert worst["a1"]["expected"]["passages"][0]["segment_id"] == "html-doc#a1"


def test_html_is_self_contained_and_escapes_user_text(evaluation, tmp_path: Path) -> None:
    written = write_outputs(evaluation, tmp_path)
    page = written["report.html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 2
    lowered = page.lower()
    assert "<script" not in lowered and "<img" not in lowered and "<b>加粗" not in page
    assert "&lt;script&gt;alert(" in page and "&lt;b&gt;加粗&lt;/b&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", lowered)
    assert "<link" not in lowered and "@import" not in lowered and "url(" not in lowered
    assert "MRR@10" in page and "Recall@100" in page and "p (randomisation)" in page
    report = json.loads(written["report.json"].read_text(encoding="utf-8"))
    assert report["configurations"][0]["run_file"] == "runs/baseline.trec"
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["baseline.trec", "bm25.trec", "hybrid.trec"]
    assert render_html(report) == page  # the page is a pure function of report.json


def test_an_answer_no_single_passage_holds_is_reported(eval_kb: KnowledgeBase, tmp_path: Path) -> None:
    # the answer runs from the end of 第一条 into 第二条 of topic-0: no passage can hold it
    spanning = Question("s", "社会保险补贴", ANSWER, {"topic-0": 1}, answer="第1项。 第二条 办理社会保险缴存")
    report = evaluate(eval_kb, QuestionSet("s", "memory", (spanning,)), parse_configurations("bm25"),
                      EvaluationSettings(top_k=10, worst=1)).report
    assert report["unreachable_gold"]["by_reason"] == {"answer spans more than one passage": 1}
    assert "answer spans more than one passage: 1" in render_html(report)
