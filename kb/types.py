"""The domain types every package shares: a document, its citable segments, a search hit.

They are plain frozen dataclasses so that ingest can build them without touching
storage, and the service and evaluation can read them without touching SQLite.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: A document is in force unless its metadata or a later version says otherwise.
IN_FORCE = "in_force"
EXPIRED = "expired"
SUPERSEDED = "superseded"
STATUSES = (IN_FORCE, EXPIRED, SUPERSEDED)


@dataclass(frozen=True)
class Segment:
    """One citable passage: a leaf of the document's own structure, or a text window.

    ``anchor`` is the structural key that makes the segment id (``a54`` for
    第五十四条, ``s3.4`` for 三、（四）, ``p7`` for the 7th window); ``locator`` is
    the leaf's label as a reader sees it ("第五十四条", "（四）").
    ``start``/``end`` are character offsets into the stored document text.
    """

    anchor: str
    locator: str
    section_path: tuple[str, ...]
    start: int
    end: int
    text: str
    departments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Document:
    """A policy document after cleaning and parsing, ready to be stored.

    ``text`` is the cleaned text that segment offsets point into; dates are ISO
    ``YYYY-MM-DD`` strings. ``metadata`` keeps everything else the source said
    (record fields, 公开属性, 抄送, attached title, ...).
    """

    doc_id: str
    title: str
    text: str
    segments: tuple[Segment, ...]
    doc_number: str | None = None
    issuer: str | None = None
    date: str | None = None
    status: str = IN_FORCE
    source: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def segment_id(self, segment: Segment) -> str:
        return f"{self.doc_id}#{segment.anchor}"
