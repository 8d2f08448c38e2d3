"""One document file to one :class:`kb.Document`, whatever its format.

The file's name says which reader should take it, its bytes must agree (``ingest.sniff``),
then the format's reader turns it into text and metadata, and ``parse_document`` does the
rest, the same for every format: cleaning, 公文 metadata, segmentation. Every failure is
an :class:`IngestError` subclass whose message is one line a person can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.decode import DecodeError, decode_bytes
from ingest.docx_reader import read_docx
from ingest.errors import IngestError, TooLarge
from ingest.extracted import Extracted
from ingest.html_reader import read_html
from ingest.parse import parse_document, slugify
from ingest.pdf_reader import read_pdf
from ingest.sniff import check_type
from kb import Document

__all__ = ["DOCUMENT_SUFFIXES", "MAX_FILE_BYTES", "read_document", "read_text"]

#: No policy document file is larger than this; anything bigger is refused before reading.
MAX_FILE_BYTES = 100 * 1024 * 1024


def read_text(data: bytes) -> Extracted:
    """A .txt/.md file: decoded strictly (UTF-8, BOM, UTF-16 with BOM, GB18030), kept as written."""
    try:
        return Extracted(text=decode_bytes(data))
    except DecodeError as error:
        raise IngestError(f"cannot decode: {error}") from error


READERS: dict[str, Callable[[bytes], Extracted]] = {
    ".txt": read_text,
    ".md": read_text,
    ".docx": read_docx,
    ".pdf": read_pdf,
    ".html": read_html,
    ".htm": read_html,
}
DOCUMENT_SUFFIXES = tuple(READERS)


def read_document(path: Path, entry: dict[str, Any] | None = None) -> Document:
    """One document file as one document; its id is the file's slug unless a manifest entry names one.

    ``entry`` is the folder manifest's entry for the file (``doc_id``, ``title``,
    ``metadata``); what it says wins over what the file says.
    """
    entry = entry or {}
    suffix = path.suffix.lower()
    reader = READERS.get(suffix)
    if reader is None:
        raise IngestError(f"unsupported file type {path.suffix or '(none)'!r}")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise TooLarge(f"too_large: {size} bytes (at most {MAX_FILE_BYTES})")
        data = path.read_bytes()
    except OSError as error:
        raise IngestError(f"cannot read: {error.strerror or error}") from error
    if not data.strip():
        raise IngestError("the file is empty")
    check_type(suffix, data)
    extracted = reader(data)
    if not extracted.text.strip():
        raise IngestError("the file holds no text")
    doc_id = entry.get("doc_id") or slugify(path.stem)
    if not doc_id:
        raise IngestError("cannot make a document id from the file name")
    metadata = {**extracted.metadata, **dict(entry.get("metadata", {}))}
    return parse_document(extracted.text, doc_id=doc_id, title=entry.get("title") or extracted.title,
                          metadata=metadata, source=str(path))
