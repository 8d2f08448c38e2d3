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

Words alone cannot tell "微信怎么发红包" or "推荐个旅游景点" from a policy question: the
epidemic notices use 微信 and 旅游景点 a great deal. What gives those away is how they are
asked, so a second test, :class:`OffTopicClassifier`, reads the question's characters
(naive Bayes over character unigrams and bigrams) against two sets of examples: hotline-style
policy questions (written for policykb, plus the knowledge base's own confirmed and FAQ
questions of at most ``MAX_EXAMPLE_CHARS``) and everyday chit-chat (written for policykb;
not the evaluation set). Its threshold is calibrated by cross-validation so that at most
``max_refused`` (0.3%) of the policy examples would be refused. See the README for the figures.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any


from kb.bm25 import BM25Index
from kb.normalize import normalize_for_matching
from kb.tokenize import resource_lines

#: The score below which a question is treated as off-topic (see the module docstring).
DEFAULT_MIN_SPECIFICITY = 4.0
NO_TERMS = -math.inf
#: The share of known policy questions the off-topic classifier may refuse (cross-validated).
DEFAULT_MAX_REFUSED = 0.003
ON_TOPIC_EXAMPLES = "ontopic_examples.txt"
#: A knowledge base's own questions teach the classifier only up to this length: it learns
#: how questions are put, and longer texts among the confirmed pairs are mostly reference
#: answers (STARD's lawyers' replies), which moved the threshold so that off-topic caught
#: fell from 95% to 89%.
MAX_EXAMPLE_CHARS = 60
OFF_TOPIC_EXAMPLES = "offtopic_examples.txt"


class DomainSpecificity:
    """How characteristic of this knowledge base a question's terms are."""

    def __init__(self, bm25: BM25Index, background: Callable[[str], float]) -> None:
        """``background(term)`` is the term's probability in general language."""
        self._bm25 = bm25
        self._df = bm25.document_frequency
        self._documents = max(bm25.document_count, 1)
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


def example_questions(name: str) -> list[str]:
    """The bundled example questions of one side (``ON_TOPIC_EXAMPLES`` or ``OFF_TOPIC_EXAMPLES``)."""
    return resource_lines(name)


def _features(question: str) -> list[str]:
    """Character unigrams and bigrams of the question's letters, digits and CJK characters."""
    text = "".join(ch for ch in normalize_for_matching(question) if ch.isalnum())
    return list(text) + [text[i : i + 2] for i in range(len(text) - 1)]


class _NaiveBayes:
    """Two-class multinomial naive Bayes with equal priors; scores are mean log-odds per feature."""

    def __init__(self, on_counts: Counter[str], off_counts: Counter[str], alpha: float = 0.5) -> None:
        """From the feature counts of each side's questions."""
        counts = (on_counts, off_counts)
        vocabulary = set(counts[0]) | set(counts[1])
        totals = [sum(c.values()) + alpha * len(vocabulary) for c in counts]
        self._log_odds = {f: math.log((counts[1][f] + alpha) / totals[1]) - math.log((counts[0][f] + alpha) / totals[0])
                          for f in vocabulary}

    def score(self, question: str) -> float:
        return self.score_features(_features(question))

    def score_features(self, features: Sequence[str]) -> float:
        known = [self._log_odds[f] for f in features if f in self._log_odds]
        return sum(known) / len(known) if known else 0.0


def _counted(questions: Sequence[list[str]]) -> Counter[str]:
    total: Counter[str] = Counter()
    for features in questions:
        total.update(features)
    return total


def _threshold(held_out: Sequence[float], max_refused: float) -> float:
    """The score only ``max_refused`` of the held-out on-topic questions exceed (inf: refuse none)."""
    if not held_out or max_refused <= 0:
        return math.inf
    return held_out[min(len(held_out) - 1, int((1 - max_refused) * len(held_out)))]


