"""FAQ knowledge (standard question, similar questions, answer, answering department) as documents.

A hotline knowledge base is mostly question-answer pairs, not 公文. Each pair becomes
one document with exactly one segment covering its whole text, so a hit cites the pair
as a unit (anchor ``faq``, locator "问答"), its section path is the standard question and
its department is the one that answers. The similar questions go into the text so that
search matches the ways citizens actually ask. Items are imported from the same JSONL
and CSV files as records (``ingest.records``), with their own field mapping
(:class:`FaqFieldMap`).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.errors import IngestError
from ingest.gongwen import parse_date
from ingest.records import documents_from_rows, iter_rows
from ingest.report import Failure
from kb import EXPIRED, IN_FORCE, STATUSES, Document, Segment

__all__ = ["FAQ_ANCHOR", "FAQ_LOCATOR", "FaqFieldMap", "faq_document", "read_faq"]

log = logging.getLogger(__name__)

#: An FAQ item is short, so one character lost in an earlier conversion (Big5 "化妝品" saved as
#: "化�品") is already 0.3% of it: items up to this share are kept, counted in
#: ``metadata["replacement_characters"]`` for an editor to repair; a hotline answer with one
#: unreadable character is worth more than no answer.
MAX_REPLACEMENT_SHARE = 0.01
FAQ_ANCHOR = "faq"
FAQ_LOCATOR = "问答"
#: Separators between similar questions held in one CSV cell: "怎么提取公积金？|公积金如何提取？".
_SIMILAR_SPLIT = re.compile(r"\s*(?:\n|\||｜|；|;)\s*")
_LINE_BREAKS = re.compile(r"\r\n?")


@dataclass(frozen=True)
class FaqFieldMap:
    """Which fields of a JSONL record or CSV column names hold each part of an FAQ item.

    The defaults fit the Taipei open-data FAQ (``id``, ``question``, ``answer``,
    ``dept``, ``post_date``). ``valid_from``/``valid_to`` are the validity period;
    an item whose ``valid_to`` has passed when it is ingested is stored as expired.
    """

    id_field: str = "id"
    question_field: str = "question"
    similar_field: str = "similar_questions"
    answer_field: str = "answer"
    department_field: str = "dept"
    date_field: str = "post_date"
    valid_from_field: str = "valid_from"
    valid_to_field: str = "valid_to"


def read_faq(path: Path | str, mapping: FaqFieldMap | None = None) -> Iterator[Document | Failure]:
    """FAQ items of a JSONL or CSV file as documents; a bad item yields a Failure, not an exception."""
    faq_fields = mapping or FaqFieldMap()
    rows = iter_rows(Path(path), required=(faq_fields.question_field,), max_replacement_share=MAX_REPLACEMENT_SHARE)
    yield from documents_from_rows(rows, lambda record, where: faq_document(record, faq_fields, where))


def faq_document(record: dict[str, Any], mapping: FaqFieldMap, where: str | None = None,
                 *, today: datetime.date | None = None) -> Document:
    """One FAQ item as a document with a single segment over its whole text.

    The text is the standard question, each similar question on its own line, a blank
    line and the answer. The id is the record's own, else "faq-" and a hash of the
    question (stable across re-imports, never the load order). An empty answer is
    allowed: the item still says which department answers that question.
    """
    question = _text(record.get(mapping.question_field))
    if not question:
        raise IngestError(f"no question in field {mapping.question_field!r}")
    similar = [q for q in _similar(record.get(mapping.similar_field)) if q != question]
    answer = _text(record.get(mapping.answer_field))
    department = _text(record.get(mapping.department_field))
    text = "\n".join([question, *similar])
    if answer:
        text += "\n\n" + answer
    raw_id = record.get(mapping.id_field)
    doc_id = str(raw_id).strip() if raw_id is not None and str(raw_id).strip() else _question_id(question)
    segment = Segment(anchor=FAQ_ANCHOR, locator=FAQ_LOCATOR, section_path=(question,), start=0, end=len(text),
                      text=text, departments=(department,) if department else ())
    own = {mapping.id_field, mapping.question_field, mapping.similar_field, mapping.answer_field,
           mapping.department_field}
    metadata = {"kind": "faq", "question": question, "similar_questions": similar, "answer": answer,
                "department": department, **{k: v for k, v in record.items() if k not in own}}
    if damaged := text.count("\ufffd"):
        metadata["replacement_characters"] = damaged
    # the knowledge base decides validity by date at every build, so an item expires on its day
    if valid_from := _date(record, (mapping.valid_from_field,)):
        metadata["effective_date"] = valid_from
    if valid_to := _date(record, (mapping.valid_to_field,)):
        metadata["expiry_date"] = valid_to
    return Document(
        doc_id=doc_id,
        title=question,
        text=text,
        segments=(segment,),
        issuer=department,
        date=_date(record, (mapping.date_field, mapping.valid_from_field)),
        status=_status(record, mapping, today or datetime.date.today()),
        source=where,
        metadata=metadata,
    )


def _text(value: Any) -> str:
    return _LINE_BREAKS.sub("\n", value).strip() if isinstance(value, str) else ""


def _similar(value: Any) -> list[str]:
    items = value if isinstance(value, list) else _SIMILAR_SPLIT.split(value) if isinstance(value, str) else []
    seen: list[str] = []
    for item in items:
        text = _text(item)
        if text and text not in seen:
            seen.append(text)
    return seen


def _question_id(question: str) -> str:
    return "faq-" + hashlib.sha256(question.encode("utf-8")).hexdigest()[:16]


def _date(record: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = record.get(key)
        if isinstance(value, str) and (date := parse_date(value)):
            return date
    return None


def _status(record: dict[str, Any], mapping: FaqFieldMap, today: datetime.date) -> str:
    if record.get("expired") is True:
        return EXPIRED
    if record.get("status") in STATUSES:
        return str(record["status"])
    valid_to = _date(record, (mapping.valid_to_field,))
    if valid_to and datetime.date.fromisoformat(valid_to) < today:
        return EXPIRED
    return IN_FORCE
