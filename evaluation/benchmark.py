"""Search latency benchmark against a named peer, rank-bm25's ``BM25Okapi.get_scores``.

Run over a built knowledge base with a JSONL question file (``{"question": ...}`` or
``{"id", "question"}`` lines)::

    python -m evaluation.benchmark --kb var/kb --questions ../shared/corpus/stard/questions.jsonl

It prints latency percentiles and throughput of ``KnowledgeBase.search`` in each mode, and
of the peer scoring the same segment terms (on fewer questions, because the peer takes
about a second per question over the full law corpus), plus peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

import numpy as np

from kb import KnowledgeBase


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = np.asarray(sorted(samples_ms))
    return {
        "p50_ms": round(float(np.percentile(ordered, 50)), 2),
        "p95_ms": round(float(np.percentile(ordered, 95)), 2),
        "p99_ms": round(float(np.percentile(ordered, 99)), 2),
        "mean_ms": round(statistics.fmean(ordered), 2),
        "questions_per_s": round(1000 / statistics.fmean(ordered), 1),
    }


def _load_questions(path: Path, limit: int) -> list[str]:
    questions = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                item = json.loads(line)
                questions.append(item.get("question") or item.get("text"))
            if len(questions) >= limit:
                break
    return questions


def run(kb_dir: Path, questions: list[str], peer_questions: int) -> dict[str, object]:
    started = time.perf_counter()
    knowledge_base = KnowledgeBase(kb_dir)
    searcher = knowledge_base.searcher
    load_seconds = time.perf_counter() - started
    knowledge_base.search(questions[0])  # warm caches
    report: dict[str, object] = {"kb_dir": str(kb_dir), "segments": searcher.index.bm25.document_count,
                                 "questions": len(questions), "load_s": round(load_seconds, 2)}
    for mode in ("bm25", "dense", "hybrid"):
        samples = []
        for question in questions:
            begin = time.perf_counter()
            knowledge_base.search(question, top_k=10, mode=mode)
            samples.append((time.perf_counter() - begin) * 1000)
        report[f"policykb_{mode}"] = _percentiles(samples)

    from rank_bm25 import BM25Okapi

    rows = knowledge_base.store.index_rows()
    corpus = [row.terms.split(" ") if row.terms else [] for row in rows]
    params = knowledge_base.settings.bm25
    begin = time.perf_counter()
    peer = BM25Okapi(corpus, k1=params.k1, b=params.b, epsilon=params.epsilon)
    report["peer_index_s"] = round(time.perf_counter() - begin, 2)
    samples, ours = [], []
    for question in questions[:peer_questions]:
        terms = knowledge_base.tokenizer.tokenize_query(question)
        begin = time.perf_counter()
        peer.get_scores(terms)
        samples.append((time.perf_counter() - begin) * 1000)
        begin = time.perf_counter()
        searcher.index.bm25.scores(terms)
        ours.append((time.perf_counter() - begin) * 1000)
    report["peer_rank_bm25_get_scores"] = _percentiles(samples)
    report["policykb_bm25_scores_only"] = _percentiles(ours)
    report["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", required=True, type=Path)
    parser.add_argument("--questions", required=True, type=Path)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--peer-questions", type=int, default=20)
    args = parser.parse_args()
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    report = run(args.kb, _load_questions(args.questions, args.limit), args.peer_questions)
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
