"""Runs call the service's own search, go deeper than its 50-passage limit unchanged, and write TREC files."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation import PASSAGE, Question, UnknownConfiguration, parse_configurations, read_trec, write_trec
from evaluation.runs import Configuration, run_search
from kb import MAX_TOP_K, KnowledgeBase

QUESTIONS = ["住房公积金怎么提取", "失业保险金领取", "创业担保贷款补贴咋申请啊", "租房补贴"]


def _questions(texts: list[str]) -> list[Question]:
    return [Question(f"q{i}", text, PASSAGE, {"x#a1": 1}) for i, text in enumerate(texts)]


def test_configuration_names() -> None:
    parsed = parse_configurations("baseline, bm25,dense,hybrid,hybrid-weighted,hybrid-rrf,hybrid-rrf20")
    assert [(c.mode, c.fusion, c.rrf_k) for c in parsed] == [
        ("baseline", None, None), ("bm25", None, None), ("dense", None, None), ("hybrid", None, None),
        ("hybrid", "weighted", None), ("hybrid", "rrf", None), ("hybrid", "rrf", 20)]
    for bad in ("", "bm25-rrf20", "hybrid-weighted5", "sparse", "bm25,bm25"):
        with pytest.raises(UnknownConfiguration):
            parse_configurations(bad)


@pytest.mark.parametrize("name", ["bm25", "dense", "hybrid", "hybrid-rrf", "hybrid-rrf10"])
def test_a_run_returns_exactly_what_the_service_returns(eval_kb: KnowledgeBase, name: str) -> None:
    (configuration,) = parse_configurations(name)
    run = run_search(eval_kb, _questions(QUESTIONS), configuration, top_k=10)
    for i, text in enumerate(QUESTIONS):
        expected = eval_kb.search(text, top_k=10, mode=configuration.mode, fusion=configuration.fusion,
                                  rrf_k=configuration.rrf_k)
        assert [r[0] for r in run.rankings[f"q{i}"].returned] == [h.segment_id for h in expected.hits]
        assert [r[2] for r in run.rankings[f"q{i}"].returned] == [h.score for h in expected.hits]


@pytest.mark.parametrize("mode", ["bm25", "hybrid"])
def test_a_deeper_run_only_extends_the_service_list(eval_kb: KnowledgeBase, mode: str) -> None:
    shallow = 20
    run = run_search(eval_kb, _questions(["补贴申请办法"]), Configuration(mode, mode), top_k=70)
    returned = run.rankings["q0"].returned
    assert shallow < len(returned) <= 70 <= MAX_TOP_K
    service = eval_kb.search("补贴申请办法", top_k=shallow, mode=mode)
    assert [r[0] for r in returned[:shallow]] == [h.segment_id for h in service.hits]
    assert "old-rules#a1" not in {r[0] for r in returned}  # the default status filter holds at any depth


def test_a_question_the_service_refuses_is_recorded_not_fatal(eval_kb: KnowledgeBase) -> None:
    run = run_search(eval_kb, _questions(["   ", "你好", "公积金"]), Configuration("bm25", "bm25"), top_k=5)
    assert run.rankings["q0"].error and run.rankings["q0"].returned == []
    assert run.rankings["q1"].reason == "no_searchable_terms"
    assert run.rankings["q2"].returned


def test_trec_run_files(eval_kb: KnowledgeBase, tmp_path: Path) -> None:
    run = run_search(eval_kb, _questions(QUESTIONS), Configuration("hybrid-rrf", "hybrid", "rrf"), top_k=8)
    path = write_trec(run, tmp_path / "runs" / "hybrid-rrf.trec")
    lines = path.read_text(encoding="utf-8").splitlines()
    first = lines[0].split()
    assert len(first) == 6 and first[0] == "q0" and first[1] == "Q0" and first[3] == "1" and first[5] == "hybrid-rrf"
    back = read_trec(path)
    for qid, ranking in run.rankings.items():
        assert [sid for sid, _ in back[qid]] == [r[0] for r in ranking.returned]
        ranks = [int(line.split()[3]) for line in lines if line.split()[0] == qid]
        assert ranks == list(range(1, len(ranking.returned) + 1))
