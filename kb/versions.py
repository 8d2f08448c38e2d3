"""Versions and validity: which version of a document is in force, and on which dates.

Hotline agents must never be handed a repealed rule as if it were in force. Documents
that are versions of one another share a key — the same normalised 文号, or the same
normalised title (and part, for a code published in parts such as 民法典) — and are
ordered by their own dates, never by the order of ingestion: the latest is current and
each older one is superseded by the next, from the date that one took effect. A document
may also repeal others by name ("原《…》（X政发〔2019〕12号）同时废止"). Expiry comes from
the source's ``expired`` flag or an "有效期至" date.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from kb.types import EXPIRED, IN_FORCE, SUPERSEDED

#: Dates far outside any document's life, used where a bound is open.
BEGINNING = 0
FOREVER = 99_991_231
#: Whitespace and the brackets that only decorate a title: "《 行政复议法 》" -> "行政复议法".
_TITLE_NOISE = re.compile(r"[\s《》〈〉\"“”]")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


@dataclass(frozen=True)
class VersionFacts:
    """What a document says about its own time: dates, flags, and what it repeals."""

    doc_id: str
    title: str
    doc_number: str | None
    date: str | None
    metadata: Mapping[str, Any]
    declared_status: str = IN_FORCE
    jurisdiction: str | None = None

    @property
    def part(self) -> str:
        part = self.metadata.get("part")
        return part if isinstance(part, str) else ""

    @property
    def effective_date(self) -> str | None:
        for key in ("effective_date", "valid_from"):
            value = self.metadata.get(key)
            if isinstance(value, str) and _ISO_DATE.match(value):
                return value[:10]
        return None

    @property
    def expiry_date(self) -> str | None:
        value = self.metadata.get("expiry_date")
        return value[:10] if isinstance(value, str) and _ISO_DATE.match(value) else None

    @property
    def order_date(self) -> str:
        """The date that orders versions: the document's own, else its version date, else effective.

        Not the effective date first: an amended law keeps the article "本规定自2011年4月1日
        起施行" of its first version, so that date does not tell the versions apart.
        """
        version = self.metadata.get("version_date")
        for value in (self.date, version if isinstance(version, str) else None, self.effective_date):
            if value and _ISO_DATE.match(value):
                return value[:10]
        return ""

    @property
    def in_force_from(self) -> str:
        """When this version took effect: its effective date, unless that is older than the version."""
        return max(self.effective_date or "", self.order_date)

    @property
    def repeals(self) -> list[str]:
        value = self.metadata.get("repeals")
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


@dataclass(frozen=True)
class Validity:
    """The resolved state of one document, today and over time (dates as YYYYMMDD ints)."""

    status: str
    superseded_by: str | None
    effective: int
    expires: int
    superseded_from: int


def normalise_title(title: str) -> str:
    return _TITLE_NOISE.sub("", unicodedata.normalize("NFKC", title))


def date_number(value: str | None, default: int) -> int:
    """``"2019-11-01"`` -> 20191101; ``None`` -> ``default``."""
    if not value or not _ISO_DATE.match(value):
        return default
    return int(value[:10].replace("-", ""))


def version_key(facts: VersionFacts) -> str:
    """Documents with the same key are versions of one another.

    A title alone is too weak a link between documents of unknown origin (scraped
    notices share headlines across cities), so titles group only within one known
    jurisdiction; a document with neither 文号 nor jurisdiction is its own group.
    """
    if facts.doc_number:
        return f"no:{unicodedata.normalize('NFKC', facts.doc_number)}"
    if facts.jurisdiction:
        return f"title:{normalise_title(facts.title)}|{facts.part}|{facts.jurisdiction}"
    return f"doc:{facts.doc_id}"


def resolve(documents: Sequence[VersionFacts], *, today: date | None = None) -> dict[str, Validity]:
    """The validity of every document, from the documents' own dates and statements."""
    today_number = int((today or date.today()).strftime("%Y%m%d"))
    groups: dict[str, list[VersionFacts]] = {}
    for facts in documents:
        groups.setdefault(version_key(facts), []).append(facts)
    successor: dict[str, VersionFacts] = {}
    for members in groups.values():
        dated = sorted((f for f in members if f.order_date), key=lambda f: (f.order_date, f.doc_id))
        for i, older in enumerate(dated):
            # only a strictly later date makes a new version: two copies of one date (the same
            # notice published on two sites) are both current, and an undated copy is left alone
            newer = next((f for f in dated[i + 1 :] if f.order_date > older.order_date), None)
            if newer is not None:
                successor[older.doc_id] = newer
    by_number = {f.doc_number: f for f in documents if f.doc_number}
    by_title = {normalise_title(f.title): f for f in documents}
    for repealer in documents:
        for name in repealer.repeals:
            target = by_number.get(name) or by_title.get(normalise_title(name))
            if target is not None and target.doc_id != repealer.doc_id and target.doc_id not in successor:
                successor[target.doc_id] = repealer
    resolved = {}
    for facts in documents:
        newer = successor.get(facts.doc_id)
        expires = date_number(facts.expiry_date, FOREVER)
        declared_expired = facts.metadata.get("expired") is True or facts.declared_status == EXPIRED
        if declared_expired and expires == FOREVER and newer is None:
            expires = -1  # expired, date unknown: never in force as far as we can tell
        # (an expired document with a successor ended when the successor took effect)
        superseded_from = date_number(newer.in_force_from, BEGINNING) if newer else FOREVER
        if newer is None and facts.declared_status == SUPERSEDED:
            superseded_from = BEGINNING  # the source says so, without naming the successor
        if superseded_from <= today_number:
            status = SUPERSEDED
        elif expires < today_number:  # 有效期至 a day: still in force on that day
            status = EXPIRED
        else:
            status = IN_FORCE
        resolved[facts.doc_id] = Validity(
            status=status,
            superseded_by=newer.doc_id if newer else None,
            # a document is not in force before its own date (a 2022 notice is no answer "as of 2020")
            effective=date_number(facts.in_force_from, BEGINNING),
            expires=expires,
            superseded_from=superseded_from,
        )
    return resolved
