"""Ingest throughput benchmark: the whole pipeline against plain jieba on the same text.

    python -m policykb.bench_ingest --kb /tmp/bench-kb \\
        corpus ../shared/corpus/laws/laws.jsonl \\
        --covid ../shared/corpus/covid-policy/docs.jsonl --faq ../shared/corpus/taipei-faq/faq.jsonl

It ingests into a fresh knowledge base, builds the index, and prints characters per
second for storing (read, clean, parse, segment, tokenise on ``--workers`` processes,
write) and for the whole job, the documents, segments, versions found, superseded and
expired counts, and peak memory. The named peer is jieba's ``lcut`` alone over the same
characters on one core: the cost of tokenising with nothing else done.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import shutil
import time
from pathlib import Path

import jieba

from ingest import FieldMap, ingest_paths
from kb import KnowledgeBase


def _peer_chars_per_second(paths: list[Path], sample_chars: int) -> float:
    """jieba.lcut over (a sample of) the same record texts, one core."""
    texts, total = [], 0
    for path in paths:
        if path.suffix != ".jsonl":
            continue
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                text = record.get("text") or ""
                texts.append(text)
                total += len(text)
                if total >= sample_chars:
                    break
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    started = time.perf_counter()
    for text in texts:
        tokenizer.lcut(text)
    return total / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="files and folders ingested with default fields")
    parser.add_argument("--kb", required=True, type=Path, help="a scratch directory (emptied first)")
    parser.add_argument("--covid", type=Path, help="the epidemic notices (ingested with --id-field docid)")
    parser.add_argument("--faq", type=Path, help="a FAQ file (ingested as FAQ items)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--peer-chars", type=int, default=2_000_000)
    args = parser.parse_args()
    jieba.setLogLevel(logging.WARNING)
    shutil.rmtree(args.kb, ignore_errors=True)

    knowledge_base = KnowledgeBase(args.kb, create=True)
    started = time.perf_counter()
    reports = [ingest_paths(knowledge_base, args.paths, workers=args.workers)]
    if args.covid:
        reports.append(ingest_paths(knowledge_base, [args.covid], fields=FieldMap(id_field="docid"),
                                    workers=args.workers))
    if args.faq:
        reports.append(ingest_paths(knowledge_base, [args.faq], faq=True, workers=args.workers))
    stored = time.perf_counter() - started
    manifest = knowledge_base.build(workers=args.workers)
    total = time.perf_counter() - started
    characters = sum(r.characters for r in reports)
    statuses = dict(knowledge_base.store.db.execute("SELECT status, count(*) FROM documents GROUP BY status").fetchall())
    versioned = knowledge_base.store.db.execute(
        "SELECT count(*) FROM documents WHERE superseded_by IS NOT NULL").fetchone()[0]
    figures = {
        "characters": characters,
        "documents": knowledge_base.store.counts()["documents"],
        "segments": manifest["counts"]["segments"],
        "failed": sum(len(r.failures) for r in reports),
        "duplicates": sum(r.count("duplicate") for r in reports),
        "store_seconds": round(stored, 1),
        "build_seconds": manifest["build_seconds"],
        "total_seconds": round(total, 1),
        "store_chars_per_s": round(characters / stored),
        "total_chars_per_s": round(characters / total),
        "older_versions_linked": versioned,
        "statuses": statuses,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peer_jieba_lcut_chars_per_s_one_core": round(_peer_chars_per_second(args.paths, args.peer_chars)),
    }
    print(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
