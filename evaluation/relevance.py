"""Turn one question's returned passages into what the metric library judges.

The metric library only knows ``qrels`` (id -> grade) and ranked ids, so each gold shape is
mapped onto that here, in one place:

* passage gold: the ranked segment ids against the gold segment ids, unchanged.
* document gold: a passage counts for its document, so the ranking becomes the documents in
  the order their first passage appears (later passages of a seen document are dropped).
  Recall@k is then "share of gold documents with a passage in the top k".
* answer-text gold: a passage is relevant when it belongs to the right document AND contains
  the answer, compared with all whitespace removed (ingestion re-spaces text, e.g. "2019 年").
  There is one answer to find, however many passages repeat it, so the first relevant
  passage becomes a single judged unit and Recall@k means "answer found in the top k" (the
  top-k accuracy of open-domain QA); counting every repeat as another relevant item would
  make recall depend on how often a document repeats itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from evaluation.sets import ANSWER, DOCUMENT, PASSAGE, Question

#: The judged unit that stands for "a passage of the right document holding the answer".
ANSWER_UNIT = "<answer>"
_WHITESPACE = re.compile(r"\s+")

#: One returned passage: (segment_id, doc_id).
Returned = tuple[str, str]


def squeeze(text: str) -> str:
    """Text without any whitespace (spaces, newlines, U+3000 ideographic spaces)."""
    return _WHITESPACE.sub("", text)


def contains_answer(passage: str, answer: str) -> bool:
    """True when the answer appears in the passage once whitespace is ignored on both sides."""
    needle = squeeze(answer)
    return bool(needle) and needle in squeeze(passage)


def passages_to_read(question: Question, returned: Sequence[Returned]) -> list[str]:
    """Segment ids whose text the answer check needs: only passages of the gold document."""
    if question.gold != ANSWER:
        return []
    return [segment_id for segment_id, doc_id in returned if doc_id in question.relevant]


def is_relevant(question: Question, segment_id: str, doc_id: str, texts: Mapping[str, str]) -> bool:
    """Whether one returned passage satisfies the question's gold (for display and checks)."""
    if question.gold == PASSAGE:
        return question.relevant.get(segment_id, 0) > 0
    if question.gold == DOCUMENT:
        return question.relevant.get(doc_id, 0) > 0
    assert question.answer is not None
    return doc_id in question.relevant and contains_answer(texts.get(segment_id, ""), question.answer)


def judge(question: Question, returned: Sequence[Returned],
          texts: Mapping[str, str] | None = None) -> tuple[dict[str, int], list[str]]:
    """``(qrels, ranked ids)`` for the metric library; ``texts`` maps segment id -> passage text
    (needed for answer-text gold only, for the ids :func:`passages_to_read` names)."""
    if question.gold == PASSAGE:
        return dict(question.relevant), [segment_id for segment_id, _ in returned]
    if question.gold == DOCUMENT:
        ranked: list[str] = []
        for _, doc_id in returned:
            if doc_id not in ranked:
                ranked.append(doc_id)
        return dict(question.relevant), ranked
    if question.gold != ANSWER:
        raise ValueError(f"unknown gold kind {question.gold!r}")
    texts = texts or {}
    ranked, found = [], False
    for segment_id, doc_id in returned:
        if not found and is_relevant(question, segment_id, doc_id, texts):
            ranked.append(ANSWER_UNIT)
            found = True
        else:
            ranked.append(segment_id)
    return {ANSWER_UNIT: 1}, ranked


def first_relevant_rank(qrels: Mapping[str, int], ranked: Sequence[str]) -> int | None:
    """1-based rank of the first judged-relevant id, or None when none was returned."""
    for rank, item in enumerate(ranked, start=1):
        if qrels.get(item, 0) > 0:
            return rank
    return None
