"""Re-ordering the first candidates by the pretrained sentence encoder (optional, slow).

RoFormer-Sim (:mod:`kb.sentence_encoder`) was trained on Chinese similar-sentence pairs: it
reads "我妈七十多了…村里说要把她的地收回去" and an article on 收回承包地 as related where
BM25 and the knowledge-base model see few shared words. It is far too slow to embed every
passage (about an hour for the full corpus on two cores), so it reads only the question and
the first ``count`` fused candidates ("title：passage head"), and each candidate's new score
mixes its fused score (divided by the best) with that cosine. Passage vectors are kept in
memory by segment id, so repeated candidates cost nothing the second time.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from kb.sentence_encoder import SentenceEncoder

#: Characters of a passage the encoder reads after its title.
PASSAGE_HEAD = 120
CACHE_SIZE = 50_000


class Reranker:
    def __init__(self, encoder: SentenceEncoder, *, weight: float = 0.5) -> None:
        self.encoder = encoder
        self.weight = weight
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def _passage_vectors(self, ids: Sequence[str], text_of: Callable[[Sequence[str]], dict[str, str]]) -> np.ndarray:
        missing = [i for i in ids if i not in self._cache]
        if missing:
            texts = text_of(missing)
            vectors = self.encoder.encode([texts.get(i, "")[: PASSAGE_HEAD + 40] for i in missing], batch_size=32)
            for i, vector in zip(missing, vectors):
                self._cache[i] = vector
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return np.vstack([self._cache[i] for i in ids])

    def rerank(self, question: str, ranked: list[tuple[str, float]], count: int,
               text_of: Callable[[Sequence[str]], dict[str, str]]) -> list[tuple[str, float]]:
        """``ranked`` (segment id, fused score), best first, with its first ``count`` re-ordered."""
        head, tail = ranked[:count], ranked[count:]
        if len(head) < 2:
            return ranked
        ids = [i for i, _ in head]
        query = self.encoder.encode([question])[0]
        cosines = self._passage_vectors(ids, text_of) @ query
        best = max(score for _, score in head) or 1.0
        floor = min(score for _, score in head)
        mixed = [(i, (1 - self.weight) * score / best + self.weight * float(c)) for (i, score), c in zip(head, cosines)]
        mixed.sort(key=lambda item: (-item[1], item[0]))
        # the re-ordered head stays above the tail: scores are shifted, never below the old floor
        shift = floor - min(score for _, score in mixed) if tail else 0.0
        return [(i, score + max(shift, 0.0)) for i, score in mixed] + tail
