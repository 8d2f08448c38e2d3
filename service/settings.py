"""The service's settings: data, declared once, each documented, validated on creation.

This is the only module of policykb that reads environment variables, and it does so only in
:meth:`ServiceSettings.from_env`; everything else receives a ``ServiceSettings`` explicitly.

Environment variables (all optional except the knowledge base directory):

``POLICYKB_KB_DIR``
    Knowledge base directory (holds ``kb.sqlite`` and ``index/``). Required by ``from_env``
    unless ``kb_dir`` is passed as an override.
``POLICYKB_HOST`` / ``POLICYKB_PORT``
    Address to listen on; default ``127.0.0.1:8000`` (loopback: put a TLS proxy in front).
``POLICYKB_CORS_ORIGINS``
    Comma-separated browser origins allowed to call the API (``https://www.example.gov.cn``);
    empty (the default) adds no CORS headers at all. The same sites may embed the citizens'
    widget (its frame's ``frame-ancestors``); with none set only the service's own pages may.
``POLICYKB_HOTLINE``
    The hotline number the widget offers when it has no answer; default ``12345`` (a page may
    set its own with ``data-hotline``).
``POLICYKB_MAX_BODY_BYTES``
    Largest accepted request body; default 1 MiB, which keeps a 100,000-character question
    answerable with ``question_too_long`` while refusing multi-megabyte bodies with 413.
``POLICYKB_MAX_UPLOAD_BYTES`` / ``POLICYKB_MAX_UPLOAD_FILE_BYTES``
    Largest body of a document upload (``POST /v1/documents`` only, every other route keeps
    ``POLICYKB_MAX_BODY_BYTES``) and largest single file in it; default 50 MiB and 20 MiB. A
    body over the first is 413 ``request_too_large``; a file over the second is reported as
    failed (``too_large``) while the others in the same upload go in (a file limit above the
    body limit is in effect the body limit).
``POLICYKB_LIMIT_CONCURRENCY``
    Requests answered at once before answering 503 ``overloaded`` with ``Retry-After``
    (``/healthz`` excepted); idle connections do not count (they are closed when a request
    head does not arrive within 10 s). Default 64, ``0`` = no limit.
``POLICYKB_RATE_LIMIT`` / ``POLICYKB_KEY_RATE_LIMIT``
    Questions and feedback a minute per anonymous client address (default 60) and per API key
    (default 600); beyond it 429 with ``Retry-After``; ``0`` = no limit.
``POLICYKB_ADMIN_RATE_LIMIT``
    Uploads, deletes and rebuilds a minute per API key (each starts long work); default 30,
    ``0`` = no limit.
``POLICYKB_TRUSTED_PROXIES``
    Comma-separated addresses or networks of the reverse proxies in front of the service: only
    for requests from them does ``X-Forwarded-For`` name the client. Default none.
``POLICYKB_RETENTION_DAYS``
    Days the query log and feedback are kept in ``KB_DIR/activity.sqlite``; older rows are
    deleted (at start and then daily). Default 180, at most 3650.
``POLICYKB_REQUEST_HEAD_SECONDS``
    Time a client has to send a whole request head once connected (or after the previous
    response); a connection that sends nothing, or trickles its headers, is closed. Default 10.
``POLICYKB_DOCS``
    ``1``/``0``: serve ``/docs`` and ``/openapi.json`` (default on; turn off on a public listener).
``POLICYKB_LOG_LEVEL``
    uvicorn's log level; default ``info``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from service.ratelimit import parse_networks

ENV_PREFIX = "POLICYKB_"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_MAX_BODY_BYTES = 1 << 20
DEFAULT_MAX_UPLOAD_BYTES = 50 << 20
DEFAULT_MAX_UPLOAD_FILE_BYTES = 20 << 20
DEFAULT_LIMIT_CONCURRENCY = 64
DEFAULT_REQUEST_HEAD_SECONDS = 10.0
DEFAULT_RATE_LIMIT = 60
DEFAULT_RETENTION_DAYS = 180
DEFAULT_KEY_RATE_LIMIT = 600
DEFAULT_ADMIN_RATE_LIMIT = 30
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
#: A browser origin, e.g. "https://www.changshu.gov.cn" or "http://127.0.0.1:8080".
ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")
#: A telephone number as a caller dials it, e.g. "12345" or "0512-52712345".
HOTLINE = re.compile(r"^[0-9+][0-9 \-]{1,19}$")
DEFAULT_HOTLINE = "12345"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class ServiceSettings:
    """How the HTTP service runs; see the module docstring for the matching variables."""

    kb_dir: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    cors_origins: tuple[str, ...] = ()
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_upload_file_bytes: int = DEFAULT_MAX_UPLOAD_FILE_BYTES
    limit_concurrency: int | None = DEFAULT_LIMIT_CONCURRENCY
    request_head_seconds: float = DEFAULT_REQUEST_HEAD_SECONDS
    rate_limit: int | None = DEFAULT_RATE_LIMIT
    key_rate_limit: int | None = DEFAULT_KEY_RATE_LIMIT
    admin_rate_limit: int | None = DEFAULT_ADMIN_RATE_LIMIT
    trusted_proxies: tuple[str, ...] = ()
    retention_days: int = DEFAULT_RETENTION_DAYS
    docs: bool = True
    log_level: str = "info"
    hotline: str = DEFAULT_HOTLINE

    def __post_init__(self) -> None:
        # Normalise in place (frozen, so through object.__setattr__) so that callers may pass a
        # str path or a list of origins and still get a hashable, comparable value.
        object.__setattr__(self, "kb_dir", Path(self.kb_dir))
        object.__setattr__(self, "cors_origins", tuple(self.cors_origins))
        object.__setattr__(self, "trusted_proxies", tuple(self.trusted_proxies))
        parse_networks(self.trusted_proxies)  # a bad entry is a ValueError naming it
        for name in ("rate_limit", "key_rate_limit", "admin_rate_limit"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{name} must be a positive integer (or None for no limit)")
        if not isinstance(self.port, int) or isinstance(self.port, bool) or not 0 <= self.port <= 65535:
            raise ValueError(f"port must be an integer from 0 to 65535, not {self.port!r}")
        if not self.host:
            raise ValueError("host must not be empty")
        for origin in self.cors_origins:
            if origin != "*" and not ORIGIN.match(origin):
                raise ValueError(f"CORS origin {origin!r} is not scheme://host[:port]")
        if self.max_body_bytes < 1024:
            raise ValueError("max_body_bytes must be at least 1024")
        if min(self.max_upload_bytes, self.max_upload_file_bytes) < 1024:
            raise ValueError("max_upload_bytes and max_upload_file_bytes must be at least 1024")
        if self.limit_concurrency is not None and self.limit_concurrency < 1:
            raise ValueError("limit_concurrency must be positive (or None for no limit)")
        if isinstance(self.retention_days, bool) or not isinstance(self.retention_days, int) \
                or not 1 <= self.retention_days <= 3650:
            raise ValueError("retention_days must be an integer from 1 to 3650")
        if not 0.1 <= self.request_head_seconds <= 300:
            raise ValueError("request_head_seconds must be between 0.1 and 300")
        if self.log_level not in LOG_LEVELS:
            raise ValueError(f"log_level must be one of {', '.join(LOG_LEVELS)}")
        if not HOTLINE.match(self.hotline):
            raise ValueError(f"hotline must be a telephone number such as 12345, not {self.hotline!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServiceSettings:
        """Settings from ``POLICYKB_*`` variables; keyword ``overrides`` (e.g. CLI flags) win."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}

        def get(name: str) -> str | None:
            value = env.get(ENV_PREFIX + name)
            return value.strip() if value is not None and value.strip() else None

        if (kb_dir := get("KB_DIR")) is not None:
            values["kb_dir"] = Path(kb_dir)
        if (host := get("HOST")) is not None:
            values["host"] = host
        if (port := get("PORT")) is not None:
            values["port"] = _integer("POLICYKB_PORT", port)
        if (origins := get("CORS_ORIGINS")) is not None:
            values["cors_origins"] = tuple(o.strip() for o in origins.split(",") if o.strip())
        if (size := get("MAX_BODY_BYTES")) is not None:
            values["max_body_bytes"] = _integer("POLICYKB_MAX_BODY_BYTES", size)
        if (size := get("MAX_UPLOAD_BYTES")) is not None:
            values["max_upload_bytes"] = _integer("POLICYKB_MAX_UPLOAD_BYTES", size)
        if (size := get("MAX_UPLOAD_FILE_BYTES")) is not None:
            values["max_upload_file_bytes"] = _integer("POLICYKB_MAX_UPLOAD_FILE_BYTES", size)
        if (limit := get("LIMIT_CONCURRENCY")) is not None:
            number = _integer("POLICYKB_LIMIT_CONCURRENCY", limit)
            values["limit_concurrency"] = number or None
        if (rate := get("RATE_LIMIT")) is not None:
            values["rate_limit"] = _integer("POLICYKB_RATE_LIMIT", rate) or None
        if (key_rate := get("KEY_RATE_LIMIT")) is not None:
            values["key_rate_limit"] = _integer("POLICYKB_KEY_RATE_LIMIT", key_rate) or None
        if (admin_rate := get("ADMIN_RATE_LIMIT")) is not None:
            values["admin_rate_limit"] = _integer("POLICYKB_ADMIN_RATE_LIMIT", admin_rate) or None
        if (proxies := get("TRUSTED_PROXIES")) is not None:
            values["trusted_proxies"] = tuple(p.strip() for p in proxies.split(",") if p.strip())
        if (retention := get("RETENTION_DAYS")) is not None:
            values["retention_days"] = _integer("POLICYKB_RETENTION_DAYS", retention)
        if (head := get("REQUEST_HEAD_SECONDS")) is not None:
            values["request_head_seconds"] = _number("POLICYKB_REQUEST_HEAD_SECONDS", head)
        if (docs := get("DOCS")) is not None:
            values["docs"] = _boolean("POLICYKB_DOCS", docs)
        if (level := get("LOG_LEVEL")) is not None:
            values["log_level"] = level.lower()
        if (hotline := get("HOTLINE")) is not None:
            values["hotline"] = hotline
        values.update({key: value for key, value in overrides.items() if value is not None})
        if "kb_dir" not in values:
            raise ValueError("no knowledge base directory: set POLICYKB_KB_DIR or pass kb_dir")
        return cls(**values)

    def with_changes(self, **changes: Any) -> ServiceSettings:
        """A copy with some fields replaced (validated like a new instance)."""
        return replace(self, **changes)


def _integer(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{name} must be an integer, not {value!r}") from None


def _number(name: str, value: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {value!r}") from None


def _boolean(name: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError(f"{name} must be 1/0, true/false, yes/no or on/off, not {value!r}")
