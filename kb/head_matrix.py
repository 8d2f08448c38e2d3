"""Every passage head's pretrained vector in one memory-mapped matrix beside the index.

The learned ranker reads the head vectors (``kb.rerank``) of each question's 150 or so
candidates, and the head scan re-scores its first 60 from them. Read from SQLite — a blob a
row, joined to its segment to check it still matches the text — that cost 2-4 ms a question
over the full corpus, a tenth of a search. After each build the stored vectors are written
here as one float32 matrix (``head_vectors-<digest>.npy``, 238 MB over the full corpus) that
searches map into memory: worker processes share one copy in the page cache, and a row costs
microseconds.

The matrix is a snapshot of the build, as the index is: a passage re-ingested with new text
keeps the vector of the text the index was built from until the next build, whose BM25 and
dense vectors are of that text too. Its rows follow the ids it was written with, named by a
digest (``kb.head_scan.order_digest``); an index in that order reads it as it is, another
(an incremental build's) aligns it once when loading. The file is named with its digest and
the small ``head_vectors.json`` that names it is replaced after it, so a build stopped halfway
leaves the previous pair readable; where none matches, vectors are read from the store.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kb.head_scan import order_digest, rows_by_id

log = logging.getLogger(__name__)

MATRIX_INDEX_FILE = "head_vectors.json"
MATRIX_PREFIX = "head_vectors-"


def write_head_matrix(kb_dir: Path, encoder: str, segment_ids: Sequence[str], vectors: np.ndarray) -> int:
    """Save ``vectors`` (one row per id of ``segment_ids``) made by ``encoder``; returns how many
    rows (0, and no matrix, without any).

    A write that fails (a full disk) leaves no matrix at all, so searches read the store rather
    than an older build's vectors, and does not fail the build: the index it follows is
    already in place. It is logged and 0 returned."""
    index_file = kb_dir / MATRIX_INDEX_FILE
    if not len(segment_ids):
        index_file.unlink(missing_ok=True)
        _remove_matrices(kb_dir, keep=None)
        return 0
    digest = order_digest(segment_ids)
    name, ids_name = f"{MATRIX_PREFIX}{digest[:16]}.npy", f"{MATRIX_PREFIX}{digest[:16]}.ids.npy"
    try:
        _save_replacing(kb_dir / name, np.ascontiguousarray(vectors, dtype=np.float32))
        _save_replacing(kb_dir / ids_name, np.array(list(segment_ids)))
        scratch = index_file.with_suffix(".building")
        scratch.write_text(json.dumps({"encoder": encoder, "order": digest, "rows": len(segment_ids),
                                       "dim": int(vectors.shape[1]), "file": name, "ids": ids_name}),
                           encoding="utf-8")
        scratch.replace(index_file)
    except OSError as error:
        log.warning("the head vectors' matrix could not be written (%s): searches read them from the store", error)
        index_file.unlink(missing_ok=True)
        index_file.with_suffix(".building").unlink(missing_ok=True)
        _remove_matrices(kb_dir, keep=None)
        return 0
    _remove_matrices(kb_dir, keep={name, ids_name})
    return len(segment_ids)


def _save_replacing(path: Path, array: np.ndarray) -> None:
    scratch = path.with_name(f"{path.name}.building")
    try:
        with open(scratch, "wb") as handle:
            np.save(handle, array, allow_pickle=False)
        scratch.replace(path)
    finally:
        scratch.unlink(missing_ok=True)


def _remove_matrices(kb_dir: Path, keep: set[str] | None) -> None:
    for path in kb_dir.glob(f"{MATRIX_PREFIX}*"):
        if keep is None or path.name not in keep:
            path.unlink(missing_ok=True)


class HeadMatrix:
    """The head vectors of one index's passages: ``vectors`` rows, and for each index position
    its row (-1: no vector written for it; read from the store instead)."""

    def __init__(self, vectors: np.ndarray, rows: np.ndarray | None) -> None:
        self.vectors = vectors
        self._rows = rows  # None: row i is position i

    @classmethod
    def load(cls, kb_dir: Path, segment_ids: Sequence[str], encoder: str, *,
             order: str | None = None) -> HeadMatrix | None:
        """The matrix of ``kb_dir`` for an index of ``segment_ids``, or None: none written, one of
        another encoder, or a file that cannot be read (the next build writes it again).
        ``order`` is ``order_digest(segment_ids)`` where the caller has worked it out already."""
        index_file = kb_dir / MATRIX_INDEX_FILE
        if not index_file.is_file():
            return None
        try:
            meta = json.loads(index_file.read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                raise ValueError("not an object")
            if meta.get("encoder") != encoder:
                log.info("%s was written for another encoder: head vectors come from the store", index_file)
                return None
            # a plain array over the mapping: np.memmap's own slicing costs microseconds a call
            vectors = np.load(kb_dir / meta["file"], mmap_mode="r", allow_pickle=False).view(np.ndarray)
            if vectors.ndim != 2 or vectors.shape != (meta["rows"], meta["dim"]):
                raise ValueError(f"shape {vectors.shape}, expected ({meta['rows']}, {meta['dim']})")
            if meta["order"] == (order or order_digest(segment_ids)):
                return cls(vectors, None)
            written = np.load(kb_dir / meta["ids"], allow_pickle=False).tolist()
        except (OSError, ValueError, KeyError, TypeError) as error:
            log.warning("%s cannot be read (%s): head vectors come from the store", index_file, error)
            return None
        if len(written) != len(vectors):
            log.warning("%s names %d ids for %d rows: head vectors come from the store", index_file,
                        len(written), len(vectors))
            return None
        return cls(vectors, rows_by_id(written, segment_ids))

    def vectors_at(self, positions: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """(vectors, found): the rows of the index ``positions`` and which of them the matrix
        holds (a zero row where it does not)."""
        at = np.asarray(positions, dtype=np.int64)
        rows = at if self._rows is None else self._rows[at]
        found = rows >= 0
        out = np.zeros((len(at), self.vectors.shape[1]), dtype=np.float32)
        out[found] = self.vectors[rows[found]]
        return out, found
