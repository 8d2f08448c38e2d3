"""The plain baseline every configuration is compared with: jieba + rank-bm25, as a newcomer
would write it, over the very segments the knowledge base searches.

* Tokens: ``jieba.lcut`` in accurate mode with jieba's default dictionary (a private
  ``jieba.Tokenizer``, so no policy lexicon can leak in from elsewhere in the process), no
  stopwords, no normalisation, over ``title + section path + text`` exactly as the store
  joins them for the kb tokenizer; only whitespace-only tokens (the joins themselves, line
  breaks) are dropped. Questions are tokenised the same way.
* Scoring: ``rank_bm25.BM25Okapi`` with its defaults (k1 1.5, b 0.75, epsilon 0.25). rank-bm25
  itself needs about a second per question over 150k segments, so the scores come from kb's
  ``BM25Index``, which reproduces BM25Okapi exactly (``tests/kb/test_bm25.py``, and
  ``tests/evaluation/test_baseline.py`` for these tokens).
* Ranking: the segments the search may return (same status filter), positive scores, ties
  broken by segment id, as the search does.

Tokenising 150k law articles takes a minute or two, so the built index is cached in a
directory keyed by the index generation's corpus checksum and these settings.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import jieba
import numpy as np

from kb import IN_FORCE, BM25Index, BM25Parameters, KnowledgeBase

log = logging.getLogger(__name__)

#: rank_bm25.BM25Okapi's defaults.
RANK_BM25_DEFAULTS = BM25Parameters(k1=1.5, b=0.75, epsilon=0.25)
#: Bump when the tokenisation above changes, so old caches are not reused.
BASELINE_VERSION = 1
SEGMENTS_FILE = "baseline_segments.json"


_default_dictionary: jieba.Tokenizer | None = None


def _plain_jieba() -> jieba.Tokenizer:
    """One private default-dictionary tokenizer per process (loading the dictionary takes a second)."""
    global _default_dictionary
    if _default_dictionary is None:
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        _default_dictionary = tokenizer
    return _default_dictionary


class PlainTokenizer:
    """``jieba.lcut`` (accurate mode, default dictionary, HMM on) minus whitespace-only tokens."""

    def __call__(self, text: str) -> list[str]:
        return [token for token in _plain_jieba().lcut(text) if token.strip()]


class PlainBM25Baseline:
    """BM25Okapi scores over plain jieba tokens for the knowledge base's current segments."""

    def __init__(self, index: BM25Index, segment_ids: list[str], doc_ids: list[str], statuses: list[str]) -> None:
        self.index = index
        self.segment_ids = segment_ids
        self.doc_ids = doc_ids
        self.statuses = np.asarray(statuses)
        self.tokenizer = PlainTokenizer()

    @classmethod
    def from_texts(cls, texts: Sequence[tuple[str, str, str, str]]) -> PlainBM25Baseline:
        """Build from ``(segment_id, doc_id, status, title + path + text)`` rows."""
        tokenizer = PlainTokenizer()
        index = BM25Index.build([tokenizer(text) for _, _, _, text in texts], RANK_BM25_DEFAULTS)
        return cls(index, [r[0] for r in texts], [r[1] for r in texts], [r[2] for r in texts])

    @classmethod
    def for_kb(cls, knowledge_base: KnowledgeBase, cache_dir: Path | None = None,
               progress: Callable[[str], None] | None = None) -> PlainBM25Baseline:
        """The baseline over the segments of the KB's current index generation (cached)."""
        loaded = knowledge_base.searcher.index
        key = hashlib.sha256(json.dumps([loaded.manifest["corpus_checksum"], loaded.segment_ids[:1],
                                         len(loaded.segment_ids), RANK_BM25_DEFAULTS.as_dict(), BASELINE_VERSION,
                                         jieba.__version__]).encode()).hexdigest()[:16]
        directory = cache_dir / f"baseline-{key}" if cache_dir else None
        if directory is not None and (directory / SEGMENTS_FILE).exists():
            stored = json.loads((directory / SEGMENTS_FILE).read_text(encoding="utf-8"))
            return cls(BM25Index.load(directory), stored["segment_ids"], stored["doc_ids"], stored["statuses"])
        texts = dict(knowledge_base.store.segment_index_texts())
        rows = [(sid, doc, status, texts[sid])
                for sid, doc, status in zip(loaded.segment_ids, loaded.doc_ids, loaded.statuses) if sid in texts]
        if progress:
            progress(f"tokenising {len(rows):,} segments for the plain jieba + BM25 baseline")
        baseline = cls.from_texts(rows)
        if directory is not None:
            scratch = directory.with_name(directory.name + ".building")
            scratch.mkdir(parents=True, exist_ok=True)
            baseline.index.save(scratch)
            (scratch / SEGMENTS_FILE).write_text(json.dumps(
                {"segment_ids": baseline.segment_ids, "doc_ids": baseline.doc_ids,
                 "statuses": baseline.statuses.tolist()}, ensure_ascii=False), encoding="utf-8")
            scratch.rename(directory)
        return baseline

    def scores(self, question: str) -> np.ndarray:
        """BM25Okapi scores of every segment for the plain tokens of ``question``."""
        return self.index.scores(self.tokenizer(question))

    def search(self, question: str, top_k: int, statuses: Sequence[str] = (IN_FORCE,)) -> list[tuple[str, str, float]]:
        """``(segment_id, doc_id, score)`` of the best ``top_k`` allowed segments, best first."""
        scores = self.scores(question)
        scores = np.where(np.isin(self.statuses, list(statuses)) & (scores > 0), scores, -np.inf)
        count = min(top_k, int(np.isfinite(scores).sum()))
        if count <= 0:
            return []
        picked = np.argpartition(-scores, count - 1)[:count]
        ranked = sorted(((self.segment_ids[i], float(scores[i]), int(i)) for i in picked),
                        key=lambda item: (-item[1], item[0]))
        return [(sid, self.doc_ids[i], score) for sid, score, i in ranked]
