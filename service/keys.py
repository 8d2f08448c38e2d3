"""API keys: named, scoped, stored hashed beside the knowledge base (``KB_DIR/keys.sqlite``).

A key is shown once, when it is created (``policykb keys create``), and never stored: the
file holds its SHA-256, which is enough because a key is 256 random bits (a slow password
hash protects guessable secrets; nobody guesses these). A key is looked up by its hash and
the hash compared again with ``hmac.compare_digest``, so neither step depends on how much of
a guess was right. Revoking keeps the row (who had access, and when it ended) and makes the
key useless at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

KEYS_FILE = "keys.sqlite"
KEY_PREFIX = "pkb_"
#: What a key may do. Anonymous callers may ask and give feedback (the public door).
SCOPES = ("ask", "feedback", "analytics:read", "documents:write", "admin")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class KeyRequestError(ValueError):
    """A key cannot be created or revoked as asked; the message says why."""


@dataclass(frozen=True)
class ApiKey:
    """A key as the service knows it: never the key itself."""

    name: str
    scopes: frozenset[str]
    created_at: str
    revoked_at: str | None = None

    def allows(self, scope: str) -> bool:
        """``admin`` may do everything; otherwise the scope must be granted."""
        return "admin" in self.scopes or scope in self.scopes

    def as_dict(self) -> dict[str, object]:
        return {"name": self.name, "scopes": sorted(self.scopes), "created_at": self.created_at,
                "revoked_at": self.revoked_at}


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def parse_scopes(text: str | Iterable[str]) -> frozenset[str]:
    """``"ask,analytics:read"`` -> the scopes; unknown ones are refused by name."""
    names = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    if not names:
        raise KeyRequestError(f"name at least one scope: {', '.join(SCOPES)}")
    unknown = [s for s in names if s not in SCOPES]
    if unknown:
        raise KeyRequestError(f"unknown scope {unknown[0]!r}: use {', '.join(SCOPES)}")
    return frozenset(names)


class KeyRing:
    """The keys of one knowledge base; one short SQLite transaction per call."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    @classmethod
    def beside(cls, kb_dir: Path) -> KeyRing:
        return cls(Path(kb_dir) / KEYS_FILE)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=10)
        connection.execute("CREATE TABLE IF NOT EXISTS keys (name TEXT PRIMARY KEY, digest TEXT UNIQUE NOT NULL, "
                           "scopes TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT)")
        return connection

    def create(self, name: str, scopes: str | Iterable[str]) -> str:
        """A new key for ``name`` with ``scopes``; returns the key, which is not kept."""
        if not NAME.match(name):
            raise KeyRequestError("a key name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
        granted = parse_scopes(scopes)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        with self._connect() as connection:
            try:
                connection.execute("INSERT INTO keys VALUES (?, ?, ?, ?, NULL)",
                                   (name, _digest(key), ",".join(sorted(granted)), _now()))
            except sqlite3.IntegrityError:
                raise KeyRequestError(f"a key named {name!r} exists already (revoked ones too): choose another name") \
                    from None
        return key

    def revoke(self, name: str) -> bool:
        """Revoke ``name``'s key; False if there is no such key or it was revoked already."""
        with self._connect() as connection:
            changed = connection.execute("UPDATE keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                                         (_now(), name)).rowcount
        return changed == 1

    def list(self) -> list[ApiKey]:
        if not self.path.exists():
            return []
        with self._connect() as connection:
            rows = connection.execute("SELECT name, scopes, created_at, revoked_at FROM keys ORDER BY name").fetchall()
        return [ApiKey(name, frozenset(scopes.split(",")), created, revoked) for name, scopes, created, revoked in rows]

    def verify(self, key: str) -> ApiKey | None:
        """The live key ``key`` is, or None (unknown, malformed or revoked)."""
        if not key.startswith(KEY_PREFIX) or len(key) > 200 or not self.path.exists():
            return None
        digest = _digest(key)
        with self._connect() as connection:
            row = connection.execute("SELECT name, digest, scopes, created_at, revoked_at FROM keys WHERE digest = ?",
                                     (digest,)).fetchone()
        if row is None or not hmac.compare_digest(row[1], digest) or row[4] is not None:
            return None
        return ApiKey(row[0], frozenset(row[2].split(",")), row[3], row[4])


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
