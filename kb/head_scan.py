"""Candidates the first stage misses, found by the adapted encoder over every passage head.

BM25 and the knowledge-base model find a passage only through the words it shares with the
question or their neighbours; "房东把房子卖了，新房东让我搬走" and the article on a lease
surviving a change of ownership share almost none. The query adapter (``kb.query_adapter``)
maps the question towards the passages that answer such questions, and every passage's head
vector is stored (``kb.rerank``): scanning them all adds the passages the encoder finds to the
learned ranker's candidates. Over the full corpus the gold was among the candidates for .786 →
.869 of the hotline-over-laws test questions and .732 → .817 of STARD's.

Scanning 155k vectors of 384 dimensions costs about 7 ms a question, more than the rest of a
search. The scan reads the heads in the adapter's 96 main directions (``basis``: 60 MB over the
full corpus, about 2 ms) and re-scores its first ``depth`` exactly from the stored vectors:
the first 60 of the approximate scan held 98.9% of the exact first 30. The projected matrix is
made after each build (:func:`write_head_scan`, a few seconds) into the knowledge base's folder,
named with the encoder and the basis it was made with, so a search never reads the store's
155k vectors.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kb.query_adapter import QueryAdapter
from kb.selection import largest

log = logging.getLogger(__name__)

SCAN_FILE = "head_scan.npz"
#: Passages the scan offers the ranker (the gold among the candidates over the full corpus,
#: hotline-over-laws test: 10 more .821, 20 .857, 30 .869, 50 .869).
DEFAULT_HEAD_CANDIDATES = 30
#: The approximate scan keeps this many times as many for exact re-scoring.
SCAN_DEPTH = 2


def basis_digest(adapter: QueryAdapter) -> str:
    assert adapter.basis is not None
    return hashlib.sha1(adapter.basis.tobytes()).hexdigest()[:12]


def order_digest(segment_ids: Sequence[str]) -> str:
    """Names a list of passages in its order: a scan made in an index's own order is read as it
    is (decoding and aligning 155k ids took a second, while the service answers)."""
    return hashlib.sha1("\n".join(segment_ids).encode("utf-8")).hexdigest()


def rows_by_id(written: Sequence[str], segment_ids: Sequence[str]) -> np.ndarray:
    """For each of ``segment_ids``, its row among the ``written`` ids (-1: not written): how a
    file made in one order of the passages is read by an index in another."""
    row_of = {segment_id: row for row, segment_id in enumerate(written)}
    return np.asarray([row_of.get(segment_id, -1) for segment_id in segment_ids], dtype=np.int64)


def write_head_scan(kb_dir: Path, ids: Sequence[str], vectors: np.ndarray, adapter: QueryAdapter) -> int:
    """Project the head vectors ``vectors`` of ``ids`` (the store's, made by the adapter's
    encoder) onto the adapter's basis and save them; returns how many (0, and no file, without
    a basis or without vectors)."""
    path = kb_dir / SCAN_FILE
    if adapter.basis is None:
        path.unlink(missing_ok=True)
        return 0
    if not len(ids):
        path.unlink(missing_ok=True)
        return 0
    projected = (vectors @ adapter.basis).astype(np.float32)
    scratch = path.with_suffix(".building.npz")
    with open(scratch, "wb") as handle:
        np.savez(handle, ids=np.array(list(ids)), projected=projected, encoder=np.array(adapter.encoder),
                 basis=np.array(basis_digest(adapter)), order=np.array(order_digest(ids)))
    scratch.replace(path)
    return len(ids)


class HeadScan:
    """The projected heads aligned with one index's passages (a zero row where a passage has no
    stored head, so the scan never offers it) and the basis they were projected on."""

    def __init__(self, projected: np.ndarray, basis: np.ndarray) -> None:
        self.projected = projected
        self.basis = basis

    @classmethod
    def load(cls, kb_dir: Path, segment_ids: Sequence[str], adapter: QueryAdapter | None, *,
             order: str | None = None) -> HeadScan | None:
        """The scan of ``kb_dir`` for these passages, or None: no adapter or basis, no file, or
        one made with another encoder or basis (the next build makes it again). ``order`` is
        ``order_digest(segment_ids)`` where the caller has worked it out already."""
        path = kb_dir / SCAN_FILE
        if adapter is None or adapter.basis is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["encoder"]) != adapter.encoder or str(data["basis"]) != basis_digest(adapter):
                    log.info("%s was made for another encoder or basis: not scanning until the next build", path)
                    return None
                projected = data["projected"]
                if "order" in data.files and str(data["order"]) == (order or order_digest(segment_ids)) \
                        and len(projected) == len(segment_ids):
                    return cls(projected, adapter.basis)
                ids = data["ids"].tolist()
        except (OSError, ValueError, KeyError) as error:
            log.warning("%s cannot be read (%s): not scanning until the next build", path, error)
            return None
        rows = rows_by_id(ids, segment_ids)
        aligned = np.zeros((len(segment_ids), projected.shape[1]), dtype=np.float32)
        present = rows >= 0
        aligned[present] = projected[rows[present]]
        return cls(aligned, adapter.basis)

    def top(self, adapted: np.ndarray, weight: np.ndarray, depth: int) -> np.ndarray:
        """Index positions of the ``depth`` best passages by approximate adapted cosine x
        ``weight`` (the filter and place prior; 0 leaves a passage out), best first."""
        scores = (self.projected @ (self.basis.T @ adapted)) * weight
        allowed = int(np.count_nonzero(scores > 0))
        depth = min(depth, allowed)
        if depth <= 0:
            return np.zeros(0, dtype=np.int64)
        best = largest(scores, depth)
        best = best[scores[best] > 0]
        return best[np.argsort(-scores[best], kind="stable")]
