"""Re-ordering the first candidates by the pretrained sentence encoder.

RoFormer-Sim (:mod:`kb.sentence_encoder`) was trained on Chinese similar-sentence pairs: it
reads "我妈七十多了…村里说要把她的地收回去" and an article on 收回承包地 as related where
BM25 and the knowledge-base model see few shared words. It reads the question and the first
``count`` fused candidates ("title：passage head"), and each candidate's new score mixes its
fused score (divided by the best) with that cosine.

Encoding a passage costs about 10 ms, twenty candidates a fifth of a second, so the heads'
vectors are made when the index is built (:func:`fill_head_vectors`, kept in the store by
segment, text and title, so a rebuild encodes only what changed) and a question costs one
encoding of itself (about 10 ms). A candidate without a stored vector (a store built before,
or a Milvus collection holding passages the store lacks) is encoded on the spot and kept in
memory.
"""

from __future__ import annotations

import hashlib
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np

from kb.normalize import normalize_for_matching
from kb.pretrained import PretrainedFiles
from kb.query_adapter import QueryAdapter
from kb.sentence_encoder import SentenceEncoder
from kb.store import Store

#: Characters of a passage the encoder reads after its title.
PASSAGE_HEAD = 120
CACHE_SIZE = 50_000
#: Questions whose vectors are kept (a search reads its question's twice).
QUESTIONS_KEPT = 256
#: Candidates re-ordered when the knowledge base's settings do not say otherwise.
DEFAULT_RERANK = 100
#: Heads encoded and stored together while building (a stopped build keeps what it stored).
FILL_CHUNK = 2_048


def passage_head(title: str | None, text: str) -> str:
    """What the encoder reads of a passage: its document's title and the passage's start."""
    return f"{title or ''}：{text[:PASSAGE_HEAD]}"


def encoder_text(question: str) -> str:
    """The question as the encoder should read it: folded as the tokenizer folds it (ＡＢＣ１２３
    and ABC123, 勞工 and 劳工 are one question), without emoji and other pictographs, which
    the encoder reads as unknown tokens and the tokenizer ignores."""
    return "".join(ch for ch in normalize_for_matching(question) if unicodedata.category(ch) not in _UNREAD)


#: Unicode categories left out of a question for the encoder: other symbols (emoji, dingbats),
#: surrogates, private use and unassigned code points.
_UNREAD = frozenset({"So", "Cs", "Co", "Cn"})


def encoder_name(files: PretrainedFiles) -> str:
    """Names the encoder and the head's length: stored vectors made otherwise are made again."""
    digest = hashlib.sha1(files.fingerprint.encode("utf-8")).hexdigest()[:12]
    return f"roformer-sim-{digest}-head{PASSAGE_HEAD}"


