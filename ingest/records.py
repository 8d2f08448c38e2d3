"""Record files (JSONL, CSV) to documents: one record per line or row, fields mapped by name.

Records come from other systems' exports (a law database's JSONL, a spreadsheet of
notices saved as CSV), each with its own field names, so which field holds the id, the
title and the text is configurable (:class:`FieldMap`). A bad record is reported by line
number and the others go in; every other field is kept as metadata. CSV is decoded like
text files (UTF-8 with or without BOM, UTF-16 with BOM, GB18030), because Excel in a
Chinese locale saves CSV as GBK.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from ingest.decode import MAX_REPLACEMENT_SHARE, DecodeError, decode_bytes
from ingest.errors import DuplicateRecord, IngestError, InvalidRecord
from ingest.parse import parse_document, textless_document
from ingest.report import Failure
from kb import Document

__all__ = ["RECORD_SUFFIXES", "FieldMap", "iter_rows", "read_records", "record_document"]

log = logging.getLogger(__name__)

RECORD_SUFFIXES = (".jsonl", ".csv")
#: A record file at least this large is parsed in worker processes (forking costs more for a few records).
PARALLEL_BYTES = 1 << 20
#: Rows handed to a parsing process at a time.
PARSE_CHUNK = 8
#: Delimiters a CSV export may use; the header line decides, a comma when it cannot.
CSV_DELIMITERS = ",\t;|"


@dataclass(frozen=True)
class FieldMap:
    """Which keys of a JSONL record or CSV column names hold the id, the title and the text."""

    id_field: str = "id"
    title_field: str = "title"
    text_field: str = "text"


def iter_rows(path: Path, *, required: tuple[str, ...] = (),
              max_replacement_share: float = MAX_REPLACEMENT_SHARE) -> Iterator[tuple[str, dict[str, Any]] | Failure]:
    """``(where, record)`` for each JSONL line or CSV row of ``path`` ("file.csv:7"), or a Failure.

    Blank lines are skipped; a line that is not a JSON object, or a file that cannot be
    read or decoded, yields a :class:`Failure` instead of raising. A CSV file whose
    header lacks one of the ``required`` columns yields one Failure for the whole file.
    ``max_replacement_share`` is passed to :func:`ingest.decode.decode_bytes`.
    """
    if path.suffix.lower() == ".csv":
        yield from _csv_rows(path, required, max_replacement_share)
        return
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
                record = json.loads(decode_bytes(raw, max_replacement_share=max_replacement_share))
            except (DecodeError, ValueError) as error:
                yield Failure(where, str(error))
                continue
            if isinstance(record, dict):
                yield where, record
            else:
                yield Failure(where, "the line is not a JSON object")


def _csv_rows(path: Path, required: tuple[str, ...],
              max_replacement_share: float) -> Iterator[tuple[str, dict[str, Any]] | Failure]:
    try:
        text = decode_bytes(path.read_bytes(), max_replacement_share=max_replacement_share)
    except DecodeError as error:
        yield Failure(str(path), f"cannot decode: {error}")
        return
    except OSError as error:
        yield Failure(str(path), f"cannot read: {error.strerror or error}")
        return
    header = text.split("\n", 1)[0]
    try:
        dialect: Any = csv.Sniffer().sniff(header, delimiters=CSV_DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    columns = [name.strip() for name in reader.fieldnames or []]
    if missing := [name for name in required if name not in columns]:
        yield Failure(str(path), f"no column {missing[0]!r} in the CSV header (columns: {', '.join(columns)})")
        return
    while True:
        start = reader.line_num + 1  # a record may span lines; cite the line it starts on
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            yield Failure(f"{path}:{start}", f"not valid CSV: {error}")
            return
        record = {key.strip(): value for key, value in row.items()
                  if isinstance(key, str) and key.strip() and value not in (None, "")}
        if record:
            yield f"{path}:{start}", record


def _made(make: Callable[[dict[str, Any], str], Document],
          item: tuple[str, dict[str, Any]] | Failure) -> tuple[str, Document | Failure]:
    """``(where, document)``, or ``(where, Failure)`` when ``make`` cannot turn the row into one."""
    if isinstance(item, Failure):
        return item.source, item
    where, record = item
    try:
        return where, make(record, where)
    except IngestError as error:
        return where, Failure(where, str(error), error.code)
    except Exception as error:  # a parser defect must not stop the other records
        log.exception("cannot parse %s", where)
        return where, Failure(where, f"cannot parse: {type(error).__name__}: {error}")


#: What the parsing processes call on each row; set before they are forked, so it may be a closure.
_worker_make: Callable[[dict[str, Any], str], Document] | None = None


def _made_in_worker(item: tuple[str, dict[str, Any]] | Failure) -> tuple[str, Document | Failure]:
    assert _worker_make is not None
    return _made(_worker_make, item)


def _die_with_parent() -> None:
    """Ask Linux to end this worker when the ingest that forked it dies (killed in the middle,
    the crash tests do it): a worker left waiting on its task queue would stay for ever."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: an orphan waits, as it would have anyway
        pass


