"""Uploaded files into the knowledge base: saved under generated names, read, reported per file.

The service does not read documents itself: reading is ``ingest``'s job, and the service may
not import ``ingest`` (``tests/test_architecture.py``). The composition root hands
:func:`service.create_app` an :data:`Ingest` callable instead (``policykb serve`` passes
``policykb.uploads.ingest_upload``, which reads a file exactly as ``policykb ingest`` does).

A client's file name is never a path here: each file is written to a new folder with a
random name under ``KB_DIR/uploads/`` (created exclusively, so nothing is overwritten), as
``document`` plus the name's extension when that is a plain one (the extension says the
format; the content must then match it). The client's name is passed on as text only, for
the document id, the metadata and the report. The folder is removed once the file has been
read: the document's text is then in ``kb.sqlite``, the one source of truth, and a refused
file leaves nothing behind.

Uploads are stored one at a time through one writing ``KnowledgeBase`` of their own, so
parsing a large file never holds the lock that questions take.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, BinaryIO, Protocol

from kb import AddResult, KnowledgeBase

log = logging.getLogger(__name__)

UPLOADS_DIR = "uploads"
#: Files in one upload; more is refused before any is read.
MAX_FILES = 100
#: Longest client file name kept (as text) for the report and the metadata.
MAX_NAME_CHARS = 255
#: An extension worth keeping on the saved file, e.g. ".docx"; anything else is dropped.
PLAIN_SUFFIX = re.compile(r"^\.[a-z0-9]{1,8}$")
COPY_CHUNK = 1 << 20
STORED, UNCHANGED, DUPLICATE, FAILED = "stored", "unchanged", "duplicate", "failed"


class IngestFailure(Protocol):
    """What the reader says about a file or record it could not read (``ingest.Failure``)."""

    reason: str
    code: str


class IngestOutcome(Protocol):
    """What reading one file gave (``ingest.IngestReport``)."""

    results: list[AddResult]
    failures: list[Any]


#: Reads the file at ``path`` (alone in a folder the caller removes afterwards) into the
#: knowledge base as the client's file ``name``.
Ingest = Callable[[KnowledgeBase, Path, str], IngestOutcome]


@dataclass(frozen=True)
class Upload:
    """One part of an upload: the client's name for the file, its bytes (None: the part was not a
    file), its size if known."""

    name: str | None
    file: BinaryIO | None
    size: int | None = None


class FileTooLarge(Exception):
    """A file passed the per-file limit while being saved."""


def shown_name(name: str | None) -> str:
    """The client's file name as report text: no control characters, bounded length. A name
    cut to length keeps its extension, which says the file's format."""
    cleaned = "".join(ch for ch in (name or "") if unicodedata.category(ch)[0] != "C")
    if len(cleaned) <= MAX_NAME_CHARS:
        return cleaned
    suffix = saved_suffix(cleaned)
    return cleaned[: MAX_NAME_CHARS - len(suffix)] + suffix


def saved_suffix(name: str) -> str:
    """The extension the saved file gets: the name's own when plain ('.PDF' -> '.pdf'), else none."""
    suffix = PurePath(name.replace("\\", "/")).suffix.lower()
    return suffix if PLAIN_SUFFIX.match(suffix) else ""


class UploadDesk:
    """Saves, reads and reports uploaded files for one knowledge base."""

    def __init__(self, kb_dir: Path, ingest: Ingest, *, max_file_bytes: int) -> None:
        self.kb_dir = Path(kb_dir)
        self.root = self.kb_dir / UPLOADS_DIR
        self.ingest = ingest
        self.max_file_bytes = max_file_bytes
        self._lock = threading.Lock()
        self._writer: KnowledgeBase | None = None
        self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        """Folders left by a process that stopped mid-upload: their files were never acknowledged."""
        if self.root.is_dir() and self._inside():
            for folder in self.root.iterdir():
                if folder.is_dir() and not folder.is_symlink():
                    shutil.rmtree(folder, ignore_errors=True)

    def store(self, uploads: Sequence[Upload]) -> list[dict[str, Any]]:
        """Store each file (in order, one at a time); one report per file."""
        return [self._store_one(upload) for upload in uploads]

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    def _store_one(self, upload: Upload) -> dict[str, Any]:
        name = shown_name(upload.name)
        if upload.file is None or not name.strip():
            return _failed(name, "invalid", "the file has no name; its extension says what format it is")
        if upload.size is not None and upload.size > self.max_file_bytes:
            return _failed(name, "too_large", f"the file is larger than {self.max_file_bytes} bytes")
        if upload.size == 0:
            return _failed(name, "empty", "the file is empty")
        self.root.mkdir(parents=True, exist_ok=True)
        if not self._inside():
            log.error("%s leads out of the knowledge base directory; uploads refused", self.root)
            return _failed(name, "unavailable", "uploads cannot be stored now; the operator has been told")
        folder = self.root / secrets.token_hex(16)
        folder.mkdir()  # never an existing folder: no upload can overwrite another's file
        try:
            target = folder / f"document{saved_suffix(name)}"
            try:
                self._save(upload.file, target)  # type: ignore[arg-type]  # not None: checked above
            except FileTooLarge:
                return _failed(name, "too_large", f"the file is larger than {self.max_file_bytes} bytes")
            with self._lock:
                if self._writer is None:
                    self._writer = KnowledgeBase(self.kb_dir)
                outcome = self.ingest(self._writer, target, name)
            return _report(name, outcome, hide={str(target): name, str(folder): "upload", str(self.kb_dir): "KB"})
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _inside(self) -> bool:
        """Whether ``KB_DIR/uploads`` is a folder of the knowledge base, not a link out of it."""
        return not self.root.is_symlink() and self.root.resolve().is_relative_to(self.kb_dir.resolve())

    def _save(self, source: BinaryIO, target: Path) -> None:
        written = 0
        with target.open("xb") as out:
            while chunk := source.read(COPY_CHUNK):
                written += len(chunk)
                if written > self.max_file_bytes:
                    raise FileTooLarge()
                out.write(chunk)


def _failed(name: str, code: str, message: str) -> dict[str, Any]:
    return {"file": name, "status": FAILED, "documents": [], "errors": [{"code": code, "message": message}]}


def _report(name: str, outcome: IngestOutcome, *, hide: dict[str, str]) -> dict[str, Any]:
    """One file's report from the reader's outcome; server paths in reasons become the client's name."""

    def scrubbed(text: str) -> str:
        for path, shown in hide.items():
            text = text.replace(path, shown)
        return text

    documents = [{"doc_id": r.doc_id, "outcome": r.outcome, "segments": r.segments, "same_as": r.same_as}
                 for r in outcome.results]
    errors = [{"code": str(getattr(f, "code", "invalid")), "message": scrubbed(str(f.reason))}
              for f in outcome.failures]
    outcomes = {r.outcome for r in outcome.results}
    if outcomes & {"added", "updated"}:
        status = STORED
    elif "unchanged" in outcomes:
        status = UNCHANGED
    elif "duplicate" in outcomes:
        status = DUPLICATE
    else:
        status = FAILED
        errors = errors or [{"code": "invalid", "message": "the file holds no document"}]
    return {"file": name, "status": status, "documents": documents, "errors": errors}
