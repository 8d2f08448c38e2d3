"""Word (.docx) files to text: body paragraphs in order, list numbering, tables as rows.

A .docx is a zip of XML parts, so it is handled as untrusted input twice over: the zip
directory is checked before anything is inflated (entry count, total size, per-entry
compression ratio: a zip bomb is refused before it can fill memory), and each XML part read
is parsed with defusedxml and refused outright when it declares a DOCTYPE (XXE and
"billion laughs" need one; Word never writes one).

Only ``word/document.xml`` is read for text, so headers, footers (the running 文号,
page numbers), footnotes and comments never reach the document. The body is walked in
order, keeping what Word shows: tracked insertions and content controls (``w:ins``,
``w:sdt``) are kept, tracked deletions and field codes are dropped, automatic numbering
("一、" that exists only in ``numbering.xml``) is rendered by ``ingest.docx_numbering``.
python-docx is not used for this: it renders no numbering and skips body-level content
controls, so on the seed fixture it recovers 0 of 17 numbered items (this reader: 17) and
loses the "（此件公开发布）" paragraph held in a ``w:sdt``.
"""

from __future__ import annotations

import io
import zipfile
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from ingest.docx_numbering import ListNumbering, W
from ingest.errors import CorruptFile, EncryptedFile, UnsafeFile
from ingest.extracted import Extracted

__all__ = ["MAX_ENTRIES", "MAX_RATIO", "MAX_UNCOMPRESSED", "read_docx"]

#: More zip entries than this is not a Word document (a real one has 10-40).
MAX_ENTRIES = 2000
#: Total uncompressed size allowed, declared and actual.
MAX_UNCOMPRESSED = 200 * 1024 * 1024
#: Highest compression ratio of a single entry; XML compresses 5-20x, bombs 1000x.
MAX_RATIO = 100

_DOCUMENT = "word/document.xml"
_NUMBERING = "word/numbering.xml"
_STYLES = "word/styles.xml"
_CORE = "docProps/core.xml"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_CORE_FIELDS = {
    "{http://purl.org/dc/elements/1.1/}title": "file_title",
    "{http://purl.org/dc/elements/1.1/}creator": "file_author",
    "{http://purl.org/dc/terms/}created": "file_created",
    "{http://purl.org/dc/terms/}modified": "file_modified",
}
#: Subtrees whose text Word does not show as body text: deletions, moved-away text,
#: field codes, drawings and text boxes (whose text Word also stores a second time
#: in the fallback of ``mc:AlternateContent``), footnote and comment marks.
_SKIP = {W + name for name in ("del", "moveFrom", "instrText", "delText", "drawing", "pict", "pPr", "rPr",
                               "footnoteReference", "endnoteReference", "commentReference", "object")}
_SKIP.add(_MC + "AlternateContent")
_CHARACTERS = {W + "tab": " ", W + "ptab": " ", W + "br": "\n", W + "cr": "\n", W + "noBreakHyphen": "-"}


