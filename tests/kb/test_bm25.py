"""The sparse-matrix BM25 must give rank-bm25's BM25Okapi scores exactly (to float32 precision)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from kb import BM25Index, BM25Parameters, PolicyTokenizer
from tests.conftest import ARTICLES


def _assert_parity(corpus: list[list[str]], queries: list[list[str]], params: BM25Parameters) -> None:
    reference = BM25Okapi(corpus, k1=params.k1, b=params.b, epsilon=params.epsilon)
    index = BM25Index.build(corpus, params)
    for query in queries:
        expected = reference.get_scores(query)
        np.testing.assert_allclose(index.scores(query), expected, rtol=1e-5, atol=1e-5)


def test_parity_on_chinese_policy_text() -> None:
    tokenizer = PolicyTokenizer()
    corpus = [tokenizer.tokenize(article) for _, articles in ARTICLES.values() for article in articles]
    queries = [tokenizer.tokenize_query(q) for q in ["公积金怎么提取？", "失业了能领失业保险金吗", "个体工商户 登记 登记"]]
    _assert_parity(corpus, queries, BM25Parameters())


@pytest.mark.parametrize("k1,b", [(1.2, 0.75), (1.5, 0.9), (0.9, 0.4)])
def test_parity_on_random_corpus_with_negative_idf_terms(k1: float, b: float) -> None:
    rng = random.Random(7)
    vocabulary = [f"t{i}" for i in range(60)]
    # "common" appears in every document: its raw IDF is negative and must be floored as rank-bm25 does.
    corpus = [[rng.choice(vocabulary) for _ in range(rng.randint(1, 40))] + ["common"] for _ in range(80)]
    queries = [[rng.choice(vocabulary) for _ in range(rng.randint(1, 6))] + ["common", "unknown"] for _ in range(20)]
    queries.append(["t1", "t1", "t1"])  # repeated query terms count again
    _assert_parity(corpus, queries, BM25Parameters(k1=k1, b=b))


def test_unknown_terms_score_zero_and_index_round_trips(tmp_path) -> None:
    index = BM25Index.build([["社保", "缴费"], ["公积金", "提取"], ["社保", "转移"]])
    assert not index.scores(["不存在"]).any()
    index.save(tmp_path)
    loaded = BM25Index.load(tmp_path)
    np.testing.assert_array_equal(loaded.scores(["社保"]), index.scores(["社保"]))
    assert loaded.vocabulary == index.vocabulary


def test_saved_arrays_load_memory_mapped_and_score_the_same(tmp_path) -> None:
    rng = random.Random(3)
    vocabulary = [f"t{i}" for i in range(40)]
    corpus = [[rng.choice(vocabulary) for _ in range(rng.randint(1, 30))] for _ in range(120)]
    built = BM25Index.build(corpus)
    files = built.save(tmp_path)
    assert all((tmp_path / name).is_file() for name in files)
    loaded = BM25Index.load(tmp_path)
    assert loaded.document_count == 120 and loaded.vocabulary == built.vocabulary
    assert np.array_equal(loaded.document_frequency, built.document_frequency)
    for query in (["t1", "t2"], ["t3", "t3", "missing"], []):
        np.testing.assert_array_equal(loaded.scores(query), built.scores(query))
    np.testing.assert_array_equal(loaded.matrix.toarray(), built.matrix.toarray())


def test_a_generation_saved_as_one_matrix_file_still_loads(tmp_path) -> None:
    """Generations built before the arrays were kept apart hold ``bm25_matrix.npz``."""
    import json

    from scipy import sparse

    from kb.bm25 import MATRIX_FILE, VOCAB_FILE

    corpus = [["社保", "补缴"], ["公积金", "提取", "提取"], ["社保", "公积金"]]
    built = BM25Index.build(corpus)
    sparse.save_npz(tmp_path / MATRIX_FILE, built.matrix, compressed=False)
    (tmp_path / VOCAB_FILE).write_text(json.dumps({"parameters": built.parameters.as_dict(),
                                                   "vocabulary": built.vocabulary}), encoding="utf-8")
    loaded = BM25Index.load(tmp_path)
    np.testing.assert_array_equal(loaded.scores(["公积金", "提取"]), built.scores(["公积金", "提取"]))


def test_passages_added_to_an_index_score_as_they_would_in_it() -> None:
    """``build(reference=...)`` weighs new passages with the reference's IDF and average
    length: a term's score in a passage is what it would be had the passage been indexed
    with the others (IDF moved only by the passages added)."""
    rng = random.Random(5)
    vocabulary = [f"t{i}" for i in range(30)]
    corpus = [[rng.choice(vocabulary) for _ in range(rng.randint(3, 25))] for _ in range(200)]
    base = BM25Index.build(corpus)
    added = [["t1", "t2", "t2", "新词"], ["t3"]]
    delta = BM25Index.build(added, reference=base)
    assert delta.document_count == 2 and delta.average_length == base.average_length
    together = BM25Index.build(corpus + added)
    # IDF over 202 passages with the added document frequencies, as in the joint index;
    # the length norm uses the reference's average (the joint one moved by two passages)
    np.testing.assert_allclose(delta.scores(["t2"]), together.scores(["t2"])[200:], rtol=0.02)
    assert delta.scores(["新词"])[0] > 0 and delta.scores(["新词"])[1] == 0


@pytest.mark.parametrize("k1,b", [(1.2, 0.75), (1.5, 0.9)])
def test_a_passage_handed_over_by_its_terms_scores_what_the_index_gives_it(k1: float, b: float) -> None:
    # kb.milvus re-scores the candidates a server returns from their terms alone
    from kb.bm25 import PassageScorer

    rng = random.Random(7)
    vocabulary = [f"t{i}" for i in range(40)] + ["common"] * 8  # "common" in most passages: IDF floored
    corpus = [[rng.choice(vocabulary) for _ in range(rng.randint(1, 30))] for _ in range(200)]
    index = BM25Index.build(corpus, BM25Parameters(k1=k1, b=b))
    scorer = PassageScorer(index)
    query, extra, weights = ["t1", "t2", "t2", "common", "unknown"], {"t3": 0.4, "t1": 0.2}, {"t2": 0.5}
    expected = index.scores(query, extra, weights)
    weighted = scorer.query(query, extra, weights)
    assert "unknown" not in weighted
    np.testing.assert_allclose([scorer.score(passage, weighted) for passage in corpus], expected, rtol=1e-5, atol=1e-6)


def test_a_layered_index_scores_its_passages_with_the_base_statistics() -> None:
    from kb.bm25 import PassageScorer
    from kb.delta import LayeredBM25

    tokenizer = PolicyTokenizer()
    corpus = [tokenizer.tokenize(article) for _, articles in ARTICLES.values() for article in articles]
    base = BM25Index.build(corpus[:-2])
    layered = LayeredBM25(base, BM25Index.build(corpus[-2:], reference=base))
    scorer = PassageScorer(layered)
    query = tokenizer.tokenize_query("失业了能领失业保险金吗")
    expected = layered.scores(query)
    got = [scorer.score(passage, scorer.query(query)) for passage in corpus]
    np.testing.assert_allclose(got[-2:], expected[-2:], rtol=1e-5, atol=1e-6)  # the delta: IDF over both layers
    assert np.argmax(got) == np.argmax(expected)
