"""A linear map of a question's encoder vector towards the passages that answer it.

RoFormer-Sim (:mod:`kb.sentence_encoder`) was trained to find *similar sentences*: it puts
"买的手机坏了能退吗" beside other questions about phones, not beside the article on a
seller's duty to take goods back. The passages' head vectors are made once, at build time
(:mod:`kb.rerank`), so the encoder itself stays as it is; what can move cheaply is the
question's side. ``QueryAdapter`` is a 384 x 384 matrix ``W``: the question's vector ``q``
becomes ``q W`` (made unit length again), fitted (``evaluation/fit_adapter.py``) so that
it lands near the head vectors of the passages that answered the training splits' questions,
against every other passage of the full corpus. The learned ranker reads the adapted cosine
beside the plain one.

One matrix is bundled (``kb/resources/query_adapter.npz``, about 300 KB), fitted on the
training splits only; it carries the name of the encoder and head length it was fitted for
(:func:`kb.rerank.encoder_name`) and is used only with those: with another encoder the
adapted cosine falls back to the plain one.
"""

from __future__ import annotations

import functools
import logging
from importlib import resources
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

ADAPTER_FILE = "query_adapter.npz"


class QueryAdapter:
    """``q -> q W / |q W|`` for questions encoded by the encoder named ``encoder``."""

    def __init__(self, matrix: np.ndarray, encoder: str, basis: np.ndarray | None = None) -> None:
        matrix = np.asarray(matrix, dtype=np.float32)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"a query adapter is a square matrix, not {matrix.shape}")
        if basis is not None and (basis.ndim != 2 or basis.shape[0] != matrix.shape[0]):
            raise ValueError(f"a scan basis has the encoder's {matrix.shape[0]} rows, not {basis.shape}")
        self.matrix = matrix
        self.encoder = encoder
        #: the head vectors' main directions (``kb.head_scan`` scans every passage in them)
        self.basis = None if basis is None else np.asarray(basis, dtype=np.float32)

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[0])

    def apply(self, question: str, vector: np.ndarray) -> np.ndarray:
        """The adapted unit-length vector of ``question`` (whose encoder vector is ``vector``);
        the question is named for adapters that depend on it (cross-fitting)."""
        adapted = vector @ self.matrix
        norm = float(np.linalg.norm(adapted))
        return adapted / norm if norm > 0 else vector

    def save(self, path: Path) -> None:
        # float16 halves the file; the cosines it gives differ from float32's by < 1e-3
        arrays = {"matrix": self.matrix.astype(np.float16), "encoder": np.array(self.encoder)}
        if self.basis is not None:
            arrays["basis"] = self.basis.astype(np.float16)
        with open(path, "wb") as handle:
            np.savez_compressed(handle, **arrays)

    @classmethod
    def load(cls, path: Path) -> QueryAdapter:
        """Raises ``ValueError`` for a file that is not an adapter (``OSError`` where unreadable)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                basis = data["basis"].astype(np.float32) if "basis" in data.files else None
                return cls(data["matrix"].astype(np.float32), str(data["encoder"]), basis)
        except (KeyError, EOFError) as error:
            raise ValueError(f"{path} is not a query adapter: {error}") from error


@functools.cache
def bundled_adapter(encoder: str) -> QueryAdapter | None:
    """The adapter shipped with this version if it was fitted for ``encoder``, else None (the
    file missing or unreadable, or fitted for another encoder or head length)."""
    path = resources.files("kb.resources") / ADAPTER_FILE
    if not path.is_file():
        log.warning("the query adapter %s is missing: the ranker reads the plain cosine twice", ADAPTER_FILE)
        return None
    try:
        adapter = QueryAdapter.load(Path(str(path)))
    except (OSError, ValueError) as error:
        log.warning("the query adapter cannot be read (%s): the ranker reads the plain cosine twice", error)
        return None
    if adapter.encoder != encoder:
        log.info("the query adapter was fitted for %s, not %s: not used", adapter.encoder, encoder)
        return None
    return adapter
