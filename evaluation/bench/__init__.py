"""``policykb bench``: every speed figure of the project beside a peer measured in the same run.

One run measures what was asked for (``search``, ``http``, ``startup``, ``ask``), prints a
table and writes one JSON document with the machine, the versions and the git commit, so runs
kept under ``evaluation/bench/results/`` can be compared. Figures that depend on something not
installed (``wrk``, ``bm25s``, ``rank-bm25``) are skipped with the reason, never failed.
"""

from evaluation.bench.errors import BenchError
from evaluation.bench.run import PARTS, BenchOptions, run_bench

__all__ = ["PARTS", "BenchError", "BenchOptions", "run_bench"]
