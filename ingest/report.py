"""What one ingest call did: the documents stored and, per file or record, why others were not.

Kept apart from the pipeline so that every reader can report a bad record as a
:class:`Failure` value without importing the pipeline that calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kb import AddResult

__all__ = ["Failure", "IngestReport"]


@dataclass(frozen=True)
class Failure:
    """One file or record that did not become a document: where, why (one line), and a stable code.

    ``code`` is the failing exception's ``code`` ("unsupported_type", "needs_ocr",
    "encrypted", "corrupt", "unsafe", "too_large"), "too_costly" when reading it took more
    memory or time than allowed (``ingest.sandbox``), or "invalid" for everything else.
    """

    source: str
    reason: str
    code: str = "invalid"


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
