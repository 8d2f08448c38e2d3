"""Ingest throughput benchmark: the whole pipeline, phase by phase, against plain jieba on the same text.

    python -m policykb.bench_ingest --kb /tmp/bench-kb \\
        corpus ../shared/corpus/laws/laws.jsonl \\
        --covid ../shared/corpus/covid-policy/docs.jsonl --faq ../shared/corpus/taipei-faq/faq.jsonl \\
        --out /tmp/bench-ingest.json

It ingests into a fresh knowledge base as ``policykb ingest`` does, builds the index (a fresh
knowledge base trains its own embedding model), and prints the seconds of each phase, the
total, and the documents, segments, versions found, superseded and expired counts and peak
memory. The named peer is jieba's ``lcut`` alone over the very characters stored, on one core
and on ``--workers`` processes: the cost of tokenising with nothing else done. ``--out``
writes the same figures as JSON with the machine, versions and commit.

Phases are timed by wrapping the functions that do them (nothing is timed inside the library):
a phase's seconds are wall-clock seconds in the process that waits for it, so the tokenising
phase includes its worker processes, and "read, clean, parse, segment" is what storing took
besides tokenising and writing.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import os
import platform
import resource
import shutil
import subprocess
import time
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import jieba

import kb.index as kb_index
from ingest import FieldMap, ingest_paths
from kb import KnowledgeBase
from kb.bm25 import BM25Index
from kb.store import Store

try:
    from kb import dense_index
except ImportError:  # a version without a dense search structure
    dense_index = None  # type: ignore[assignment]

#: (phase, what it covers) in the order they run; "read" and "index files" are remainders.
PHASES = {
    "read": "read, clean, parse, segment (storing less tokenising and writing)",
    "tokenise": "jieba terms of every passage (worker processes)",
    "write": "SQLite writes, one transaction per document",
    "versions": "versions, supersession and expiry from the documents' dates",
    "bm25": "BM25 matrix",
    "training": "training the knowledge base's embedding model",
    "embedding": "embedding every passage (and the vector cache)",
    "dense_index": "the dense search structure over the vectors, where the build makes one",
    "index_files": "index rows, files, checksums, fsync, switch (building less the above)",
}


class PhaseClock:
    """Seconds spent in wrapped functions, by phase; a call inside a timed call counts once."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._depth = 0

    def wrap(self, owner: Any, names: str | tuple[str, ...], phase: str) -> None:
        """Time the first of ``names`` that ``owner`` has (functions are renamed as the code moves on)."""
        name = next((n for n in ((names,) if isinstance(names, str) else names) if hasattr(owner, n)), None)
        if name is None:
            return
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return original(*args, **kwargs)
            self._depth += 1
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self._depth -= 1
                self.seconds[phase] = self.seconds.get(phase, 0.0) + time.perf_counter() - started

        setattr(owner, name, timed)

    def get(self, phase: str) -> float:
        return self.seconds.get(phase, 0.0)


def _lcut_all(texts: list[str]) -> int:
    tokenizer = _peer_tokenizer()
    for text in texts:
        tokenizer.lcut(text)
    return sum(map(len, texts))


@functools.cache
def _peer_tokenizer() -> jieba.Tokenizer:
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def peer_seconds(texts: list[str], processes: int) -> float:
    """Seconds for jieba's ``lcut`` over ``texts`` on one core, or on ``processes`` forked ones."""
    _peer_tokenizer()  # the dictionary is loaded before the clock starts (and before forking)
    started = time.perf_counter()
    if processes <= 1:
        _lcut_all(texts)
    else:
        chunks = [texts[i::processes * 8] for i in range(processes * 8)]
        with get_context("fork").Pool(processes) as pool:
            pool.map(_lcut_all, chunks)
    return time.perf_counter() - started


