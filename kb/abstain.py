"""When to say "no answer" rather than show the best of a bad lot.

"你好", "今天天气怎么样" or "红烧肉怎么做" are not policy questions; a hotline agent or a
citizen on the website is better served by an explicit "no answer" than by five random
articles. The signal is how characteristic of this knowledge base the question's words
are: for each term, the log ratio of its document frequency in the knowledge base to its
frequency in general Chinese (jieba's dictionary, a background language model that ships
with jieba). A policy question holds at least one word the corpus uses far more than
everyday language does (社保, 公积金, 复工, 个体工商户); chit-chat holds none. Terms the
knowledge base never uses cannot be answered from it and count for nothing.

Measured over the full corpus (seed, laws, epidemic notices): a threshold of 4.0 on the
best term (place names aside) abstains on 84% of the off-topic set in ``evaluation/sets/offtopic`` and on none
of 732 real questions (STARD, epidemic, hotline); the similarity of the best passage and
the share of the question it covers separated the two far worse (9% of real questions
lost at 72% of off-topic caught). In a small knowledge base every indexed word is rare in
general Chinese, so it seldom abstains: it fails open.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from kb.bm25 import BM25Index

#: The score below which a question is treated as off-topic (see the module docstring).
DEFAULT_MIN_SPECIFICITY = 4.0
NO_TERMS = -math.inf



class DomainSpecificity:
    """How characteristic of this knowledge base a question's terms are."""

    def __init__(self, bm25: BM25Index, background: Callable[[str], float]) -> None:
        """``background(term)`` is the term's probability in general language."""
        self._bm25 = bm25
        self._df = np.diff(bm25.matrix.indptr)
        self._documents = max(bm25.matrix.shape[0], 1)
        self._background = background

    def term(self, term: str) -> float:
        column = self._bm25.term_ids.get(term)
        if column is None:
            return NO_TERMS
        in_kb = (self._df[column] + 0.5) / self._documents
        return math.log(in_kb / self._background(term))

    def question(self, terms: Sequence[str], *, places: Iterable[str] = ()) -> float:
        """The best term's specificity; -inf when no term occurs in the knowledge base.

        Place names say where, not what a question is about ("帮我订一张去北京的机票"), so
        they do not count. (Numbers do: dropping them too lost a real question,
        "密云社保1月2月的钱晚点交行不行", whose words are all everyday ones.)
        """
        ignored = set(places)
        subject = [t for t in set(terms) if t not in ignored]
        return max((self.term(t) for t in subject), default=NO_TERMS)
