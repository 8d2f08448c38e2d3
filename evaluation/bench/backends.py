"""The same questions over the same knowledge base on several backends, side by side.

``python -m evaluation.bench.backends --kb var/kb --kb var/kb-on-milvus [--questions FILE]``

Each ``--kb`` is a knowledge base directory (a copy migrated to Milvus with ``policykb
migrate``, say); the first is the reference. For each: ``KnowledgeBase.search`` latency per
mode (top 10, every question ``--rounds`` times, on one BLAS thread as the service answers),
and how much of each question's hybrid top 10 is the reference's (1.0: the same passages).
Prints a table; ``--out FILE`` also writes JSON with the machine and versions.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from evaluation.bench.machine import git_commit, machine, shown_path, versions
from evaluation.bench.questions import load_questions
from evaluation.bench.search import TOP_K, _agreement, policykb_search
from kb import KnowledgeBase


def _describe(knowledge_base: KnowledgeBase) -> str:
    if knowledge_base.backend["backend"] != "milvus":
        return "sqlite"
    version = knowledge_base.searcher.server_version()  # type: ignore[union-attr]
    return f"milvus {version or '(no GetVersion: Milvus Lite 2.5)'}"


def measure(kb_dirs: list[Path], questions: list[str], rounds: int) -> dict[str, Any]:
    """Latency per mode and top-10 agreement with the first knowledge base, for each."""
    reference: list[list[str]] | None = None
    results = []
    for kb_dir in kb_dirs:
        knowledge_base = KnowledgeBase(kb_dir)
        try:
            with threadpool_limits(limits=1):
                knowledge_base.search(questions[0], top_k=TOP_K)  # load and warm up outside the samples
                tops = [[hit.segment_id for hit in knowledge_base.search(q, top_k=TOP_K).hits] for q in questions]
                figures = policykb_search(knowledge_base, questions, rounds)
            if reference is None:
                reference = tops
            agreement = sum(_agreement(theirs, ours) if theirs or ours else 1.0
                            for ours, theirs in zip(reference, tops)) / len(questions)
            results.append({"kb": shown_path(kb_dir), "backend": _describe(knowledge_base),
                            "passages": knowledge_base.stats()["segments"], "search": figures,
                            "top10_agreement_with_first": round(agreement, 4)})
        finally:
            knowledge_base.close()
    return {"machine": machine(), "versions": versions(), "commit": git_commit(), "questions": len(questions),
            "rounds": rounds, "backends": results}


def render(result: dict[str, Any]) -> str:
    lines = [f"{result['questions']} questions x {result['rounds']} rounds, top {TOP_K}",
             f"{'backend':32s} {'passages':>9s} {'hybrid p50/p99 ms':>18s} {'bm25 p50/p99':>14s} "
             f"{'dense p50/p99':>14s} {'same top 10':>11s}"]
    for entry in result["backends"]:
        cells = [f"{entry['search'][m]['p50_ms']:.1f}/{entry['search'][m]['p99_ms']:.1f}" for m in ("hybrid", "bm25", "dense")]
        lines.append(f"{entry['backend'][:32]:32s} {entry['passages']:>9,} {cells[0]:>18s} {cells[1]:>14s} "
                     f"{cells[2]:>14s} {entry['top10_agreement_with_first']:>11.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", dest="kb_dirs", type=Path, action="append", required=True,
                        help="A knowledge base directory (repeat; the first is the reference).")
    parser.add_argument("--questions", type=Path, default=None, help="queries.jsonl or {\"question\"} lines.")
    parser.add_argument("--limit", type=int, default=100, help="Ask at most this many questions.")
    parser.add_argument("--rounds", type=int, default=1, help="Ask every question this many times.")
    parser.add_argument("--out", type=Path, default=None, help="Also write the figures as JSON here.")
    options = parser.parse_args(argv)
    result = measure(options.kb_dirs, load_questions(options.questions, options.limit), options.rounds)
    print(render(result))
    if options.out is not None:
        options.out.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