def _sample(texts: list[str], limit: int) -> list[str]:
    """Every n-th text, so that about ``limit`` characters are kept (all of them for 0)."""
    total = sum(map(len, texts))
    if not limit or total <= limit:
        return texts
    step = max(1, round(total / limit))
    return texts[::step]


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True, cwd=Path(__file__).parent).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Ingest and build with every phase timed, then time the peer; the figures as a dict."""
    shutil.rmtree(args.kb, ignore_errors=True)
    clock = PhaseClock()
    texts: list[str] = []
    clock.wrap(KnowledgeBase, "tokenize_texts", "tokenise")
    clock.wrap(Store, "put_document", "write")
    clock.wrap(Store, "add_alias", "write")
    clock.wrap(KnowledgeBase, "resolve_versions", "versions")
    clock.wrap(BM25Index, "build", "bm25")
    clock.wrap(kb_index, "train_kb_model", "training")
    clock.wrap(kb_index, ("embed_rows", "_embed"), "embedding")
    if dense_index is not None:
        clock.wrap(dense_index.DenseIndex, "build", "dense_index")
    original_add = KnowledgeBase.add_documents

    def add_documents(self: KnowledgeBase, documents: Any, **kwargs: Any) -> Any:
        texts.extend(document.text for document in documents)
        return original_add(self, documents, **kwargs)

    KnowledgeBase.add_documents = add_documents  # type: ignore[method-assign]

    knowledge_base = KnowledgeBase(args.kb, create=True)
    started = time.perf_counter()
    reports = [ingest_paths(knowledge_base, args.paths, workers=args.workers)]
    if args.covid:
        reports.append(ingest_paths(knowledge_base, [args.covid], fields=FieldMap(id_field="docid"),
                                    workers=args.workers))
    if args.faq:
        reports.append(ingest_paths(knowledge_base, [args.faq], faq=True, workers=args.workers))
    stored = time.perf_counter() - started
    before_build = dict(clock.seconds)
    build_started = time.perf_counter()
    manifest = knowledge_base.build(workers=args.workers)
    built = time.perf_counter() - build_started
    total = time.perf_counter() - started
    KnowledgeBase.add_documents = original_add  # type: ignore[method-assign]

    phases = {
        "read": stored - before_build.get("tokenise", 0.0) - before_build.get("write", 0.0),
        "tokenise": clock.get("tokenise"),
        "write": clock.get("write"),
        "versions": clock.get("versions"),
        "bm25": clock.get("bm25"),
        "training": clock.get("training"),
        "embedding": clock.get("embedding"),
        "dense_index": clock.get("dense_index"),
    }
    build_phases = sum(clock.get(p) for p in ("versions", "bm25", "training", "embedding", "dense_index"))
    build_phases += clock.get("tokenise") - before_build.get("tokenise", 0.0)  # re-tokenising at build
    phases["index_files"] = built - build_phases

    characters = sum(r.characters for r in reports)
    sample = _sample([t for t in texts if t], args.peer_chars)
    sampled = sum(map(len, sample))
    scale = characters / sampled if sampled else 0.0
    peer_one = peer_seconds(sample, 1) * scale
    peer_many = peer_seconds(sample, args.workers) * scale
    store = knowledge_base.store
    statuses = dict(store.db.execute("SELECT status, count(*) FROM documents GROUP BY status").fetchall())
    versioned = store.db.execute("SELECT count(*) FROM documents WHERE superseded_by IS NOT NULL").fetchone()[0]
    return {
        "commit": _commit(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "jieba": jieba.__version__, "load_average_before": None},
        "workers": args.workers,
        "characters": characters,
        "documents": store.counts()["documents"],
        "segments": manifest["counts"]["segments"],
        "failed": sum(len(r.failures) for r in reports),
        "duplicates": sum(r.count("duplicate") for r in reports),
        "phases_seconds": {name: round(value, 3) for name, value in phases.items()},
        "store_seconds": round(stored, 1),
        "build_seconds": round(built, 1),
        "total_seconds": round(total, 1),
        "target_seconds": 120,
        "store_chars_per_s": round(characters / stored),
        "total_chars_per_s": round(characters / total),
        "peer": {"name": "jieba.lcut over the stored characters", "sampled_characters": sampled,
                 "one_core_seconds": round(peer_one, 3), f"{args.workers}_processes_seconds": round(peer_many, 3),
                 "one_core_chars_per_s": round(characters / peer_one) if peer_one else None},
        "total_vs_peer_one_core": round(total / peer_one, 2) if peer_one else None,
        "older_versions_linked": versioned,
        "statuses": statuses,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def table(figures: dict[str, Any]) -> str:
    """The phases and the total beside the peer, as aligned text."""
    peer = figures["peer"]
    many = next(v for k, v in peer.items() if k.endswith("_processes_seconds"))
    lines = [f"{figures['characters']:,} characters, {figures['documents']:,} documents, "
             f"{figures['segments']:,} passages, {figures['workers']} workers (commit {figures['commit']})",
             f"{'phase':<12} {'seconds':>8}  what"]
    for name, seconds in figures["phases_seconds"].items():
        lines.append(f"{name:<12} {seconds:>8.1f}  {PHASES[name]}")
    lines += [f"{'store':<12} {figures['store_seconds']:>8.1f}",
              f"{'build':<12} {figures['build_seconds']:>8.1f}",
              f"{'total':<12} {figures['total_seconds']:>8.1f}  target {figures['target_seconds']} s",
              f"{'peer':<12} {peer['one_core_seconds']:>8.1f}  jieba.lcut, same characters, one core "
              f"(total = {figures['total_vs_peer_one_core']}x)",
              f"{'peer':<12} {many:>8.1f}  jieba.lcut, same characters, {figures['workers']} processes"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="files and folders ingested with default fields")
    parser.add_argument("--kb", required=True, type=Path, help="a scratch directory (emptied first)")
    parser.add_argument("--covid", type=Path, help="the epidemic notices (ingested with --id-field docid)")
    parser.add_argument("--faq", type=Path, help="a FAQ file (ingested as FAQ items)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--peer-chars", type=int, default=0,
                        help="time the peer on about this many characters and scale up (0: all of them)")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    jieba.setLogLevel(logging.WARNING)
    load = os.getloadavg()[0]
    figures = run(args)
    figures["machine"]["load_average_before"] = round(load, 2)
    print(table(figures))
    if args.out:
        args.out.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