def _made_in_pool(rows: Iterable[tuple[str, dict[str, Any]] | Failure],
                  make: Callable[[dict[str, Any], str], Document],
                  workers: int) -> Iterator[tuple[str, Document | Failure]]:
    """:func:`_made` over ``rows`` in ``workers`` forked processes, in the rows' order.

    Parsing (cleaning, 公文 fields, validity, segmentation) is pure Python: on one core it
    held up the writer while the tokenising processes waited for the next batch. The
    processes run ahead of the caller, which stores what they have parsed meanwhile.
    """
    global _worker_make
    _worker_make = make
    with get_context("fork").Pool(workers, initializer=_die_with_parent) as pool:
        yield from pool.imap(_made_in_worker, rows, chunksize=PARSE_CHUNK)


def documents_from_rows(rows: Iterable[tuple[str, dict[str, Any]] | Failure],
                        make: Callable[[dict[str, Any], str], Document], *,
                        workers: int = 1) -> Iterator[Document | Failure]:
    """``make`` applied to each row; a row it cannot turn into a document yields a Failure.

    Two records of one file with the same id are one document told twice: the second would
    silently replace the first when stored, so it is refused and the first kept. With
    ``workers`` > 1 the rows are made into documents in that many processes (same results,
    same order).
    """
    first_with_id: dict[str, str] = {}
    made = _made_in_pool(rows, make, workers) if workers > 1 else (_made(make, item) for item in rows)
    for where, document in made:
        if isinstance(document, Failure):
            yield document
        elif (first := first_with_id.setdefault(document.doc_id, where)) != where:
            yield Failure(where, f"id {document.doc_id!r} is already used by line "
                                 f"{first.rsplit(':', 1)[-1]} of this file; not stored", DuplicateRecord.code)
        else:
            yield document


def read_records(path: Path, fields: FieldMap, *, workers: int = 1) -> Iterator[Document | Failure]:
    """Documents from a JSONL or CSV file, one per record; a bad record yields a Failure, not an exception.

    ``workers`` > 1 parses the records of a large file (:data:`PARALLEL_BYTES`) in that many processes.
    """
    rows = iter_rows(path, required=(fields.id_field, fields.text_field))
    try:
        large = path.stat().st_size >= PARALLEL_BYTES
    except OSError:  # iter_rows reports it
        large = False
    yield from documents_from_rows(rows, lambda record, where: record_document(record, fields, where),
                                   workers=workers if large else 1)


def _json_type(value: Any) -> str:
    """How JSON would call ``value``'s type, for messages written to people who wrote JSON."""
    if isinstance(value, bool):
        return "true/false"
    return {int: "a number", float: "a number", list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def record_document(record: dict[str, Any], fields: FieldMap, where: str) -> Document:
    """One record as a document: text, id and title from the mapped fields, the rest as metadata."""
    text = record.get(fields.text_field)
    doc_id = record.get(fields.id_field)
    if doc_id is None or str(doc_id).strip() == "":
        raise IngestError(f"no id in field {fields.id_field!r}")
    title = record.get(fields.title_field)
    metadata = {k: v for k, v in record.items() if k not in (fields.id_field, fields.title_field, fields.text_field)}
    if text is not None and not isinstance(text, str):
        raise InvalidRecord(f"field {fields.text_field!r} must be a string, not {_json_type(text)}")
    if not isinstance(doc_id, str | int) or isinstance(doc_id, bool):
        raise InvalidRecord(f"field {fields.id_field!r} must be a string or a number, not {_json_type(doc_id)}")
    if not text or not text.strip():
        if isinstance(title, str) and title.strip():
            return textless_document(doc_id=str(doc_id).strip(), title=title, metadata=metadata, source=where)
        raise IngestError(f"no text in field {fields.text_field!r} and no title in {fields.title_field!r}")
    return parse_document(text, doc_id=str(doc_id).strip(), title=title if isinstance(title, str) else None,
                          metadata=metadata, source=where)
