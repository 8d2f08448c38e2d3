"""Training pairs from a question set: the questions of a train split and the passages that answer them.

``policykb train`` teaches the knowledge base with confirmed (question, segment id) pairs.
The shared question sets already are such confirmations once their gold is resolved to
passages of this knowledge base:

* passage gold names the segments itself;
* answer-text gold names a document and the answer: the document's passages that contain
  the answer (whitespace ignored, as judging does) answer the question; a question whose
  answer no single passage holds gives no pair;
* document gold says only which document, not which passage: it gives no pair.

A question's reference answer (STARD's lawyers' replies, kept as ``reference_answer`` in its
metadata) says in plain words what the gold passages say in legal ones; with
``reference_answers`` it is paired with the same passages as one more confirmed question
(the greeting dropped, at most ``MAX_ANSWER_CHARS``). On a STARD dev split (train questions
with ``query_id % 4 == 3``, a model trained on the others) hybrid R@10 went .556 -> .570 and
MRR@10 .450 -> .480.

Only a split meant for training should be turned into pairs (``train``, ``local_train``):
the rest of a set measures what the trained model learned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from evaluation.converters import REFERENCE_ANSWER
from evaluation.relevance import contains_answer
from evaluation.sets import ANSWER, PASSAGE, QuestionSet
from kb import DocumentNotFound, KnowledgeBase


#: Reference answers are cut here: their first sentences carry the matter.
MAX_ANSWER_CHARS = 300
#: The greeting a reference answer opens with: "您好，".
_GREETING = re.compile(r"^\s*您好[，,！!]?\s*")


@dataclass
class Pairs:
    """Resolved pairs and, per reason, how many questions gave none."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def training_pairs(question_set: QuestionSet, knowledge_base: KnowledgeBase, *,
                   reference_answers: bool = False) -> Pairs:
    """(question, segment id) pairs for every question of ``question_set`` that resolves."""
    result = Pairs()
    passages: dict[str, list[dict]] = {}
    for question in question_set.questions:
        if question.gold == PASSAGE:
            gold = [sid for sid, grade in question.relevant.items() if grade > 0]
            result.pairs += [(question.text, sid) for sid in gold]
            answer = question.metadata.get(REFERENCE_ANSWER) if reference_answers else None
            answer = _GREETING.sub("", answer).strip()[:MAX_ANSWER_CHARS] if isinstance(answer, str) else ""
            if answer:
                result.pairs += [(answer, sid) for sid in gold]
        elif question.gold == ANSWER:
            assert question.answer is not None
            found = []
            for doc_id in question.relevant:
                try:
                    canonical = knowledge_base.canonical_id(doc_id)
                    if canonical not in passages:
                        passages[canonical] = knowledge_base.segments_of(canonical)
                except DocumentNotFound:
                    continue
                found += [s["segment_id"] for s in passages[canonical] if contains_answer(s["text"], question.answer)]
            if found:
                result.pairs += [(question.text, sid) for sid in found]
            else:
                result.skip("answer in no single passage")
        else:
            result.skip("document gold names no passage")
    return result
