"""What a file really is, judged from its bytes, not its name.

Government file shares are full of misnamed files: web pages saved as ``.pdf``, legacy
``.doc`` renamed ``.docx``, installers named like documents. Parsing a file as the
wrong format either fails with a confusing parser error or, worse, "succeeds" and stores
garbage. So every file is sniffed first (magic bytes, zip directory, WHATWG-style markup
sniffing) and a name that disagrees with the content is refused as ``unsupported_type``.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile

from ingest.errors import CorruptFile, EncryptedFile, UnsupportedType

__all__ = ["ACCEPTED", "DOCX", "HEAD_BYTES", "HTML", "PDF", "TEXT", "check_type", "describe", "sniff"]

DOCX, PDF, HTML, TEXT = "docx", "pdf", "html", "text"
XLSX, PPTX, OFD, ZIP, BROKEN_ZIP = "xlsx", "pptx", "ofd", "zip", "broken_zip"
OLE, RTF, XML, EXECUTABLE, IMAGE, BINARY, EMPTY = "ole", "rtf", "xml", "executable", "image", "binary", "empty"

_DESCRIPTIONS = {
    DOCX: "a Word document (.docx)", PDF: "a PDF", HTML: "an HTML page", TEXT: "plain text",
    XLSX: "an Excel workbook (.xlsx)", PPTX: "a PowerPoint file (.pptx)", OFD: "an OFD 版式文件",
    ZIP: "a zip archive", BROKEN_ZIP: "a zip archive (damaged or cut short)",
    OLE: "a legacy Office/WPS file (.doc/.xls/.wps); save it as .docx",
    RTF: "an RTF document", XML: "an XML file", EXECUTABLE: "an executable program",
    IMAGE: "an image", BINARY: "binary data", EMPTY: "empty",
}
#: The content each file name may hold. Text names also accept markup (Markdown may embed
#: HTML) and unknown bytes (the strict decoder then says exactly why they are not text).
ACCEPTED = {
    ".docx": {DOCX},
    ".pdf": {PDF},
    ".html": {HTML, TEXT},
    ".htm": {HTML, TEXT},
    ".txt": {TEXT, HTML, BINARY},
    ".md": {TEXT, HTML, BINARY},
    ".csv": {TEXT, BINARY, EMPTY},
    ".jsonl": {TEXT, BINARY, EMPTY},
}
#: How far into the file a PDF header may start (Acrobat tolerates leading junk this long).
PDF_HEADER_WINDOW = 1024
#: How much of the head is examined for NUL bytes and markup.
HEAD_BYTES = 8192

_MAGIC = (
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE),
    (b"{\\rtf", RTF),
    (b"MZ", EXECUTABLE),
    (b"\x7fELF", EXECUTABLE),
    (b"\x89PNG\r\n\x1a\n", IMAGE),
    (b"\xff\xd8\xff", IMAGE),
    (b"GIF8", IMAGE),
)
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
#: What marks each Office Open XML / OFD package in its zip directory.
_ZIP_MEMBERS = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX), ("ppt/presentation.xml", PPTX),
                ("OFD.xml", OFD))
#: The WHATWG sniffing signatures of an HTML page, after leading whitespace:
#: "<!DOCTYPE html", "<html", "<head", "<body", "<div", "<p>", "<!--".
_HTML_START = re.compile(
    rb"\s*(?:<!doctype\s+html|<(?:html|head|body|script|iframe|h1|div|font|table|a|style|title|b|br|p|meta)"
    rb"[\s>/]|<!--)",
    re.IGNORECASE,
)
#: An XHTML page behind an XML declaration: "<?xml …?><!DOCTYPE html …>" or "<html xmlns=…".
_HTML_ANYWHERE = re.compile(rb"<!doctype\s+html|<html[\s>]|<body[\s>]", re.IGNORECASE)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
#: A password-protected .docx is an OLE container holding this stream (its name in UTF-16).
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")


def sniff(data: bytes) -> str:
    """The kind of content in ``data``: one of the module's kind constants ("pdf", "docx", ...)."""
    if not data.strip():
        return EMPTY
    if data.removeprefix(codecs.BOM_UTF8).lstrip().startswith(b"%PDF-"):
        return PDF
    if data.startswith(_ZIP_MAGIC):
        return _sniff_zip(data)
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    head = _ascii_head(data)
    if head is not None and _HTML_START.match(head):
        return HTML  # even when it quotes "%PDF-" further down
    if b"%PDF-" in data[:PDF_HEADER_WINDOW]:
        return PDF  # a header after some junk, which PDF readers tolerate
    if head is None:
        return BINARY
    if head.lstrip().startswith(b"<?xml"):
        return HTML if _HTML_ANYWHERE.search(head) else XML
    return TEXT


def describe(kind: str) -> str:
    """A kind as a person would name it: "pdf" -> "a PDF"."""
    return _DESCRIPTIONS.get(kind, kind)


def check_type(suffix: str, data: bytes) -> str:
    """Sniff ``data`` and refuse it when a file named ``*{suffix}`` may not hold that content.

    Returns the sniffed kind. Raises :class:`UnsupportedType` on a mismatch and
    :class:`CorruptFile` when the content claims the right format but is damaged.
    """
    kind = sniff(data)
    accepted = ACCEPTED.get(suffix.lower())
    if accepted is None:
        raise UnsupportedType(f"unsupported_type: no reader for {suffix or 'files without an extension'!r}")
    if kind in accepted:
        return kind
    if kind == BROKEN_ZIP and DOCX in accepted:
        raise CorruptFile("corrupt: a damaged zip archive (truncated?), not a readable Word document")
    if kind == OLE and DOCX in accepted and _ENCRYPTED_PACKAGE in data:
        raise EncryptedFile("encrypted: a password-protected Word document")
    raise UnsupportedType(f"unsupported_type: named {suffix} but the content is {describe(kind)}")


def _sniff_zip(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return BROKEN_ZIP
    return next((kind for member, kind in _ZIP_MEMBERS if member in names), ZIP)


def _ascii_head(data: bytes) -> bytes | None:
    """The head of a text file as bytes where ASCII markup can be matched, or None for binary.

    UTF-16 text is narrowed to its ASCII-compatible form first, so a UTF-16 web page
    saved by a Windows tool still sniffs as HTML.
    """
    head = data[:HEAD_BYTES]
    if head.startswith(_UTF16_BOMS):
        text = head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
        return text.encode("ascii", errors="replace")
    if b"\x00" in head:
        return None
    return head.removeprefix(codecs.BOM_UTF8)
