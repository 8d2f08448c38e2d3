"""How much each word of a question counts in BM25: by how characteristic of policy it is.

A citizen tells a story ("我在一个小公司干了快两年了，老板说小公司不用交公积金"); BM25 gives every
word its IDF, and in a corpus of statutes 老板, 说 and 一直 are rare, so they weigh as much as
公积金 and pull in the few passages (news, guides) that happen to use them. A word's
*specificity* — the log ratio of its document frequency in the knowledge base to its
frequency in general Chinese (``kb.abstain.DomainSpecificity``, jieba's dictionary as the
background) — says which words are the question's subject: 公积金 is far more common here
than in everyday language, 老板 far less. Each question word counts
``FLOOR + (1 - FLOOR) * specificity / SPAN``, clipped to [FLOOR, 1]; a word the knowledge
base never uses matches nothing anyway and counts 1.

Measured (README, *How search decides*): hotline-over-laws test R@10 .399 -> .458 (fresh),
R@100 .708 -> .726 (trained); STARD, epidemic and hotline sets within a question or two.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from kb.abstain import DomainSpecificity

#: The least a question word counts (an everyday word such as 说 or 老板).
FLOOR = 0.3
#: The specificity at which a word counts fully (公积金, 失业保险金 …).
SPAN = 6.0


def term_weights(terms: Sequence[str], specificity: DomainSpecificity) -> dict[str, float]:
    """``{term: weight}`` for the distinct ``terms`` of a question."""
    weights = {}
    for term in set(terms):
        value = specificity.term(term)
        weights[term] = 1.0 if value == -math.inf else min(1.0, max(FLOOR, FLOOR + (1 - FLOOR) * value / SPAN))
    return weights