def examples_digest(known: Sequence[str]) -> str:
    """Identity of the examples a classifier is fitted on (the bundled ones and ``known``)."""
    text = "\n".join([*example_questions(ON_TOPIC_EXAMPLES), "\0", *example_questions(OFF_TOPIC_EXAMPLES),
                      "\0", *known])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def fit_off_topic(known: Sequence[str], *, max_refused: float = DEFAULT_MAX_REFUSED) -> OffTopicClassifier:
    """The classifier on the bundled examples and the knowledge base's own questions ``known``
    (those of at most ``MAX_EXAMPLE_CHARS`` count)."""
    return OffTopicClassifier([*example_questions(ON_TOPIC_EXAMPLES), *known], example_questions(OFF_TOPIC_EXAMPLES),
                              max_refused=max_refused)


def known_examples(questions: Iterable[str]) -> list[str]:
    return [q for q in questions if len(q) <= MAX_EXAMPLE_CHARS]


class OffTopicClassifier:
    """Says whether a question reads like chit-chat rather than a policy question."""

    def __init__(self, on_topic: Sequence[str], off_topic: Sequence[str], *,
                 max_refused: float = DEFAULT_MAX_REFUSED, folds: int = 5, repeats: int = 5, seed: int = 13) -> None:
        """Fit on both sides, and set the threshold from ``folds``-fold cross-validation
        repeated ``repeats`` times over different shuffles (one split alone moves the
        threshold noticeably): the score that only ``max_refused`` of the held-out on-topic
        questions exceed.

        Each question's features are read once; a fold's model is fitted on the whole
        counts less the held-out fold's (the same counts as counting the rest anew, at a
        fraction of the cost: this runs when a server starts).
        """
        on_topic, off_topic = list(dict.fromkeys(on_topic)), list(dict.fromkeys(off_topic))
        features = {q: _features(q) for q in [*on_topic, *off_topic]}
        totals = (_counted([features[q] for q in on_topic]), _counted([features[q] for q in off_topic]))
        self._model = _NaiveBayes(*totals)
        self._held_out: list[float] = []
        self.threshold = math.inf
        if len(on_topic) < folds or len(off_topic) < folds or max_refused <= 0:
            return  # too little to calibrate on: never refuse
        rng = random.Random(seed)
        held_out: list[float] = []
        for _repeat in range(repeats):
            order_on, order_off = rng.sample(on_topic, len(on_topic)), rng.sample(off_topic, len(off_topic))
            for fold in range(folds):
                fold_on = [q for i, q in enumerate(order_on) if i % folds == fold]
                fold_off = [q for i, q in enumerate(order_off) if i % folds == fold]
                model = _NaiveBayes(totals[0] - _counted([features[q] for q in fold_on]),
                                    totals[1] - _counted([features[q] for q in fold_off]))
                held_out += [model.score_features(features[q]) for q in fold_on]
        held_out.sort()
        self._held_out = held_out
        self.threshold = _threshold(held_out, max_refused)

    def state(self) -> dict[str, Any]:
        """What :meth:`from_state` needs: the model and the held-out on-topic scores (the
        threshold for any ``max_refused`` follows from them)."""
        return {"log_odds": self._model._log_odds, "held_out": self._held_out}

    @classmethod
    def from_state(cls, state: dict[str, Any], *, max_refused: float = DEFAULT_MAX_REFUSED) -> OffTopicClassifier:
        """The classifier as fitted when ``state`` was taken (kept with an index generation:
        the 25 cross-validation fits cost a server most of a second at every start)."""
        classifier = cls.__new__(cls)
        classifier._model = _NaiveBayes.__new__(_NaiveBayes)
        classifier._model._log_odds = dict(state["log_odds"])
        classifier._held_out = list(state["held_out"])
        classifier.threshold = _threshold(classifier._held_out, max_refused)
        return classifier

    def score(self, question: str) -> float:
        """Mean log-odds of off-topic over on-topic per character feature (above 0 leans off-topic)."""
        return self._model.score(question)

    def is_off_topic(self, question: str) -> bool:
        return self.score(question) > self.threshold