class Reranker:
    def __init__(self, encoder: SentenceEncoder, *, weight: float = 0.5,
                 stored: Callable[[Sequence[str]], dict[str, np.ndarray]] | None = None,
                 adapter: QueryAdapter | None = None, name: str | None = None) -> None:
        self.encoder = encoder
        #: the encoder's name with the head's length (:func:`encoder_name`), as stored vectors carry it
        self.name = name
        self.weight = weight
        self._stored = stored
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._questions: OrderedDict[str, np.ndarray] = OrderedDict()
        self._questions_lock = threading.Lock()
        #: the question-side map the learned ranker's adapted cosine uses (``kb.query_adapter``);
        #: replaceable, as fitting the ranker replaces it by cross-fitted ones
        self.adapter = adapter

    def passage_vectors(self, ids: Sequence[str], text_of: Callable[[Sequence[str]], dict[str, str]]) -> np.ndarray:
        """The heads' vectors of ``ids`` (stored, kept, or encoded now from ``text_of``)."""
        missing = [i for i in ids if i not in self._cache]
        found = self._stored(missing) if missing and self._stored is not None else {}
        missing = [i for i in missing if i not in found]
        if missing:
            texts = text_of(missing)
            vectors = self.encoder.encode([texts.get(i, "") for i in missing], batch_size=32)
            for i, vector in zip(missing, vectors):
                self._cache[i] = vector
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return np.vstack([found[i] if i in found else self._cache[i] for i in ids])

    def question_vectors(self, questions: Sequence[str]) -> np.ndarray:
        """The encoder's unit vectors of ``questions`` as search reads them (:func:`encoder_text`);
        one question's is kept a while, as the head scan and the ranker both read it."""
        if len(questions) != 1:
            return self.encoder.encode([encoder_text(question) for question in questions])
        text = encoder_text(questions[0])
        with self._questions_lock:
            vector = self._questions.get(text)
        if vector is None:
            vector = self.encoder.encode([text])[0]
            with self._questions_lock:  # the service asks from many threads
                self._questions[text] = vector
                while len(self._questions) > QUESTIONS_KEPT:
                    self._questions.popitem(last=False)
        return vector[None, :]

    def cosines(self, question: str, ids: Sequence[str],
                text_of: Callable[[Sequence[str]], dict[str, str]]) -> np.ndarray:
        """The encoder's cosine of ``question`` to each passage head of ``ids`` (``text_of`` gives
        the heads of passages without a stored vector)."""
        return self.passage_vectors(ids, text_of) @ self.question_vectors([question])[0]

    def cosine_pair(self, question: str, ids: Sequence[str],
                    text_of: Callable[[Sequence[str]], dict[str, str]]) -> tuple[np.ndarray, np.ndarray]:
        """(plain, adapted) cosines of ``question`` to each passage head of ``ids``; both the
        same without an adapter. One encoding of the question serves both."""
        query = self.question_vectors([question])[0]
        passages = self.passage_vectors(ids, text_of)
        plain = passages @ query
        if self.adapter is None or self.adapter.dim != query.shape[0]:
            return plain, plain
        return plain, passages @ self.adapter.apply(question, query)

    def rerank(self, question: str, ranked: list[tuple[str, float]], count: int,
               text_of: Callable[[Sequence[str]], dict[str, str]]) -> list[tuple[str, float]]:
        """``ranked`` (segment id, fused score), best first, with its first ``count`` re-ordered.

        ``text_of`` gives the heads (:func:`passage_head`) of candidates without a stored vector.
        """
        head, tail = ranked[:count], ranked[count:]
        if len(head) < 2:
            return ranked
        cosines = self.cosines(question, [i for i, _ in head], text_of)
        best = max(score for _, score in head) or 1.0
        floor = min(score for _, score in head)
        mixed = [(i, (1 - self.weight) * score / best + self.weight * float(c)) for (i, score), c in zip(head, cosines)]
        mixed.sort(key=lambda item: (-item[1], item[0]))
        # the re-ordered head stays above the tail: scores are shifted, never below the old floor
        shift = floor - min(score for _, score in mixed) if tail else 0.0
        return [(i, score + max(shift, 0.0)) for i, score in mixed] + tail


def fill_head_vectors(store: Store, load_encoder: Callable[[], SentenceEncoder], name: str,
                      progress: Callable[[str], None] | None = None) -> int:
    """Encode and store the head of every segment that has no current vector; returns how many.

    The first build of a large corpus pays for every passage (about 100 a second on two
    cores); later builds only for new or changed passages, and load the encoder only then
    (an incremental build of the full corpus checks in a quarter of a second).
    """
    store.drop_orphan_head_vectors()
    missing = store.segments_without_head_vector(name, PASSAGE_HEAD)
    if not missing:
        return 0
    encoder = load_encoder()
    for start in range(0, len(missing), FILL_CHUNK):
        chunk = missing[start : start + FILL_CHUNK]
        if progress:
            progress(f"encoding passage heads for re-ranking: {start:,}/{len(missing):,}")
        vectors = encoder.encode([passage_head(title, text) for _sid, _hash, title, text in chunk], batch_size=32)
        store.save_head_vectors(name, [(sid, content_hash, title, vector)
                                       for (sid, content_hash, title, _text), vector in zip(chunk, vectors)])
    return len(missing)
