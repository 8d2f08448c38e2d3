"""What an analyst needs to see for a question: the passages returned and the passages expected.

Plain data (title, 文号, locator, section path, a short excerpt) looked up in the knowledge
base; the HTML page escapes it. Excerpts are plain text, not kb's ``<mark>`` snippets, so the
page never has to trust markup that came from a document.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from evaluation.relevance import squeeze
from evaluation.sets import ANSWER, DOCUMENT, Question
from kb import KBError, KnowledgeBase

EXCERPT_CHARS = 180
_SPACES = re.compile(r"\s+")


def excerpt(text: str, around: str | None = None, width: int = EXCERPT_CHARS) -> str:
    """A one-line excerpt of ``text``, centred on ``around`` when it occurs (whitespace ignored)."""
    flat = _SPACES.sub(" ", text).strip()
    start = 0
    if around:
        squeezed = squeeze(around)
        position = squeeze(flat).find(squeezed) if squeezed else -1
        if position >= 0:
            # map the position in the squeezed text back to the flat text
            seen = 0
            for index, char in enumerate(flat):
                if seen == position:
                    start = max(0, index - width // 3)
                    break
                if not char.isspace():
                    seen += 1
    piece = flat[start:start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(flat) else "")


def _passage(segment: dict[str, Any], document: dict[str, Any] | None, around: str | None = None) -> dict[str, Any]:
    document = document or {}
    return {"segment_id": segment["segment_id"], "doc_id": segment["doc_id"], "title": document.get("title"),
            "doc_number": document.get("doc_number"), "status": document.get("status"),
            "locator": segment.get("locator"), "section_path": segment.get("section_path") or [],
            "excerpt": excerpt(segment.get("text") or "", around)}


def returned_view(knowledge_base: KnowledgeBase, returned: Sequence[tuple[str, str]],
                  relevant: Sequence[bool]) -> list[dict[str, Any]]:
    """The returned passages, in rank order, each marked relevant or not."""
    segments = knowledge_base.store.segments_by_ids([sid for sid, _ in returned])
    documents = knowledge_base.store.documents_by_ids(doc for _, doc in returned)
    view = []
    for rank, ((segment_id, doc_id), is_relevant) in enumerate(zip(returned, relevant), start=1):
        segment = segments.get(segment_id) or {"segment_id": segment_id, "doc_id": doc_id}
        view.append({"rank": rank, "relevant": is_relevant, **_passage(segment, documents.get(doc_id))})
    return view


def expected_view(knowledge_base: KnowledgeBase, question: Question, limit: int = 3) -> dict[str, Any]:
    """The gold as a reader sees it: passages, documents, or the answer text and where it is."""
    gold = [g for g, grade in question.relevant.items() if grade > 0]
    if question.gold == DOCUMENT:
        documents = knowledge_base.store.documents_by_ids(gold)
        return {"kind": DOCUMENT, "documents": [
            {"doc_id": d, "title": documents.get(d, {}).get("title"), "missing": d not in documents} for d in gold]}
    if question.gold == ANSWER:
        (doc_id,) = gold
        documents = knowledge_base.store.documents_by_ids([doc_id])
        view: dict[str, Any] = {"kind": ANSWER, "answer": question.answer, "doc_id": doc_id,
                                "title": documents.get(doc_id, {}).get("title"), "missing": doc_id not in documents,
                                "passages": []}
        if doc_id in documents:
            try:
                in_document = knowledge_base.segments_of(doc_id)
            except KBError:
                in_document = []
            needle = squeeze(question.answer or "")
            holding = [s for s in in_document if needle and needle in squeeze(s["text"])]
            view["passages"] = [_passage(s, documents[doc_id], question.answer) for s in holding[:limit]]
        return view
    segments = knowledge_base.store.segments_by_ids(gold[:limit])
    documents = knowledge_base.store.documents_by_ids(s["doc_id"] for s in segments.values())
    passages = []
    for segment_id in gold[:limit]:
        if segment_id in segments:
            passages.append(_passage(segments[segment_id], documents.get(segments[segment_id]["doc_id"])))
        else:
            passages.append({"segment_id": segment_id, "missing": True})
    return {"kind": question.gold, "passages": passages, "more": max(0, len(gold) - limit)}
