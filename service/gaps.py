"""Knowledge gaps: unanswered questions grouped by how alike they read.

An analyst should see "公积金提取 asked 14 times, no answer" once, not fourteen lines of
spellings of it. Questions are compared by the Jaccard overlap of their character bigrams after
the words that carry no topic (请问, 怎么, 吗, …), punctuation and masked numbers are removed:
Chinese has no spaces to split on, and bigrams catch 公积金提取 / 提取公积金 without a word
list that would have to know every topic in advance. Clustering is single pass, most-asked
first: each question joins the first group whose leading question it overlaps by at least
``threshold``, else it leads a new group. An inverted index of bigrams keeps that near-linear.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_THRESHOLD = 0.4
#: Words asking how/whether, politeness and particles: every question has some, no topic does.
FILLER = re.compile("请问|你好|您好|麻烦|咨询|一下|怎么样|怎么办|怎么|怎样|如何|什么|哪里|哪些|能不能|可不可以|可以|是否|"
                    "需要|有没有|吗|呢|啊|呀|吧|了|的|我|想")
#: Masked numbers ("[手机号]") and everything that is not a letter or a digit.
NOISE = re.compile(r"\[[^\]]{1,8}\]|[^\w]|_", re.UNICODE)


def topic_text(question: str) -> str:
    """The question without filler, punctuation and masked numbers, width-normalised."""
    text = unicodedata.normalize("NFKC", question).lower()
    return FILLER.sub("", NOISE.sub("", text))


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of ``text`` (its single character for a one-character text)."""
    if len(text) < 2:
        return frozenset(text)
    return frozenset(text[i:i + 2] for i in range(len(text) - 1))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Overlap of two sets: shared / all; 0 for two empty sets."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


@dataclass
class _Group:
    leader: frozenset[str]
    questions: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    last_asked: str = ""


def cluster_questions(items: Iterable[Mapping[str, Any]], *, threshold: float = DEFAULT_THRESHOLD,
                      examples: int = 5) -> list[dict[str, Any]]:
    """Group ``{"question", "reason", "asked_at"}`` items; the largest groups first.

    Each group is ``{"count", "distinct", "example", "examples", "reasons", "last_asked"}``:
    how often its questions were asked, how many different questions, the most asked one, up
    to ``examples`` of them by frequency, why they went unanswered, and when last.
    """
    asked: Counter[str] = Counter()
    reasons: dict[str, Counter[str]] = {}
    last: dict[str, str] = {}
    for item in items:
        question = str(item["question"])
        asked[question] += 1
        reasons.setdefault(question, Counter())[str(item.get("reason") or "no_hits")] += 1
        last[question] = max(last.get(question, ""), str(item.get("asked_at") or ""))
    groups: list[_Group] = []
    by_bigram: dict[str, list[int]] = {}
    for question, count in sorted(asked.items(), key=lambda pair: (-pair[1], pair[0])):
        grams = bigrams(topic_text(question)) or bigrams(question)
        candidates = sorted({index for gram in grams for index in by_bigram.get(gram, ())})
        home = next((index for index in candidates if jaccard(grams, groups[index].leader) >= threshold), None)
        if home is None:
            home = len(groups)
            groups.append(_Group(leader=grams))
            for gram in grams:
                by_bigram.setdefault(gram, []).append(home)
        group = groups[home]
        group.questions[question] += count
        group.reasons.update(reasons[question])
        group.last_asked = max(group.last_asked, last[question])
    result = []
    for group in groups:
        ranked = [question for question, _ in sorted(group.questions.items(), key=lambda p: (-p[1], p[0]))]
        result.append({"count": sum(group.questions.values()), "distinct": len(group.questions),
                       "example": ranked[0], "examples": ranked[:examples], "reasons": dict(group.reasons),
                       "last_asked": group.last_asked or None})
    result.sort(key=lambda g: (-g["count"], -g["distinct"], g["example"]))
    return result
