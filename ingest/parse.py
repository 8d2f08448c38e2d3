"""Text to :class:`kb.Document`: clean, read the 公文 fields, segment, and fill the record.

This is the one place that decides which source wins for each field (the document's
own 公文 marks, then the record's metadata) so that files and JSONL records of very
different origins come out as documents of the same shape.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePath
from typing import Any

from ingest.clean import clean_text
from ingest.gongwen import extract_metadata, parse_date
from ingest.structure import segment_text
from ingest.validity import read_validity
from kb import EXPIRED, IN_FORCE, STATUSES, Document

__all__ = ["parse_document", "slugify", "textless_document"]

#: Record fields that may carry the document's date, in order of preference.
DATE_FIELDS = ("publish", "valid_from", "version_date", "date")
#: A fallback title longer than this is cut.
MAX_TITLE = 40
#: File extensions slugify drops: "…yaodian.txt" -> "…yaodian".
_EXTENSION = re.compile(r"\.(?:txt|md|markdown|json|jsonl|csv|html?|xml|pdf|docx?|wps|ofd|rtf)$", re.IGNORECASE)
#: Runs of anything that is neither an ASCII letter or digit nor a CJK character.
_NOT_SLUG = re.compile(r"[^a-z0-9\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
#: The end of a first sentence, for the fallback title.
_SENTENCE_END = re.compile(r"[。！？；!?;]")


def parse_document(
    text: str,
    *,
    doc_id: str,
    title: str | None = None,
    metadata: dict[str, Any] | None = None,
    source: str | None = None,
) -> Document:
    """Build a :class:`kb.Document` from raw text and what the caller knows about it.

    ``metadata`` is the record's other fields (a ``text`` key is ignored: the body is
    ``text``). The title is ``title``, else the 公文 title, else the start of the text;
    the date is the 成文日期, else the 印发日期, else the first of the record's
    ``publish``/``valid_from``/``version_date``/``date``. ``metadata["expired"]`` true
    makes the status expired.
    """
    cleaned = clean_text(text)
    gongwen = extract_metadata(cleaned)
    record = {key: value for key, value in (metadata or {}).items() if key != "text"}
    extracted = {
        "attached_title": gongwen.attached_title,
        "publicity": gongwen.publicity,
        "cc": gongwen.cc,
        "printed_date": gongwen.printed_date,
    }
    issued = gongwen.signed_date or gongwen.printed_date or _record_date(record)
    validity = read_validity(cleaned, issued=issued)
    extracted.update({"effective_date": validity.effective_date, "expiry_date": validity.expiry_date,
                      "repeals": list(validity.repeals) or None})
    merged = dict(record)
    merged.update({key: value for key, value in extracted.items() if value is not None and key not in record})
    return Document(
        doc_id=doc_id,
        title=(title or "").strip() or gongwen.title or fallback_title(cleaned) or doc_id,
        text=cleaned,
        segments=segment_text(cleaned),
        doc_number=gongwen.doc_number or _text_field(record, "doc_number"),
        issuer=gongwen.issuer or _text_field(record, "issuer"),
        date=issued,
        status=_status(record),
        source=source,
        metadata=merged,
    )


def textless_document(*, doc_id: str, title: str, metadata: dict[str, Any] | None = None,
                      source: str | None = None) -> Document:
    """A record that names a document but carries none of its text (the law corpus has a few).

    It is stored so that it is listed and known (title, dates, validity) but has no
    passages: nothing can be cited from text that is not there.
    """
    record = {key: value for key, value in (metadata or {}).items() if key != "text"}
    return Document(doc_id=doc_id, title=title.strip(), text="", segments=(),
                    doc_number=_text_field(record, "doc_number"), issuer=_text_field(record, "issuer"),
                    date=_record_date(record), status=_status(record), source=source,
                    metadata={**record, "text_missing": True})


def fallback_title(text: str) -> str | None:
    """A title for a text that states none: its first line, or the words before its first space.

    Flattened web pages start "工业和信息化部组织开展…督导检查 2020年2月4日，…": the
    headline is what comes before the first space when that is short.
    """
    first_line = text.strip().split("\n", 1)[0].strip()
    if not first_line:
        return None
    head = first_line.split(None, 1)[0]
    if len(head) < len(first_line) and 4 <= len(head) <= MAX_TITLE and "。" not in head:
        return head  # a headline may end with "！" but holds no full stop
    end = _SENTENCE_END.search(first_line)
    sentence = first_line[: end.start()] if end else first_line
    sentence = " ".join(sentence.split())
    return sentence[:MAX_TITLE] + "…" if len(sentence) > MAX_TITLE else sentence


def slugify(name: str) -> str:
    """A stable document id from a file name: "changshu-2019-zhengwu-gongkai-yaodian.txt" -> its stem.

    Lowercase ASCII letters and digits and CJK characters are kept (full-width letters
    are folded first), every other run becomes "-", and the ends are trimmed. The
    result is empty when nothing usable remains; callers decide what that means.
    """
    stem = _EXTENSION.sub("", PurePath(name).name)
    folded = unicodedata.normalize("NFKC", stem).lower()
    return _NOT_SLUG.sub("-", folded).strip("-")


def _record_date(record: dict[str, Any]) -> str | None:
    for key in DATE_FIELDS:
        value = record.get(key)
        if isinstance(value, str) and (date := parse_date(value)):
            return date
    return None


def _status(record: dict[str, Any]) -> str:
    if record.get("expired") is True:
        return EXPIRED
    status = record.get("status")
    return status if status in STATUSES else IN_FORCE


def _text_field(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    return value.strip() or None if isinstance(value, str) else None
