"""The loop closed end to end: questions asked over HTTP, passages confirmed, exported by
`policykb feedback export`, then accepted by `policykb train --pairs` and `policykb eval run --set`
on the same real knowledge base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from evaluation import load_set
from kb import Document, KnowledgeBase
from policykb.cli import cli
from policykb.feedback_command import SPLIT_RULE, feedback_split
from service import ServiceSettings, create_app

PHONE = "13812345678"
#: (question as asked, verdict, segment confirmed); the masked form of the last is exported.
JUDGED = [
    ("退休了公积金能取出来吗", "correct_passage", "housing-fund#a2"),
    ("失业保险金怎么领", "correct_passage", "unemployment#a1"),
    ("失业保险金怎么领", "correct_passage", "unemployment#a2"),
    ("没签劳动合同能要二倍工资吗", "correct_passage", "labour#a2"),
    ("单位不给交社保怎么办", "correct_passage", "social-insurance#a3"),
    ("个体户去哪里登记", "helpful", None),
    ("个体户去哪里登记", "not_helpful", None),
    (f"我手机{PHONE}，公积金买房能提取吗", "correct_passage", "housing-fund#a1"),
]
MASKED = "我手机[手机号]，公积金买房能提取吗"


@pytest.fixture
def kb_with_feedback(tmp_path: Path, policy_documents: list[Document]) -> Path:
    kb_dir = tmp_path / "kb"
    knowledge_base = KnowledgeBase(kb_dir, create=True)
    try:
        knowledge_base.add_documents(policy_documents)
        knowledge_base.build()
    finally:
        knowledge_base.close()
    with TestClient(create_app(ServiceSettings(kb_dir=kb_dir))) as client:
        for question, verdict, segment_id in JUDGED:
            answer = client.post("/v1/ask", json={"question": question, "channel": "console"})
            assert answer.status_code == 200, answer.text
            body = {"query_id": answer.json()["query_id"], "verdict": verdict}
            if segment_id:
                body["segment_id"] = segment_id
            response = client.post("/v1/feedback", json=body)
            assert response.status_code == 201, response.text
    return kb_dir


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_confirmed_passages_become_pairs_that_train_accepts_and_a_set_that_eval_reads(
        kb_with_feedback: Path, tmp_path: Path) -> None:
    kb = str(kb_with_feedback)
    pairs_file, set_dir = tmp_path / "pairs.jsonl", tmp_path / "set"
    output = run("feedback", "export", "--kb", kb, "--pairs", str(pairs_file), "--set", str(set_dir))
    assert "6 confirmed passages for 5 questions" in output

    pairs = [json.loads(line) for line in pairs_file.read_text(encoding="utf-8").splitlines()]
    expected = [{"question": MASKED if PHONE in q else q, "segment_id": s}
                for q, verdict, s in JUDGED if verdict == "correct_passage"]
    assert sorted(pairs, key=str) == sorted(expected, key=str)
    assert PHONE not in pairs_file.read_text(encoding="utf-8")

    trained = run("train", "--kb", kb, "--pairs", str(pairs_file))
    assert "6 pairs stored, 0 name unknown segments, 0 invalid" in trained
    assert "generation-000002" in trained

    question_set = load_set(set_dir)
    assert {q.text: dict(q.relevant) for q in question_set.questions}["失业保险金怎么领"] == {
        "unemployment#a1": 1, "unemployment#a2": 1}
    assert all(q.split == feedback_split(q.text) for q in question_set.questions)
    assert {q.split for q in question_set.questions} == {"train", "test"}
    assert all(q.metadata["split_rule"] == SPLIT_RULE and q.metadata["channels"] == ["console"]
               for q in question_set.questions)
    report = json.loads(run("eval", "run", "--kb", kb, "--set", str(set_dir), "--split", "test", "--configs",
                            "bm25,hybrid", "--out", str(tmp_path / "report"), "--cache", str(tmp_path / "cache"),
                            "--json"))
    assert set(report["metrics"]) == {"bm25", "hybrid"}
    assert 0 < report["metrics"]["hybrid"]["R@10"] <= 1


def test_a_split_keeps_train_and_test_questions_apart(kb_with_feedback: Path, tmp_path: Path) -> None:
    kb = str(kb_with_feedback)
    run("feedback", "export", "--kb", kb, "--pairs", str(tmp_path / "train.jsonl"), "--split", "train")
    run("feedback", "export", "--kb", kb, "--set", str(tmp_path / "test"), "--split", "test")
    trained = {json.loads(line)["question"] for line in (tmp_path / "train.jsonl").read_text("utf-8").splitlines()}
    tested = {q.text for q in load_set(tmp_path / "test").questions}
    assert trained and tested and trained.isdisjoint(tested)
    assert tested == {q for q, verdict, _ in JUDGED if verdict == "correct_passage" and feedback_split(q) == "test"}


def test_passages_gone_from_the_knowledge_base_are_skipped_and_counted(kb_with_feedback: Path,
                                                                       tmp_path: Path) -> None:
    knowledge_base = KnowledgeBase(kb_with_feedback)
    knowledge_base.delete_document("unemployment")
    knowledge_base.close()
    output = run("feedback", "export", "--kb", str(kb_with_feedback), "--pairs", str(tmp_path / "p.jsonl"))
    assert "4 confirmed passages for 4 questions; 2 skipped" in output


def test_export_refuses_clearly(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["feedback", "export", "--kb", str(tmp_path)])
    assert result.exit_code == 2 and "--pairs FILE, --set DIR or both" in result.output
    result = CliRunner().invoke(cli, ["feedback", "export", "--kb", str(tmp_path), "--pairs", str(tmp_path / "p")])
    assert result.exit_code == 1 and "activity.sqlite does not exist" in result.output
    assert not (tmp_path / "activity.sqlite").exists()
