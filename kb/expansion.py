"""Citizens' words -> statutes' words: extra, lower-weighted query terms for BM25.

A caller says 老板, 打官司, 房东, 生孩子; the statute says 用人单位, 诉讼, 出租人, 生育. BM25
only counts the words a passage shares with the question, so the question is also searched
for the formal words, each at a fraction of a question term's weight:

* a **synonyms lexicon**: everyday expressions found anywhere in the question (after
  full-width and traditional forms are folded) add their formal terms. The bundled
  ``kb/resources/colloquial_synonyms.txt`` is extended by ``KB_DIR/synonyms.txt`` (same
  format) that analysts edit;
* **word-vector neighbours**: a question word known to the pretrained general word
  vectors (:mod:`kb.word_vectors`) adds the knowledge base's own words nearest to it
  (cosine at least ``min_cosine``, at most ``per_term`` of them, among words that occur in
  at least ``min_df`` passages), weighted by that cosine. Without the pretrained package
  only the lexicon applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.normalize import normalize_for_matching
from kb.tokenize import PolicyTokenizer, resource_lines
from kb.word_vectors import WordVectors

LEXICON = "colloquial_synonyms.txt"
#: The analysts' own lexicon, in the knowledge-base directory.
KB_LEXICON = "synonyms.txt"
#: Words whose neighbours are remembered (a few hundred bytes each).
NEIGHBOUR_CACHE_SIZE = 50_000


@dataclass(frozen=True)
class ExpansionSettings:
    lexicon_weight: float = 0.5
    vector_weight: float = 0.5
    min_cosine: float = 0.72
    per_term: int = 3
    min_df: int = 3
    #: neighbours in more than this share of passages are too common to say anything (应当, 规定)
    max_df_share: float = 0.02


def parse_lexicon(lines: Iterable[str]) -> dict[str, list[str]]:
    """``expression<TAB>formal terms…`` lines (``#`` comments) -> {expression: [formal, …]}."""
    entries: dict[str, list[str]] = {}
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        expression, _, formal = line.partition("\t") if "\t" in line else line.partition(" ")
        expression = normalize_for_matching(expression.strip())
        words = formal.split()
        if expression and words:
            entries.setdefault(expression, []).extend(w for w in words if w not in entries.get(expression, []))
    return entries


def load_lexicon(kb_dir: Path | None) -> dict[str, list[str]]:
    """The bundled lexicon extended by the knowledge base's own ``synonyms.txt``."""
    lines = list(resource_lines(LEXICON))
    own = kb_dir / KB_LEXICON if kb_dir is not None else None
    if own is not None and own.is_file():
        lines.extend(own.read_text(encoding="utf-8").splitlines())
    return parse_lexicon(lines)


class QueryExpansion:
    """Extra query terms and their weights for one knowledge base."""

    def __init__(self, lexicon: dict[str, list[str]], tokenizer: PolicyTokenizer, vocabulary: Sequence[str],
                 document_frequency: np.ndarray, passage_count: int, word_vectors: WordVectors | None = None,
                 settings: ExpansionSettings | None = None) -> None:
        self.settings = settings or ExpansionSettings()
        self.tokenizer = tokenizer
        known = set(vocabulary)
        self._lexicon: dict[str, list[str]] = {}
        for expression, words in lexicon.items():
            formal = list(dict.fromkeys(t for w in words for t in tokenizer.tokenize(w) if t in known))
            if formal:
                self._lexicon[expression] = formal
        # expressions by first character: a question is checked only against those that can start in it
        self._by_first: dict[str, list[tuple[str, list[str]]]] = {}
        for expression, formal in self._lexicon.items():
            self._by_first.setdefault(expression[:1], []).append((expression, formal))
        self._vectors = word_vectors
        self._neighbour_cache: dict[str, list[tuple[str, float]]] = {}
        self._targets: list[str] = []
        self._target_matrix = None
        if word_vectors is not None:
            ceiling = self.settings.max_df_share * passage_count
            useful = [t for t, df in zip(vocabulary, document_frequency)
                      if self.settings.min_df <= df <= ceiling and len(t) > 1 and t not in tokenizer.stopwords]
            self._targets, self._target_matrix = word_vectors.matrix(useful)

    @property
    def uses_word_vectors(self) -> bool:
        return self._target_matrix is not None and len(self._targets) > 0

    def _neighbours(self, word: str) -> list[tuple[str, float]]:
        """The knowledge base's terms nearest to ``word`` (at least ``min_cosine``), worked out
        once per word: a word's neighbours never change for one index, and comparing it with
        every target term is most of what expansion costs."""
        cached = self._neighbour_cache.get(word)
        if cached is not None:
            return cached
        found: list[tuple[str, float]] = []
        if word in self._vectors:
            _known, queries = self._vectors.matrix([word])
            row = (queries @ self._target_matrix.T)[0]
            wanted = min(self.settings.per_term + 1, len(row))
            for j in np.argpartition(-row, wanted - 1)[:wanted]:
                if row[j] >= self.settings.min_cosine and self._targets[j] != word:
                    found.append((self._targets[j], float(row[j])))
        if len(self._neighbour_cache) >= NEIGHBOUR_CACHE_SIZE:
            self._neighbour_cache.clear()
        self._neighbour_cache[word] = found
        return found

    def formal_terms(self, question: str, *, words: Sequence[str] = ()) -> list[str]:
        """The statutes' words the lexicon gives for the everyday expressions in ``question``
        (低保 -> 最低生活保障): what the question is about, in the knowledge base's words.

        With ``words`` (the question's terms), an expression lying inside a longer one of them
        is another word that happens to contain it (孩子 in 女孩子) and gives nothing.
        """
        folded = normalize_for_matching(question)
        candidates = (item for first in dict.fromkeys(folded) for item in self._by_first.get(first, ()))
        return list(dict.fromkeys(
            term for expression, formal in candidates
            if expression in folded and not any(expression in word and expression != word for word in words)
            for term in formal))

    def expand(self, question: str, terms: Sequence[str]) -> dict[str, float]:
        """{extra term: weight relative to a question term} for ``question`` (already cleaned)."""
        present = set(terms)
        extra = {term: self.settings.lexicon_weight for term in self.formal_terms(question) if term not in present}
        if self.uses_word_vectors:
            for word in dict.fromkeys(terms):
                if len(word) > 1 and word not in self.tokenizer.stopwords:
                    for term, cosine in self._neighbours(word):
                        if term not in present:
                            extra[term] = max(extra.get(term, 0.0), self.settings.vector_weight * cosine)
        return extra
