"""The plain baseline is rank-bm25's BM25Okapi (defaults) over plain jieba tokens, ranked like the search."""

from __future__ import annotations

from pathlib import Path

import jieba
import numpy as np
from rank_bm25 import BM25Okapi

from evaluation import PlainBM25Baseline
from evaluation.baseline import PlainTokenizer
from kb import KnowledgeBase
from tests.conftest import ARTICLES

ROWS = [(f"{doc_id}#a{i}", doc_id, "expired" if doc_id.startswith("old-") else "in_force", f"{title} 第{i}条 {text}")
        for doc_id, (title, articles) in ARTICLES.items() for i, text in enumerate(articles, start=1)]
QUESTIONS = ["公积金怎么提取？", "失业了能领失业保险金吗", "我想开个体户要去哪登记", "住房公积金 住房公积金"]


def test_tokens_are_plain_jieba_accurate_mode_without_whitespace() -> None:
    text = "住房公积金管理条例 第一条 职工可以提取住房公积金。"
    assert PlainTokenizer()(text) == [t for t in jieba.lcut(text) if t.strip()]
    assert "？" in PlainTokenizer()("公积金怎么提取？")  # no stopwords, no punctuation filter: plain


def test_scores_equal_rank_bm25_defaults() -> None:
    baseline = PlainBM25Baseline.from_texts(ROWS)
    tokenizer = PlainTokenizer()
    reference = BM25Okapi([tokenizer(text) for *_, text in ROWS])  # k1 1.5, b 0.75, epsilon 0.25
    for question in QUESTIONS:
        np.testing.assert_allclose(baseline.scores(question), reference.get_scores(tokenizer(question)),
                                   rtol=1e-5, atol=1e-5)


def test_search_ranks_allowed_positive_scores_with_ties_by_id() -> None:
    baseline = PlainBM25Baseline.from_texts(ROWS)
    found = baseline.search("住房公积金提取", top_k=5)
    scores = [score for _, _, score in found]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert found[0][1] == "housing-fund"
    assert all(doc != "old-housing-fund" for _, doc, _ in found)
    assert any(doc == "old-housing-fund" for _, doc, _ in baseline.search("住房公积金提取", 20, ("in_force", "expired")))
    tied = PlainBM25Baseline.from_texts([("b#1", "b", "in_force", "补贴"), ("a#1", "a", "in_force", "补贴"),
                                         ("c#1", "c", "in_force", "其他"), ("d#1", "d", "in_force", "别的"),
                                         ("e#1", "e", "in_force", "无关")])
    assert [sid for sid, _, _ in tied.search("补贴", 5)] == ["a#1", "b#1"]
    assert baseline.search("！？", 5) == []


def test_built_over_the_kb_segments_and_cached(eval_kb: KnowledgeBase, tmp_path: Path) -> None:
    first = PlainBM25Baseline.for_kb(eval_kb, tmp_path)
    assert first.segment_ids == eval_kb.searcher.index.segment_ids
    cached = list(tmp_path.glob("baseline-*"))
    assert len(cached) == 1 and (cached[0] / "baseline_segments.json").exists()
    again = PlainBM25Baseline.for_kb(eval_kb, tmp_path)
    np.testing.assert_array_equal(again.scores("住房公积金提取"), first.scores("住房公积金提取"))
    assert again.search("住房公积金提取", 3) == first.search("住房公积金提取", 3)
