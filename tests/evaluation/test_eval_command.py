"""`policykb eval`: convert the shared sets' shapes, run configurations, write runs and reports, fail cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb import KnowledgeBase
from policykb.cli import cli


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture()
def question_set(tmp_path: Path) -> Path:
    stard = _jsonl(tmp_path / "stard.jsonl", [
        {"query_id": qid, "question": question, "relevant": [{"article": article, "lawrefbook_id": doc}],
         "answer": f"您好，关于{question}，按规定办理。"}
        for qid, question, article, doc in [(0, "住房公积金怎么提取", "第三条", "topic-1"),
                                            (4, "失业保险补缴", "第五条", "topic-2"),
                                            (1, "创业担保贷款补贴", "第一条", "topic-6")]])
    result = CliRunner().invoke(cli, ["eval", "convert-stard", "--source", str(stard), "--out", str(tmp_path / "set")])
    assert result.exit_code == 0, result.output
    assert "test: 2 questions" in result.output and "query_id % 4 == 0" in result.output
    return tmp_path / "set"


def test_run_writes_runs_and_reports_and_prints_the_table(eval_kb: KnowledgeBase, question_set: Path,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, ["eval", "run", "--kb", str(eval_kb.kb_dir), "--set", str(question_set / "test"),
                                      "--configs", "baseline,bm25,hybrid-rrf20", "--top-k", "60", "--out", str(out),
                                      "--cache", str(tmp_path / "cache")])
    assert result.exit_code == 0, result.output
    assert "MRR@10" in result.output and "Recall@100" in result.output
    assert "bm25 vs baseline: MRR@10" in result.output
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["baseline.trec", "bm25.trec", "hybrid-rrf20.trec"]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["set"]["questions"] == 2 and report["kb"]["manifest_sha256"]
    assert report["configurations"][2] == {**report["configurations"][2], "mode": "hybrid", "fusion": "rrf",
                                           "rrf_k": 20}
    assert report["metrics"]["bm25"]["R@1"] == 1.0
    assert (out / "report.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_split_filter_and_json_output(eval_kb: KnowledgeBase, question_set: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "run", "--kb", str(eval_kb.kb_dir), "--set", str(question_set),
                                      "--split", "train", "--configs", "bm25", "--top-k", "5", "--json",
                                      "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert set(printed["metrics"]) == {"bm25"} and printed["comparisons"] == []
    assert json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))["set"]["questions"] == 1


@pytest.mark.parametrize("arguments,message", [
    (["--configs", "bm25,sparse"], "unknown configuration 'sparse'"),
    (["--split", "dev"], "no question of"),
    (["--configs", "bm25", "--reference", "dense"], "'dense' is not among the configurations run"),
])
def test_mistakes_are_one_clean_line(eval_kb: KnowledgeBase, question_set: Path, tmp_path: Path,
                                     arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["eval", "run", "--kb", str(eval_kb.kb_dir), "--set", str(question_set),
                                      "--out", str(tmp_path / "r"), *arguments])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_a_missing_knowledge_base_is_a_clean_error(question_set: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "run", "--kb", str(tmp_path / "nokb"), "--set", str(question_set),
                                      "--out", str(tmp_path / "r")])
    assert result.exit_code == 1 and "is not a knowledge base" in result.output


def test_convert_covid_keeps_splits(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "questions.jsonl", [
        {"id": "1", "docid": "d", "question": "问", "answer": "答", "answer_span": [0, 1], "split": "local_dev"}])
    result = CliRunner().invoke(cli, ["eval", "convert-covid", "--source", str(source), "--out", str(tmp_path / "o"),
                                      "--gold", "document"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "local_dev" / "qrels.tsv").exists() and "document gold" in result.output


def test_pairs_turn_a_train_split_into_confirmed_answers(eval_kb: KnowledgeBase, question_set: Path,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "pairs.jsonl"
    result = CliRunner().invoke(cli, ["eval", "pairs", "--kb", str(eval_kb.kb_dir), "--set", str(question_set),
                                      "--split", "train", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == [
        {"question": "创业担保贷款补贴", "segment_id": "topic-6#a1"}]  # passage gold: its segment, as given
    result = CliRunner().invoke(cli, ["eval", "pairs", "--kb", str(eval_kb.kb_dir), "--set", str(question_set),
                                      "--split", "train", "--with-reference-answers", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == [
        {"question": "创业担保贷款补贴", "segment_id": "topic-6#a1"},
        {"question": "关于创业担保贷款补贴，按规定办理。", "segment_id": "topic-6#a1"}]  # greeting dropped

    answers = _jsonl(tmp_path / "answers.jsonl", [
        {"id": "1", "question": "公积金怎么取", "docid": "topic-1", "answer": "办理住房公积金 提取的", "split": "t"},
        {"id": "2", "question": "没有的答案", "docid": "topic-1", "answer": "不存在的句子", "split": "t"},
        {"id": "3", "question": "不在库里", "docid": "missing", "answer": "办理", "split": "t"},
        {"id": "4", "question": "别的划分", "docid": "topic-1", "answer": "办理", "split": "test"}])
    result = CliRunner().invoke(cli, ["eval", "pairs", "--kb", str(eval_kb.kb_dir), "--set", str(answers),
                                      "--split", "t", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == [
        {"question": "公积金怎么取", "segment_id": "topic-1#a3"}]  # the passage holding the answer, spaces ignored
    assert "1 pairs from 3 questions; skipped: 2 answer in no single passage" in result.output


def test_every_eval_command_has_help_with_an_example() -> None:
    for command in ("convert-stard", "convert-covid", "run", "pairs"):
        result = CliRunner().invoke(cli, ["eval", command, "--help"])
        assert result.exit_code == 0 and "policykb eval" in result.output
