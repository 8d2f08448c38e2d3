"""In-process search latency beside its peers, alone (``policykb bench --only search`` does the
same inside the full benchmark, with the machine, versions and commit).

    python -m evaluation.benchmark --kb var/kb --questions ../shared/corpus/stard/questions.jsonl

Prints ``KnowledgeBase.search`` percentiles per mode, rank-bm25 and bm25s over the same
segment terms (top-10 agreement) and numpy's exact dense search (recall@10), as JSON. The
knowledge base is opened, not copied: it is only read.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
from pathlib import Path

from evaluation.bench.questions import load_questions
from evaluation.bench.search import run_search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kb", required=True, type=Path)
    parser.add_argument("--questions", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--peer-questions", type=int, default=20)
    args = parser.parse_args()
    import jieba

    jieba.setLogLevel(logging.WARNING)
    report = run_search(args.kb, load_questions(args.questions, args.limit), rounds=args.rounds,
                        peer_questions=args.peer_questions)
    report["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
