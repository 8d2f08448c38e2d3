"""Files and records to stored documents: walk paths, read, parse, add in batches.

A file that cannot be read or parsed is reported (file, reason) and skipped while the
others go in; a JSONL line that is not a valid record is reported by line number. Each
document is stored whole in its own transaction (see ``kb.store``), so a failure never
leaves half a document behind. The index is not touched here: the caller builds it once
after the whole batch.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb import AddResult, Document, KnowledgeBase

from ingest.decode import DecodeError, decode_bytes
from ingest.parse import parse_document, slugify

log = logging.getLogger(__name__)

TEXT_SUFFIXES = (".txt", ".md")
RECORD_SUFFIXES = (".jsonl",)
SUPPORTED_SUFFIXES = TEXT_SUFFIXES + RECORD_SUFFIXES
#: A folder may describe its files in this manifest (doc ids, extra metadata).
MANIFEST_NAME = "manifest.json"
BATCH_DOCUMENTS = 400


@dataclass(frozen=True)
class FieldMap:
    """Which keys of a JSONL record hold the id, the title and the text."""

    id_field: str = "id"
    title_field: str = "title"
    text_field: str = "text"


@dataclass(frozen=True)
class Failure:
    source: str
    reason: str


@dataclass
class IngestReport:
    """What one ingest call did: per-document outcomes and per-file failures."""

    results: list[AddResult] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    files: int = 0
    characters: int = 0

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def segments(self) -> int:
        return sum(r.segments for r in self.results if r.outcome in ("added", "updated"))

    def summary(self) -> dict[str, Any]:
        return {"files": self.files, "characters": self.characters,
                **{o: self.count(o) for o in ("added", "updated", "unchanged", "duplicate")},
                "segments": self.segments, "failed": len(self.failures)}


class IngestError(ValueError):
    """A file or record cannot become a document; the message says why."""


def _manifest_entries(folder: Path) -> dict[Path, dict[str, Any]]:
    path = folder / MANIFEST_NAME
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {(folder / entry["file"]).resolve(): entry for entry in data.get("documents", [])}
    except (ValueError, KeyError, TypeError) as error:
        raise IngestError(f"{path}: not a valid manifest ({error})") from error


def discover(paths: Sequence[Path | str]) -> tuple[list[tuple[Path, dict[str, Any]]], list[Failure]]:
    """Supported files under ``paths`` (folders walked in sorted order) with manifest entries."""
    found: list[tuple[Path, dict[str, Any]]] = []
    failures: list[Failure] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            entries: dict[Path, dict[str, Any]] = {}
            for manifest in sorted(path.rglob(MANIFEST_NAME)):
                try:
                    entries.update(_manifest_entries(manifest.parent))
                except IngestError as error:
                    failures.append(Failure(str(manifest), str(error)))
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                if file.name == MANIFEST_NAME or file.name.startswith("."):
                    continue
                if file.suffix.lower() in SUPPORTED_SUFFIXES:
                    found.append((file, entries.get(file.resolve(), {})))
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                found.append((path, {}))
            else:
                failures.append(Failure(str(path), f"unsupported file type {path.suffix or '(none)'!r}"))
        else:
            failures.append(Failure(str(path), "no such file or folder"))
    return found, failures


def read_text_file(path: Path, entry: dict[str, Any] | None = None) -> Document:
    """One .txt/.md file as one document; its id is the file's slug unless a manifest names one."""
    entry = entry or {}
    try:
        text = decode_bytes(path.read_bytes())
    except DecodeError as error:
        raise IngestError(f"cannot decode: {error}") from error
    except OSError as error:
        raise IngestError(f"cannot read: {error.strerror or error}") from error
    if not text.strip():
        raise IngestError("the file is empty")
    doc_id = entry.get("doc_id") or slugify(path.stem)
    if not doc_id:
        raise IngestError("cannot make a document id from the file name")
    return parse_document(text, doc_id=doc_id, title=entry.get("title"),
                          metadata=dict(entry.get("metadata", {})), source=str(path))


def read_records(path: Path, fields: FieldMap) -> Iterator[Document | Failure]:
    """Documents from a JSONL file, one per line; a bad line yields a Failure, not an exception."""
    try:
        handle = path.open("rb")
    except OSError as error:
        yield Failure(str(path), f"cannot read: {error.strerror or error}")
        return
    with handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}:{number}"
            if not raw.strip():
                continue
            try:
                record = json.loads(decode_bytes(raw))
                if not isinstance(record, dict):
                    raise IngestError("the line is not a JSON object")
                yield _record_document(record, fields, where)
            except (DecodeError, ValueError) as error:
                yield Failure(where, str(error))
            except Exception as error:  # a parser defect must not stop the other records
                log.exception("cannot parse %s", where)
                yield Failure(where, f"cannot parse: {type(error).__name__}: {error}")


def _record_document(record: dict[str, Any], fields: FieldMap, where: str) -> Document:
    text = record.get(fields.text_field)
    if not isinstance(text, str) or not text.strip():
        raise IngestError(f"no text in field {fields.text_field!r}")
    doc_id = record.get(fields.id_field)
    if doc_id is None or str(doc_id).strip() == "":
        raise IngestError(f"no id in field {fields.id_field!r}")
    title = record.get(fields.title_field)
    metadata = {k: v for k, v in record.items() if k not in (fields.id_field, fields.title_field, fields.text_field)}
    return parse_document(text, doc_id=str(doc_id).strip(), title=title if isinstance(title, str) else None,
                          metadata=metadata, source=where)


def ingest_paths(kb: KnowledgeBase, paths: Sequence[Path | str], *, fields: FieldMap | None = None,
                 workers: int = 1, on_file: Callable[[Path], None] | None = None) -> IngestReport:
    """Read every supported file under ``paths`` into ``kb``; failures are collected, not raised."""
    fields = fields or FieldMap()
    files, failures = discover(paths)
    report = IngestReport(failures=list(failures))
    batch: list[Document] = []

    def flush() -> None:
        if batch:
            report.results.extend(kb.add_documents(batch, workers=workers))
            batch.clear()

    for path, entry in files:
        report.files += 1
        if on_file:
            on_file(path)
        if path.suffix.lower() in RECORD_SUFFIXES:
            for item in read_records(path, fields):
                if isinstance(item, Failure):
                    report.failures.append(item)
                    continue
                batch.append(item)
                report.characters += len(item.text)
                if len(batch) >= BATCH_DOCUMENTS:
                    flush()
        else:
            try:
                document = read_text_file(path, entry)
            except IngestError as error:
                report.failures.append(Failure(str(path), str(error)))
                continue
            except Exception as error:  # a parser defect must not stop the other files
                log.exception("cannot parse %s", path)
                report.failures.append(Failure(str(path), f"cannot parse: {type(error).__name__}: {error}"))
                continue
            batch.append(document)
            report.characters += len(document.text)
            if len(batch) >= BATCH_DOCUMENTS:
                flush()
    flush()
    return report