def read_docx(data: bytes) -> Extracted:
    """Text and core properties of a .docx file given as bytes.

    Raises :class:`UnsafeFile` for zip bombs and XML with a DOCTYPE, :class:`CorruptFile`
    for a damaged package and :class:`EncryptedFile` for encrypted zip entries.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise CorruptFile(f"corrupt: not a readable zip archive ({error})") from error
    with archive:
        _prescan(archive)
        budget = [MAX_UNCOMPRESSED]
        document = _part(archive, _DOCUMENT, budget)
        if document is None:
            raise CorruptFile(f"corrupt: the package has no {_DOCUMENT}")
        numbering = ListNumbering(_part(archive, _NUMBERING, budget), _part(archive, _STYLES, budget))
        core = _part(archive, _CORE, budget)
    body = document.find(W + "body")
    if body is None:
        raise CorruptFile(f"corrupt: {_DOCUMENT} has no body")
    text = "\n\n".join(block for block in _blocks(body, numbering) if block.strip())
    metadata: dict[str, str] = {"format": "docx"}
    for element in core if core is not None else ():
        if element.tag in _CORE_FIELDS and element.text and element.text.strip():
            metadata[_CORE_FIELDS[element.tag]] = element.text.strip()
    return Extracted(text=text, metadata=metadata)


def _prescan(archive: zipfile.ZipFile) -> None:
    """Refuse zip bombs from the directory alone, before inflating anything."""
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise UnsafeFile(f"unsafe: {len(entries)} zip entries (at most {MAX_ENTRIES})")
    total = sum(entry.file_size for entry in entries)
    if total > MAX_UNCOMPRESSED:
        raise UnsafeFile(f"unsafe: {total} bytes uncompressed (at most {MAX_UNCOMPRESSED})")
    for entry in entries:
        if entry.flag_bits & 0x1:
            raise EncryptedFile(f"encrypted: zip entry {entry.filename} is encrypted")
        if entry.file_size and entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
            ratio = entry.file_size / max(entry.compress_size, 1)
            raise UnsafeFile(f"unsafe: zip entry {entry.filename} expands {ratio:.0f}x (at most {MAX_RATIO}x)")


def _part(archive: zipfile.ZipFile, name: str, budget: list[int]) -> Element | None:
    """One XML part, read within the remaining size budget and parsed without DTDs or entities."""
    try:
        with archive.open(name) as handle:
            raw = handle.read(budget[0] + 1)  # sizes in the directory may lie; the budget does not
    except KeyError:
        return None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise CorruptFile(f"corrupt: cannot inflate {name} ({error})") from error
    budget[0] -= len(raw)
    if budget[0] < 0:
        raise UnsafeFile(f"unsafe: the package inflates past {MAX_UNCOMPRESSED} bytes")
    try:
        return fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise UnsafeFile(f"unsafe: {name} declares a DOCTYPE or entities (refused: XXE / entity expansion)") from error
    except ParseError as error:
        raise CorruptFile(f"corrupt: {name} is not well-formed XML ({error})") from error


def _blocks(container: Element, numbering: ListNumbering) -> list[str]:
    """Paragraphs and tables of a body, table cell or content control, in document order."""
    blocks: list[str] = []
    for child in container:
        if child.tag == W + "p":
            label, text = numbering.label(child), _text(child)
            if text.strip():
                blocks.append(label + text.strip())
        elif child.tag == W + "tbl":
            blocks.append(_table(child, numbering))
        elif child.tag in (W + "sdt", W + "customXml", W + "ins", W + "moveTo"):
            content = child.find(W + "sdtContent") if child.tag == W + "sdt" else child
            blocks.extend(_blocks(content, numbering) if content is not None else [])
    return blocks


def _table(table: Element, numbering: ListNumbering) -> str:
    """One line per row, "| cell | cell |", the row form ``ingest.clean`` keeps line by line."""
    rows = []
    for row in _children(table, "tr"):
        if row.find(f"{W}trPr/{W}del") is not None:
            continue
        cells = []
        for cell in _children(row, "tc"):
            merge = cell.find(f"{W}tcPr/{W}vMerge")
            if merge is not None and _attribute(merge, "val") in (None, "continue"):
                cells.append("")  # a vertically merged cell shows its text only in the first row
                continue
            cells.append(" ".join(" ".join(_blocks(cell, numbering)).split()).replace("|", "｜"))
        if any(cells):
            rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def _text(element: Element) -> str:
    """The characters Word shows for a paragraph: runs, hyperlinks, insertions, field results."""
    parts: list[str] = []

    def walk(node: Element) -> None:
        for child in node:
            tag = child.tag
            if tag in _SKIP or tag == W + "tbl":
                continue
            if tag == W + "t":
                parts.append(child.text or "")
            elif tag in _CHARACTERS:
                parts.append(_CHARACTERS[tag])
            else:
                walk(child)

    walk(element)
    return "".join(parts)


def _children(element: Element, name: str) -> list[Element]:
    """Direct children named ``name``, also those wrapped in a content control (not nested tables')."""
    found = []
    for child in element:
        if child.tag == W + name:
            found.append(child)
        elif child.tag in (W + "sdt", W + "customXml"):
            content = child.find(W + "sdtContent") if child.tag == W + "sdt" else child
            found.extend(_children(content, name) if content is not None else [])
    return found


def _attribute(element: Element, name: str) -> str | None:
    return element.get(W + name)
