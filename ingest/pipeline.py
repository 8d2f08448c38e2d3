"""Files and records to stored documents: walk paths, read, parse, add in batches.

A file that cannot be read or parsed is reported (file, reason) and skipped while the
others go in; a JSONL or CSV record that is not valid is reported by line number. Each
document is stored whole in its own transaction (see ``kb.store``), and a reader either
returns a whole document or raises, so a failure never leaves half a document behind.
The index is not touched here: the caller builds it once after the whole batch.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ingest.errors import IngestError, NotARegularFile, OutsideFolder
from ingest.faq import FaqFieldMap, read_faq
from ingest.readers import DOCUMENT_SUFFIXES, read_document
from ingest.records import RECORD_SUFFIXES, FieldMap, read_records
from ingest.report import Failure, IngestReport
from ingest.sniff import HEAD_BYTES, check_type
from kb import Document, KnowledgeBase

__all__ = [
    "BATCH_DOCUMENTS",
    "MANIFEST_NAME",
    "SUPPORTED_SUFFIXES",
    "Failure",
    "FieldMap",
    "IngestError",
    "IngestReport",
    "Progress",
    "discover",
    "ingest_paths",
    "read_records",
    "read_text_file",
]

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md")
SUPPORTED_SUFFIXES = DOCUMENT_SUFFIXES + RECORD_SUFFIXES
#: A folder may describe its files in this manifest (doc ids, extra metadata).
MANIFEST_NAME = "manifest.json"
BATCH_DOCUMENTS = 400
#: Called with (files done, files in total) after each file, and once with (0, total) before the first.
Progress = Callable[[int, int], None]
#: Kept for callers of the text-only pipeline: every document format now goes through one reader.
read_text_file = read_document


def _manifest_entries(folder: Path) -> tuple[dict[Path, dict[str, Any]], list[Failure]]:
    """The manifest's entries by resolved file path; entries that lead out of ``folder`` are refused."""
    path = folder / MANIFEST_NAME
    if not path.exists():
        return {}, []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries, refused = {}, []
        inside = folder.resolve()
        for entry in data.get("documents", []):
            target = (folder / entry["file"]).resolve()
            if not target.is_relative_to(inside):
                refused.append(Failure(str(path), f"entry {entry['file']!r} leads out of the folder; ignored",
                                       OutsideFolder.code))
                continue
            entries[target] = entry
        return entries, refused
    except (ValueError, KeyError, TypeError) as error:
        raise IngestError(f"{path}: not a valid manifest ({error})") from error


def _walk(folder: Path) -> tuple[list[Path], list[Failure]]:
    """The regular files under ``folder`` in sorted order, never leaving it.

    Links are followed only to files inside the folder; a link out of it (``passwd ->
    /etc/passwd``), a link that leads nowhere or round in a loop, a link to a folder, and
    named pipes, sockets and devices are reported and skipped: reading a pipe would block
    for ever, and a link out would store (and then serve) a file nobody asked for.
    """
    inside = folder.resolve()
    files: list[Path] = []
    skipped: list[Failure] = []
    for directory, folders, names in os.walk(folder, followlinks=False):
        here = Path(directory)
        for name in sorted(folders):
            if (here / name).is_symlink():
                skipped.append(Failure(str(here / name), "a link to a folder; not followed", OutsideFolder.code))
        folders[:] = sorted(name for name in folders if not (here / name).is_symlink())
        for name in sorted(names):
            file = here / name
            try:
                target = file.resolve(strict=True)
                mode = target.stat().st_mode
            except (OSError, RuntimeError):  # dangling link, link loop, vanished meanwhile
                skipped.append(Failure(str(file), "a link that leads nowhere (or round in a loop); skipped",
                                       NotARegularFile.code))
                continue
            if not target.is_relative_to(inside):
                skipped.append(Failure(str(file), "a link to a file outside the folder; not read",
                                       OutsideFolder.code))
            elif not stat.S_ISREG(mode):
                skipped.append(Failure(str(file), "not a regular file (a pipe, socket or device); skipped",
                                       NotARegularFile.code))
            else:
                files.append(file)
    return files, skipped


