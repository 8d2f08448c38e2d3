"""One benchmark run: the parts asked for, over a private copy of the knowledge base.

The knowledge base named is never written: the run copies it (``workspace.copy_kb``) into a
temporary folder and serves the copy. ``policykb ask`` is timed on a small knowledge base
(``small_kb``, or one ingested from the bundled ``corpus/`` in that folder).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evaluation.bench.errors import BenchError
from evaluation.bench.http import CONCURRENCY, run_http
from evaluation.bench.machine import REPO, git_commit, machine, shown_path, versions
from evaluation.bench.questions import load_questions
from evaluation.bench.search import run_search
from evaluation.bench.startup import ask_from_shell, index_switch, serve_to_ready
from evaluation.bench.workspace import copy_kb

PARTS = ("search", "http", "startup", "ask")
BUNDLED_CORPUS = REPO / "corpus"


@dataclass(frozen=True)
class BenchOptions:
    """What to measure and how long; the defaults are the figures kept in the repository."""

    kb_dir: Path
    questions: Path | None = None
    only: tuple[str, ...] = PARTS
    limit: int = 300
    rounds: int = 3
    peer_questions: int = 10
    http_questions: int = 50
    duration_s: float = 10.0
    repeats: int = 3
    concurrency: tuple[int, ...] = CONCURRENCY
    workers: int = 1
    launches: int = 3
    small_kb: Path | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.only) - set(PARTS)
        if unknown or not self.only:
            raise BenchError(f"--only takes some of {', '.join(PARTS)}, not {', '.join(sorted(unknown)) or 'nothing'}")


def _small_kb(options: BenchOptions, work_dir: Path) -> Path:
    if options.small_kb is not None:
        return options.small_kb
    target = work_dir / "small-kb"
    done = subprocess.run([sys.executable, "-m", "policykb", "ingest", str(BUNDLED_CORPUS), "--kb", str(target)],
                          cwd=REPO, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise BenchError(f"could not ingest the bundled corpus for the ask figure: {done.stderr.strip()[-300:]}")
    return target


def run_bench(options: BenchOptions, progress: Any = None) -> dict[str, Any]:
    """Measure the parts in ``options.only``; return the result document (not yet written)."""
    say = progress or (lambda message: None)
    if not (options.kb_dir / "kb.sqlite").is_file():
        raise BenchError(f"{options.kb_dir} is not a knowledge base (no kb.sqlite)")
    questions = load_questions(options.questions, options.limit)
    result: dict[str, Any] = {
        "measured_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "git": git_commit(),
        "machine": machine(), "versions": versions(), "kb_dir": shown_path(options.kb_dir),
        "questions_file": shown_path(options.questions) if options.questions else "evaluation/sets/hotline/queries.jsonl",
        "questions": len(questions), "parts": list(options.only), "notes": dict(options.notes),
    }
    with tempfile.TemporaryDirectory(prefix="policykb-bench-") as scratch:
        work_dir = Path(scratch)
        started = time.perf_counter()
        kb_copy = copy_kb(options.kb_dir, work_dir / "kb")
        result["copy_s"] = round(time.perf_counter() - started, 2)
        if "search" in options.only:
            say(f"search in process: {len(questions)} questions x {options.rounds} rounds, peers")
            result["search"] = run_search(kb_copy, questions, rounds=options.rounds,
                                          peer_questions=options.peer_questions)
        if "http" in options.only:
            say(f"HTTP: concurrency {options.concurrency}, {options.duration_s:g} s x {options.repeats}, "
                f"{options.workers} worker(s)")
            result["http"] = run_http(kb_copy, questions[:options.http_questions], work_dir,
                                      workers=options.workers, duration_s=options.duration_s,
                                      repeats=options.repeats, concurrency=options.concurrency)
        if "startup" in options.only:
            say(f"start-up: {options.launches} launches, an index switch under questions")
            result["startup"] = {**serve_to_ready(kb_copy, work_dir, launches=options.launches,
                                                  workers=options.workers),
                                 "index_switch": index_switch(kb_copy, questions, work_dir, workers=options.workers)}
        if "ask" in options.only:
            small = _small_kb(options, work_dir)
            say(f"policykb ask from the shell on {small}")
            result["ask_cli"] = ask_from_shell(small, questions[0], runs=options.launches)
    return result
