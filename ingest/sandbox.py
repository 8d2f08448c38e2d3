"""Read untrusted files in a child process with hard limits on memory, CPU and time.

A file uploaded over HTTP is parsed by libraries (pdfminer, lxml, zip) that a crafted file
can drive into gigabytes of memory or an endless loop; inside the serving process that
would take every caller down with it. ``read_sandboxed`` runs the reading half of ingestion
(``ingest_paths`` up to, not including, storing) in a spawned child whose address space and
CPU time are capped with ``setrlimit`` and whose wall time the parent bounds; the parent
gets the documents back and stores them itself. A child that dies or overruns is reported as
one failure with the code ``too_costly``, and nothing is stored.

Limits (``../shared/RELIABILITY.md``, I10/G11): 1 GiB of address space, 120 s of CPU,
180 s of wall time.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from ingest.pipeline import FieldMap, ingest_paths
from ingest.report import Failure, IngestReport
from kb import AddResult, Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandboxed read may use."""

    address_space_bytes: int = 1 << 30
    cpu_seconds: int = 120
    wall_seconds: float = 180.0


class _Collector:
    """Stands in for the knowledge base in the child: keeps the documents instead of storing them."""

    def __init__(self) -> None:
        self.documents: list[Document] = []

    def add_documents(self, documents: Sequence[Document], *, workers: int = 1) -> list[AddResult]:
        self.documents.extend(documents)
        return []


def _limit(limits: SandboxLimits) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (limits.address_space_bytes, limits.address_space_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))


def _read_in_child(paths: list[str], fields: FieldMap, limits: SandboxLimits, connection: Connection) -> None:
    try:
        _limit(limits)
        collector = _Collector()
        report = ingest_paths(collector, [Path(p) for p in paths], fields=fields)  # type: ignore[arg-type]
        connection.send({"documents": collector.documents, "failures": report.failures, "files": report.files,
                         "characters": report.characters})
    except MemoryError:
        connection.send({"error": "memory"})
    finally:
        connection.close()


def _overran(paths: Sequence[Path], why: str) -> IngestReport:
    report = IngestReport(files=len(paths))
    for path in paths:
        report.failures.append(Failure(str(path), f"reading the file {why}; nothing was stored", "too_costly"))
    return report


def read_sandboxed(paths: Sequence[Path], *, fields: FieldMap | None = None,
                   limits: SandboxLimits | None = None) -> tuple[list[Document], IngestReport]:
    """The documents read from ``paths`` and a report of the reading (``results`` empty: the
    caller stores the documents and fills them in)."""
    limits = limits or SandboxLimits()
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_read_in_child, args=([str(p) for p in paths], fields or FieldMap(), limits, sender),
                            name="policykb-parse", daemon=True)
    child.start()
    sender.close()
    message: dict[str, Any] | None = None
    try:
        if receiver.poll(limits.wall_seconds):
            try:
                message = receiver.recv()
            except EOFError:  # died without a word: killed at its CPU limit, or by the OOM killer
                message = None
        else:
            log.warning("reading %s ran past %s s: stopped", [str(p) for p in paths], limits.wall_seconds)
            child.kill()
            child.join()
            return [], _overran(paths, f"took longer than {limits.wall_seconds:g} s")
    finally:
        receiver.close()
    child.join(5)
    if child.is_alive():
        child.kill()
        child.join()
    if message is None or "error" in message:
        why = "needed more than its memory limit" if message else \
            "used more than its limits (memory or CPU time)"
        log.warning("reading %s %s (exit code %s)", [str(p) for p in paths], why, child.exitcode)
        return [], _overran(paths, why)
    report = IngestReport(failures=message["failures"], files=message["files"], characters=message["characters"])
    return message["documents"], report