def discover(paths: Sequence[Path | str]) -> tuple[list[tuple[Path, dict[str, Any]]], list[Failure]]:
    """Supported files under ``paths`` (folders walked in sorted order) with manifest entries.

    Supported are .txt/.md/.docx/.pdf/.html/.htm documents and .jsonl/.csv records;
    whether a file's content matches its name is checked when it is read. Nothing outside
    the named paths is read (see :func:`_walk`); a file named directly is read where it is.
    """
    found: list[tuple[Path, dict[str, Any]]] = []
    failures: list[Failure] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            entries: dict[Path, dict[str, Any]] = {}
            files, skipped = _walk(path)
            failures.extend(skipped)
            for manifest in (f for f in files if f.name == MANIFEST_NAME):
                try:
                    manifest_entries, refused = _manifest_entries(manifest.parent)
                except IngestError as error:
                    failures.append(Failure(str(manifest), str(error)))
                    continue
                entries.update(manifest_entries)
                failures.extend(refused)
            for file in files:
                if file.name == MANIFEST_NAME or file.name.startswith((".", "~$")):
                    continue  # "~$通知.docx" is Word's lock file beside an open document
                if file.suffix.lower() in SUPPORTED_SUFFIXES:
                    found.append((file, entries.get(file.resolve(), {})))
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append((path, {}))
            else:
                failures.append(Failure(str(path), f"unsupported file type {path.suffix or '(none)'!r}",
                                        "unsupported_type"))
        elif path.exists():
            failures.append(Failure(str(path), "not a regular file (a pipe, socket or device); skipped",
                                    NotARegularFile.code))
        else:
            failures.append(Failure(str(path), "no such file or folder"))
    return found, failures


def ingest_paths(kb: KnowledgeBase, paths: Sequence[Path | str], *, fields: FieldMap | None = None,
                 faq: bool | FaqFieldMap = False, workers: int = 1, on_file: Callable[[Path], None] | None = None,
                 progress: Progress | None = None,
                 on_stored: Callable[[int, int], None] | None = None) -> IngestReport:
    """Read every supported file under ``paths`` into ``kb``; failures are collected, not raised.

    ``fields`` maps the id/title/text fields of JSONL and CSV records. With ``faq`` true
    (or a :class:`FaqFieldMap` for other field names) record files are read as FAQ items
    instead, one single-segment document per question (see ``ingest.faq``); document
    files are read as usual. ``on_file`` is called with each file before it is read,
    ``progress`` with (files done, total) for a progress bar, ``on_stored`` with (documents,
    characters) read so far after each batch is stored: one JSONL file of laws takes a minute,
    and a file counter alone says nothing for that minute.
    """
    fields = fields or FieldMap()
    faq_fields = faq if isinstance(faq, FaqFieldMap) else FaqFieldMap() if faq else None
    files, failures = discover(paths)
    report = IngestReport(failures=list(failures))
    batch: list[Document] = []

    def flush() -> None:
        if batch:
            report.results.extend(kb.add_documents(batch, workers=workers))
            batch.clear()
            if on_stored:
                on_stored(len(report.results), report.characters)

    if progress:
        progress(0, len(files))
    for done, (path, entry) in enumerate(files, start=1):
        report.files += 1
        if on_file:
            on_file(path)
        for item in _read(path, entry, fields, faq_fields, workers):
            if isinstance(item, Failure):
                report.failures.append(item)
                continue
            batch.append(item)
            report.characters += len(item.text)
            if len(batch) >= BATCH_DOCUMENTS:
                flush()
        if progress:
            progress(done, len(files))
    flush()
    return report


def _read(path: Path, entry: dict[str, Any], fields: FieldMap, faq_fields: FaqFieldMap | None,
          workers: int = 1) -> Iterator[Document | Failure]:
    """The documents of one file, or the one Failure that says why the file gives none; a large
    record file is parsed in ``workers`` processes."""
    try:
        if path.suffix.lower() in RECORD_SUFFIXES:
            _check_record_file(path)
            yield from read_faq(path, faq_fields) if faq_fields else read_records(path, fields, workers=workers)
            return
        yield read_document(path, entry)
    except IngestError as error:
        yield Failure(str(path), str(error), error.code)
    except MemoryError:  # a bomb, or a file too large for this machine: not a defect of the reader
        yield Failure(str(path), "reading the file needed more memory than allowed; nothing was stored", "too_costly")
    except Exception as error:  # a reader defect must not stop the other files
        log.exception("cannot parse %s", path)
        yield Failure(str(path), f"cannot parse: {type(error).__name__}: {error}")


def _check_record_file(path: Path) -> None:
    """Refuse a record file whose head is another format (an .xlsx saved as .csv) before reading it."""
    try:
        with path.open("rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError as error:
        raise IngestError(f"cannot read: {error.strerror or error}") from error
    check_type(path.suffix.lower(), head)
