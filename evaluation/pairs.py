"""Training pairs from a question set: the questions of a train split and the passages that answer them.

``policykb train`` teaches the knowledge base with confirmed (question, segment id) pairs.
The shared question sets already are such confirmations once their gold is resolved to
passages of this knowledge base:

* passage gold names the segments itself;
* answer-text gold names a document and the answer: the document's passages that contain
  the answer (whitespace ignored, as judging does) answer the question; a question whose
  answer no single passage holds gives no pair;
* document gold says only which document, not which passage: it gives no pair.

Only a split meant for training should be turned into pairs (``train``, ``local_train``):
the rest of a set measures what the trained model learned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from evaluation.relevance import contains_answer
from evaluation.sets import ANSWER, PASSAGE, QuestionSet
from kb import DocumentNotFound, KnowledgeBase


@dataclass
class Pairs:
    """Resolved pairs and, per reason, how many questions gave none."""

    pairs: list[tuple[str, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def training_pairs(question_set: QuestionSet, knowledge_base: KnowledgeBase) -> Pairs:
    """(question, segment id) pairs for every question of ``question_set`` that resolves."""
    result = Pairs()
    passages: dict[str, list[dict]] = {}
    for question in question_set.questions:
        if question.gold == PASSAGE:
            result.pairs += [(question.text, sid) for sid, grade in question.relevant.items() if grade > 0]
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
