"""Judging returned passages: passage, document and answer-text gold, whitespace-insensitive answers."""

from __future__ import annotations

from evaluation import ANSWER, DOCUMENT, PASSAGE, Question
from evaluation.relevance import (
    ANSWER_UNIT,
    contains_answer,
    first_relevant_rank,
    is_relevant,
    judge,
    passages_to_read,
    squeeze,
)

RETURNED = [("lawA#a3", "lawA"), ("lawB#a54", "lawB"), ("lawB#a55", "lawB"), ("notice#p2", "notice")]


def test_whitespace_of_every_kind_is_ignored() -> None:
    assert squeeze(" 2019 年\n11\u3000月\t1 日") == "2019年11月1日"
    assert contains_answer("常熟市 2019 年政务公开", "2019年政务")
    assert contains_answer("2019年政务公开", "2019 年 政务")
    assert not contains_answer("2019年政务公开", "2020年")
    assert not contains_answer("任何文字", "  ")  # an empty answer matches nothing


def test_passage_gold_judges_segments_as_they_are() -> None:
    question = Question("q", "问", PASSAGE, {"lawB#a55": 1, "lawC#a1": 1})
    qrels, ranked = judge(question, RETURNED)
    assert qrels == {"lawB#a55": 1, "lawC#a1": 1} and ranked == [sid for sid, _ in RETURNED]
    assert first_relevant_rank(qrels, ranked) == 3
    assert passages_to_read(question, RETURNED) == []


def test_document_gold_ranks_documents_by_their_first_passage() -> None:
    question = Question("q", "问", DOCUMENT, {"notice": 1, "lawB": 1})
    qrels, ranked = judge(question, RETURNED)
    assert ranked == ["lawA", "lawB", "notice"]
    assert first_relevant_rank(qrels, ranked) == 2
    assert is_relevant(question, "lawB#a55", "lawB", {})


def test_answer_gold_needs_the_right_document_and_the_answer() -> None:
    question = Question("q", "问", ANSWER, {"lawB": 1}, answer="不超过 50 万元")
    texts = {"lawB#a54": "补贴不超过5万元。", "lawB#a55": "补助金额不超过50万元。"}
    assert passages_to_read(question, RETURNED) == ["lawB#a54", "lawB#a55"]
    qrels, ranked = judge(question, RETURNED, texts)
    assert qrels == {ANSWER_UNIT: 1}
    assert ranked == ["lawA#a3", "lawB#a54", ANSWER_UNIT, "notice#p2"]
    assert first_relevant_rank(qrels, ranked) == 3


def test_the_answer_in_another_document_does_not_count_and_repeats_count_once() -> None:
    question = Question("q", "问", ANSWER, {"lawB": 1}, answer="答案")
    texts = {"lawA#a3": "答案", "lawB#a54": "答案", "lawB#a55": "答 案"}
    qrels, ranked = judge(question, RETURNED, texts)
    assert ranked.count(ANSWER_UNIT) == 1 and ranked.index(ANSWER_UNIT) == 1
    assert not is_relevant(question, "lawA#a3", "lawA", texts)
    _, nothing = judge(question, RETURNED, {})
    assert first_relevant_rank(qrels, nothing) is None
