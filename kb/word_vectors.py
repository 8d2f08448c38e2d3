"""General Chinese word vectors from the pretrained package, read without the Annoy library.

An Annoy index file stores its items first, one node each: ``n_descendants`` (int32), two
child ids (int32) and the vector (float32 x dimension). Items are rows 0..n-1, so the
vectors are a strided view of the file. ``word2vec.w2i`` maps each word to its row.
Cosines: 社保/社会保险 .945, 公积金/住房公积金 .975, 落户/户口 .868.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache

import numpy as np

from kb.pretrained import PretrainedFiles

DIMENSION = 100
_HEADER = 3  # n_descendants and two children, 4 bytes each


class WordVectors:
    """Unit-length vectors of the package's 50,001 words."""

    def __init__(self, files: PretrainedFiles) -> None:
        rows = json.loads(files.word_index.read_text(encoding="utf-8"))
        self.row = {word: int(i) for word, i in rows.items()}
        raw = np.fromfile(files.word_vectors, dtype=np.float32)
        width = _HEADER + DIMENSION
        count = max(self.row.values()) + 1
        if raw.size < count * width:
            raise ValueError(f"{files.word_vectors} holds fewer than {count} vectors")
        vectors = raw[: count * width].reshape(count, width)[:, _HEADER:].copy()
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1
        self.vectors = vectors / norms

    def __contains__(self, word: str) -> bool:
        return word in self.row

    def vector(self, word: str) -> np.ndarray | None:
        i = self.row.get(word)
        return None if i is None else self.vectors[i]

    def matrix(self, words: Iterable[str]) -> tuple[list[str], np.ndarray]:
        """The known words among ``words`` and their vectors, in order."""
        known = [w for w in words if w in self.row]
        return known, self.vectors[[self.row[w] for w in known]] if known else np.zeros((0, DIMENSION), np.float32)


@lru_cache(maxsize=1)
def load_word_vectors(files: PretrainedFiles) -> WordVectors:
    """The vectors of ``files``, read once per process (about 40 MB): a new searcher after an
    index switch or a settings change reuses them."""
    return WordVectors(files)
