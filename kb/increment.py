"""The next generation as the last full build plus the documents changed since (``kb.delta``).

``build_increment`` compares the store with the full build the current generation rests on
(its ``documents.json``: which documents, and which stored version of each), indexes only
the passages of documents added or changed since, masks the base passages they replace or
that deleted documents leave, and publishes the result as a new generation exactly as a full
build does (scratch directory, manifest last, fsync, atomic ``CURRENT`` switch). It declines
(returns None, and the caller builds in full) whenever the result would not be what a full
build gives up to BM25 statistics: another tokenizer, settings or set of training pairs, a
base without the files it needs, or more changed than ``MAX_DELTA_SHARE`` of the base.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from kb.bm25 import BM25Index
from kb.delta import BASE_DIR, DELTA_DIR, LIVE_FILE, VALIDITY_FILE
from kb.dense_index import DenseIndex
from kb.embedding import load_model
from kb.index import (DOCUMENTS_FILE, FORMAT_VERSION, MANIFEST, SEGMENT_DOC_FILE, IndexSettings, Progress,
                      current_generation, embed_rows, file_checksums, new_scratch, publish, write_segments)
from kb.store import Store
from kb.tokenize import PolicyTokenizer

log = logging.getLogger(__name__)

#: Past this share of the base's passages (added plus replaced), a full build runs instead.
MAX_DELTA_SHARE = 0.05


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)


def _base_of(kb_dir: Path) -> Path | None:
    """The directory of the full build the current generation is, or rests on."""
    current = current_generation(kb_dir)
    if current is None or not (current / MANIFEST).exists():
        return None
    if _read_json(current / MANIFEST).get("base") is not None:
        return current / BASE_DIR
    return current


def build_increment(kb_dir: Path, store: Store, settings: IndexSettings, *,
                    progress: Progress | None = None) -> dict[str, Any] | None:
    """Publish base + delta as the next generation and return its manifest; None when a full
    build is needed instead (see the module docstring)."""
    progress = progress or (lambda message: log.info(message))
    started = time.time()
    base_dir = _base_of(kb_dir)
    if base_dir is None or not (base_dir / DOCUMENTS_FILE).exists():
        return None
    base = _read_json(base_dir / MANIFEST)
    tokenizer = PolicyTokenizer(settings.tokenizer)
    if (base.get("format_version") != FORMAT_VERSION or base.get("settings") != settings.as_dict()
            or base.get("tokenizer_fingerprint") != tokenizer.fingerprint
            or base.get("pairs") != len(store.training_pairs())
            or (settings.dense and not base.get("embedding"))):
        return None
    base_bm25 = BM25Index.load(base_dir)
    if base_bm25.average_length is None:
        return None
    built_from = _read_json(base_dir / DOCUMENTS_FILE)
    versions = dict(zip(built_from["doc_ids"], built_from["versions"]))
    now = store.document_versions()
    changed = sorted(doc_id for doc_id, version in now.items() if versions.get(doc_id) != version)
    replaced = set(changed) | (versions.keys() - now.keys())
    segment_doc = np.load(base_dir / SEGMENT_DOC_FILE, allow_pickle=False)
    live = ~np.isin(segment_doc, [i for i, doc_id in enumerate(built_from["doc_ids"]) if doc_id in replaced])
    rows = store.index_rows(doc_ids=changed)
    if len(rows) + int((~live).sum()) > MAX_DELTA_SHARE * base_bm25.document_count:
        return None
    progress(f"indexing {len(changed):,} changed documents ({len(rows):,} segments) beside the last full build")

    scratch = new_scratch(kb_dir)
    (scratch / BASE_DIR).mkdir()
    (scratch / DELTA_DIR).mkdir()
    base_files = [*base["files"], MANIFEST]
    for name in base_files:
        (scratch / BASE_DIR / name).parent.mkdir(parents=True, exist_ok=True)
        _link_or_copy(base_dir / name, scratch / BASE_DIR / name)
    checksums = {f"{BASE_DIR}/{name}": checksum for name, checksum in base["files"].items()}
    files = [f"{DELTA_DIR}/{name}" for name in write_segments(scratch / DELTA_DIR, rows)]
    if rows:
        corpus = [row.terms.split(" ") if row.terms else [] for row in rows]
        files += [f"{DELTA_DIR}/{name}" for name in
                  BM25Index.build(corpus, reference=base_bm25).save(scratch / DELTA_DIR)]
        if base.get("embedding"):
            model_ref = base["embedding"]["model"]
            model = load_model(str(kb_dir / model_ref) if (kb_dir / model_ref).exists() else model_ref)
            vectors = embed_rows(store, model, rows, corpus, progress)
            files += [f"{DELTA_DIR}/{name}" for name in DenseIndex(vectors).save(scratch / DELTA_DIR)]
    np.save(scratch / LIVE_FILE, live, allow_pickle=False)
    (scratch / VALIDITY_FILE).write_text(json.dumps(store.document_validity(), ensure_ascii=False),
                                         encoding="utf-8")
    files += [LIVE_FILE, VALIDITY_FILE, f"{BASE_DIR}/{MANIFEST}"]
    checksums.update(file_checksums(scratch, files))
    manifest = {
        "format_version": FORMAT_VERSION,
        "generation": scratch.name.removesuffix(".building"),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": None,
        "data_version": store.data_version(),
        "base": {"generation": base["generation"], "segments": base_bm25.document_count},
        "delta": {"documents": len(changed), "segments": len(rows), "removed_documents": len(replaced) - len(changed),
                  "replaced_segments": int((~live).sum())},
        "counts": {"segments": int(live.sum()) + len(rows), "documents": len(now),
                   "terms": base["counts"]["terms"]},
        "corpus_checksum": store.corpus_checksum(),
        "settings": base["settings"],
        "tokenizer_fingerprint": base["tokenizer_fingerprint"],
        "embedding": base.get("embedding"),
        "pairs": base["pairs"],
        "files": checksums,
    }
    manifest["build_seconds"] = round(time.time() - started, 3)
    publish(kb_dir, scratch, manifest, [*[f"{BASE_DIR}/{name}" for name in base["files"]], *files])
    return manifest
