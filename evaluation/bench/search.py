"""In-process search latency and its peers over the very same passages.

* ``KnowledgeBase.search`` in each mode (top_k 10), every question asked ``rounds`` times,
  on one BLAS thread as the service answers (``kb.threads``); the peers keep every thread.
* BM25: rank-bm25's ``BM25Okapi.get_scores`` (slow: a few questions) and bm25s' ``retrieve``
  top-10, both over the stored segment terms, with their top-10 agreement with policykb's
  own BM25 scores (same terms, no expansion or term weighting, so like is compared with like).
* Dense: numpy's exact ``vectors @ query`` + ``argpartition`` as the peer of the dense path,
  and recall@10 of the dense index's candidates against it (the index may be approximate).

A peer that is not installed is skipped with the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from evaluation.bench.stats import latency, over_runs
from kb import KnowledgeBase

MODES = ("hybrid", "bm25", "dense")
TOP_K = 10


def _timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = call()
    return value, (time.perf_counter() - started) * 1000


def _top(scores: np.ndarray, k: int = TOP_K) -> np.ndarray:
    """Positions of the ``k`` largest scores, best first (the numpy peer's whole algorithm)."""
    k = min(k, len(scores))
    part = np.argpartition(-scores, k - 1)[:k]
    return part[np.argsort(-scores[part], kind="stable")]


def _agreement(ours: list[str], theirs: list[str]) -> float:
    return len(set(ours) & set(theirs)) / max(1, min(TOP_K, len(ours)))


def policykb_search(knowledge_base: KnowledgeBase, questions: list[str], rounds: int) -> dict[str, Any]:
    """Latency of ``KnowledgeBase.search`` per mode: every sample, and p50/p99 per round."""
    report: dict[str, Any] = {}
    for mode in MODES:
        samples: list[float] = []
        per_round_p50, per_round_p99 = [], []
        for _ in range(rounds):
            this_round = [_timed(lambda q=q, m=mode: knowledge_base.search(q, top_k=TOP_K, mode=m))[1] for q in questions]
            samples += this_round
            per_round_p50.append(float(np.percentile(this_round, 50)))
            per_round_p99.append(float(np.percentile(this_round, 99)))
        report[mode] = {**latency(samples), "p50_over_rounds": over_runs(per_round_p50),
                        "p99_over_rounds": over_runs(per_round_p99)}
    return report


def bm25_peers(knowledge_base: KnowledgeBase, questions: list[str], peer_questions: int) -> dict[str, Any]:
    """rank-bm25 and bm25s over the stored segment terms, beside policykb's BM25 scoring."""
    index = knowledge_base.searcher.index
    rows = knowledge_base.store.index_rows()
    corpus = [row.terms.split(" ") if row.terms else [] for row in rows]
    row_ids = [row.segment_id for row in rows]
    params = knowledge_base.settings.bm25
    queries = [knowledge_base.tokenizer.tokenize_query(q) for q in questions]
    queries = [terms for terms in queries if terms]
    ours_top, ours_ms = [], []
    for terms in queries:
        scores, elapsed = _timed(lambda t=terms: index.bm25.scores(t))
        top, top_ms = _timed(lambda s=scores: _top(s))
        ours_top.append([index.segment_ids[i] for i in top if scores[i] > 0])
        ours_ms.append(elapsed + top_ms)
    report: dict[str, Any] = {"policykb_bm25_scores_top10": latency(ours_ms), "questions": len(queries)}
    report["rank_bm25"] = _rank_bm25(corpus, row_ids, params, queries[:peer_questions], ours_top)
    report["bm25s"] = _bm25s(corpus, row_ids, params, queries, ours_top)
    return report


def _rank_bm25(corpus: list[list[str]], row_ids: list[str], params: Any, queries: list[list[str]],
               ours_top: list[list[str]]) -> dict[str, Any]:
    try:
        from rank_bm25 import BM25Okapi
    except ImportError:
        return {"skipped": "rank-bm25 is not installed (pip install rank-bm25)"}
    peer, index_ms = _timed(lambda: BM25Okapi(corpus, k1=params.k1, b=params.b, epsilon=params.epsilon))
    samples, agreement = [], []
    for terms, ours in zip(queries, ours_top):
        scores, elapsed = _timed(lambda t=terms: peer.get_scores(t))
        samples.append(elapsed)
        agreement.append(_agreement(ours, [row_ids[i] for i in _top(np.asarray(scores)) if scores[i] > 0]))
    return {"what": "BM25Okapi.get_scores (all scores, no top-k)", "index_s": round(index_ms / 1000, 2),
            **latency(samples), "top10_agreement": round(float(np.mean(agreement)), 3) if agreement else None}


def _bm25s(corpus: list[list[str]], row_ids: list[str], params: Any, queries: list[list[str]],
           ours_top: list[list[str]]) -> dict[str, Any]:
    try:
        import bm25s
    except ImportError:
        return {"skipped": "bm25s is not installed (pip install bm25s; numba optional)"}
    try:
        import numba  # noqa: F401 - only to say which backend ran
        backend = "numba"
    except ImportError:
        backend = "numpy"
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each index build at DEBUG
    retriever = bm25s.BM25(k1=params.k1, b=params.b, backend=backend)
    _, index_ms = _timed(lambda: retriever.index(corpus, show_progress=False))
    vocabulary = retriever.vocab_dict
    samples, agreement = [], []
    for terms, ours in zip(queries, ours_top):
        known = [term for term in terms if term in vocabulary]
        if not known:
            continue
        (found, scores), elapsed = _timed(lambda t=known: retriever.retrieve([t], k=TOP_K, show_progress=False,
                                                                          n_threads=1))
        samples.append(elapsed)
        agreement.append(_agreement(ours, [row_ids[i] for i, s in zip(found[0], scores[0]) if s > 0]))
    return {"what": f"bm25s.BM25.retrieve top-{TOP_K} ({backend} backend, method lucene)",
            "index_s": round(index_ms / 1000, 2), **latency(samples),
            "top10_agreement": round(float(np.mean(agreement)), 3) if agreement else None}


def _passage_order_vectors(directory: Path) -> np.ndarray | None:
    """The generation's vectors with row i = passage i (undoing an inverted file's list order)."""
    path = directory / "embeddings.npy"
    if not path.exists():
        return None
    vectors = np.load(path, mmap_mode="r")
    ivf = directory / "dense_ivf.npz"
    if ivf.exists():
        with np.load(ivf, allow_pickle=False) as stored:
            if "order" in stored:
                ordered = np.empty_like(vectors)
                ordered[np.asarray(stored["order"])] = vectors
                return ordered
    return np.ascontiguousarray(vectors)


def dense_peer(knowledge_base: KnowledgeBase, questions: list[str]) -> dict[str, Any]:
    """numpy exact dense top-10 beside the dense index's own, with recall@10 against exact."""
    index = knowledge_base.searcher.index
    model, dense = index.model, getattr(index, "dense", None)
    vectors = _passage_order_vectors(index.directory)
    if model is None or vectors is None:
        return {"skipped": "the index has no dense part (no model or no embeddings.npy)"}
    exact_ms, ours_ms, recall = [], [], []
    for question in questions:
        terms = knowledge_base.tokenizer.tokenize_query(question)
        query = model.encode([model.prepare_query(question, terms)])[0].astype(vectors.dtype)
        if not np.any(query):
            continue
        exact, elapsed = _timed(lambda q=query: _top(vectors @ q))
        exact_ms.append(elapsed)
        if dense is None or not hasattr(dense, "candidates"):
            continue
        (positions, cosines), elapsed = _timed(lambda q=query: dense.candidates(q))
        ours = np.asarray(positions)[_top(np.asarray(cosines))]
        ours_ms.append(elapsed)
        recall.append(len(set(ours.tolist()) & set(exact.tolist())) / len(exact))
    report: dict[str, Any] = {"numpy_exact_matmul_argpartition": latency(exact_ms), "rows": int(len(vectors)),
                              "dimension": int(vectors.shape[1])}
    if ours_ms:
        report["policykb_dense_candidates"] = latency(ours_ms)
        report["recall_at_10_vs_exact"] = round(float(np.mean(recall)), 4)
    else:
        report["policykb_dense_candidates"] = {"skipped": "the loaded index has no dense.candidates to compare"}
    return report


def run_search(kb_dir: Path, questions: list[str], *, rounds: int, peer_questions: int) -> dict[str, Any]:
    """Every in-process figure over the knowledge base in ``kb_dir`` (opened read-only in effect)."""
    knowledge_base = KnowledgeBase(kb_dir)
    try:
        _, load_ms = _timed(knowledge_base.warm_up)
        knowledge_base.search(questions[0], top_k=TOP_K)  # first-question caches
        report: dict[str, Any] = {"segments": knowledge_base.searcher.index.bm25.document_count,
                                  "questions": len(questions), "rounds": rounds, "load_s": round(load_ms / 1000, 2)}
        with threadpool_limits(limits=1, user_api="blas"):  # as the service answers (kb.threads)
            report["policykb"] = policykb_search(knowledge_base, questions, rounds)
        report["blas_threads_for_policykb"] = 1
        report["bm25_peers"] = bm25_peers(knowledge_base, questions, peer_questions)
        report["dense_peer"] = dense_peer(knowledge_base, questions)
        return report
    finally:
        knowledge_base.close()
