"""The record of what was asked and what callers said about the answers: ``KB_DIR/activity.sqlite``.

Every answer the service gives is logged here (the masked question, how it was searched, which
passages came back, how long it took), and so is every piece of feedback on it. Analysts read
it (``/v1/analytics/…``) and ``policykb feedback export`` turns the confirmed passages into
training pairs and test questions.

Three rules shape this module:

* Nothing personal is stored: questions and comments pass through :func:`service.masking.mask`
  here, in the one class that writes, so no caller can forget it.
* It is never needed to answer. A file that cannot be opened or written costs a warning in the
  server log (no question text in it), not an answer: :meth:`ActivityLog.record_query` returns
  ``False`` instead of raising, and the next call tries again.
* It never holds an answer up. The service logs with :meth:`ActivityLog.record_query_later`:
  the answer is queued and the log's own thread writes what has queued in one transaction
  (a busy service writes many answers per commit, an idle one each at once). Every read and
  every feedback writes the queue first, so nothing reads around an answer already given, and
  :meth:`ActivityLog.close` (the server's clean shutdown) writes it all before returning.
* It is a separate file from ``kb.sqlite``: the knowledge base stays the truth about documents
  and can be rebuilt, copied or shipped without anyone's questions in it. WAL mode with
  ``synchronous=NORMAL`` (a power cut may lose the last answers logged, never corrupt the file).
  Plain ``sqlite3``: the service's dependencies are its web stack and ``kb``'s exports.

Rows older than ``retention_days`` (default 180, the limit for question analytics) are deleted
when the file is opened and once a day after.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kb import IN_FORCE, SearchResult
from service.masking import mask

log = logging.getLogger(__name__)

ACTIVITY_FILE = "activity.sqlite"
VERDICTS = ("helpful", "not_helpful", "correct_passage")
CHANNELS = ("api", "console", "widget")
RETENTION_DAYS = 180
MAX_COMMENT_CHARS = 1000
Clock = Callable[[], datetime]
SCHEMA = """
CREATE TABLE IF NOT EXISTS queries (
    query_id TEXT PRIMARY KEY, asked_at TEXT NOT NULL, question TEXT NOT NULL, channel TEXT NOT NULL,
    mode TEXT, top_k INTEGER, filters TEXT, generation TEXT, reason TEXT, degraded TEXT,
    hit_count INTEGER NOT NULL, latency_ms REAL
);
CREATE TABLE IF NOT EXISTS hits (
    query_id TEXT NOT NULL, rank INTEGER NOT NULL, segment_id TEXT NOT NULL, doc_id TEXT NOT NULL, status TEXT,
    PRIMARY KEY (query_id, rank)
);
CREATE TABLE IF NOT EXISTS feedback (
    feedback_id INTEGER PRIMARY KEY, query_id TEXT NOT NULL, verdict TEXT NOT NULL, segment_id TEXT,
    comment TEXT, created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS queries_asked_at ON queries (asked_at);
CREATE INDEX IF NOT EXISTS hits_doc_id ON hits (doc_id);
CREATE INDEX IF NOT EXISTS feedback_query_id ON feedback (query_id);
CREATE INDEX IF NOT EXISTS feedback_created_at ON feedback (created_at);
"""


class ActivityUnavailable(Exception):
    """The activity file cannot be opened or written (answers are unaffected)."""


class QueryNotFound(Exception):
    """No logged query has this id (never asked, not logged, or past retention)."""


@dataclass(frozen=True)
class ConfirmedPassage:
    """A question (masked) and the passage a caller confirmed answers it."""

    query_id: str
    question: str
    segment_id: str
    asked_at: str
    channel: str


class _RandomIds:
    """128-bit ids from the operating system's randomness, read 4 KiB at a time.

    One ``os.urandom`` call per answer was 8% of a busy server's samples; ids from a block
    are just as unguessable (``secrets``'s source), and one call now serves 256 answers.
    """

    BLOCK = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._block = b""
        self._offset = 0

    def next(self) -> str:
        with self._lock:
            if self._offset >= len(self._block):
                self._block, self._offset = os.urandom(self.BLOCK), 0
            chunk = self._block[self._offset:self._offset + 16]
            self._offset += 16
        return chunk.hex()


_random_ids = _RandomIds()


def new_query_id() -> str:
    """A random, unguessable id (32 hex digits): feedback is accepted for whoever holds it."""
    return _random_ids.next()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ActivityLog:
    """The query log and feedback in one SQLite file, opened on first use, safe across threads."""

    def __init__(self, path: Path | str, *, retention_days: int = RETENTION_DAYS, clock: Clock = _utc_now) -> None:
        self.path = Path(path)
        self.retention_days = retention_days
        self.clock = clock
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._purged_on: str | None = None
        # Answers queued by record_query_later: (query_id, asked_at, result, details); deque
        # appends and pops are atomic, so request threads never wait for the writer.
        self._pending: deque[tuple[str, str, SearchResult, dict[str, Any]]] = deque()
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._writer_lock = threading.Lock()
        self._closing = False

    @classmethod
    def beside(cls, kb_dir: Path | str, **options: Any) -> ActivityLog:
        """The activity log of the knowledge base in ``kb_dir`` (``kb_dir/activity.sqlite``)."""
        return cls(Path(kb_dir) / ACTIVITY_FILE, **options)

    # -- connection -------------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, check_same_thread=False, timeout=10)
        try:
            connection.execute("PRAGMA busy_timeout = 10000")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            with connection:
                connection.executescript(SCHEMA)
        except BaseException:
            connection.close()
            raise
        return connection

    @contextmanager
    def _database(self) -> Iterator[sqlite3.Connection]:
        """The open database under the lock; a failure closes it so the next call reopens."""
        with self._lock:
            try:
                if self._db is None:
                    self._db = self._open()
                self._purge_if_due(self._db)
                self._write_pending(self._db)
                yield self._db
            except (sqlite3.Error, OSError) as error:
                self._close_quietly()
                if dropped := len(self._pending):  # unopenable: the queue must not grow without end
                    self._pending.clear()
                    log.warning("%d queries not logged, the answers were sent anyway: %s", dropped, error)
                raise ActivityUnavailable(f"{self.path.name}: {error}") from error

    def _close_quietly(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None

    def close(self) -> None:
        """Write every queued answer, stop the writer thread and close the file (a later call
        opens it again)."""
        with self._writer_lock:
            writer, self._writer = self._writer, None
            self._closing = True
        if writer is not None:
            self._wake.set()
            writer.join()
        self.flush()
        with self._lock:
            self._close_quietly()
            self._closing = False

    def _purge_if_due(self, db: sqlite3.Connection) -> None:
        today = self.clock().date().isoformat()
        if self._purged_on == today:
            return
        cutoff = _timestamp(self.clock() - timedelta(days=self.retention_days))
        with db:
            old = "SELECT query_id FROM queries WHERE asked_at < ?"
            db.execute(f"DELETE FROM hits WHERE query_id IN ({old})", [cutoff])
            db.execute(f"DELETE FROM feedback WHERE query_id IN ({old})", [cutoff])
            db.execute("DELETE FROM queries WHERE asked_at < ?", [cutoff])
        self._purged_on = today

    # -- writing ----------------------------------------------------------------------------

    def record_query(self, query_id: str, result: SearchResult, *, top_k: int, filters: dict[str, Any],
                     channel: str = "api", latency_ms: float = 0.0) -> bool:
        """Log one answer under ``query_id``; ``False`` (and a warning) if it could not be written."""
        row = self._query_row(query_id, _timestamp(self.clock()), result, top_k=top_k, filters=filters,
                              channel=channel, latency_ms=latency_ms)
        hits = [{"query_id": query_id, "rank": hit.rank, "segment_id": hit.segment_id, "doc_id": hit.doc_id,
                 "status": hit.status} for hit in result.hits]
        try:
            with self._database() as db, db:
                db.execute(f"INSERT INTO queries ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                           list(row.values()))
                db.executemany("INSERT INTO hits (query_id, rank, segment_id, doc_id, status) "
                               "VALUES (:query_id, :rank, :segment_id, :doc_id, :status)", hits)
        except ActivityUnavailable as error:
            log.warning("query not logged, the answer was sent anyway: %s", error)
            return False
        except Exception as error:  # noqa: BLE001 - a log must never cost an answer
            log.warning("query not logged, the answer was sent anyway: unexpected %s", type(error).__name__)
            return False
        return True

    def record_query_later(self, query_id: str, result: SearchResult, *, top_k: int, filters: dict[str, Any],
                           channel: str = "api", latency_ms: float = 0.0) -> None:
        """Queue one answer for the log's own thread to write (see the module docstring); a
        failure to write is a warning in the server log, as with :meth:`record_query`."""
        details = {"top_k": top_k, "filters": filters, "channel": channel, "latency_ms": latency_ms}
        self._pending.append((query_id, _timestamp(self.clock()), result, details))
        if self._writer is None:
            self._start_writer()
        self._wake.set()

    def _start_writer(self) -> None:
        with self._writer_lock:
            if self._writer is None and not self._closing:
                self._writer = threading.Thread(target=self._write_until_closed, name="policykb-activity",
                                                daemon=True)
                self._writer.start()

    def _write_until_closed(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self.flush()
            if self._closing:
                return

    def flush(self) -> bool:
        """Write the queued answers now; False (warning logged) when the file cannot be written."""
        if not self._pending:
            return True
        try:
            with self._database():
                return True
        except ActivityUnavailable:
            return False

    def _write_pending(self, db: sqlite3.Connection) -> None:
        """Write what is queued in one transaction; hold ``_lock``. A failure drops the batch
        with a warning (answers are never held back for the log) and is raised."""
        batch = []
        while self._pending:
            batch.append(self._pending.popleft())
        if not batch:
            return
        try:
            queries, hits = [], []
            for query_id, asked_at, result, details in batch:
                queries.append(self._query_row(query_id, asked_at, result, **details))
                hits += [(query_id, hit.rank, hit.segment_id, hit.doc_id, hit.status) for hit in result.hits]
            with db:
                db.executemany(f"INSERT INTO queries ({', '.join(queries[0])}) "
                               f"VALUES ({', '.join(':' + name for name in queries[0])})", queries)
                db.executemany("INSERT INTO hits (query_id, rank, segment_id, doc_id, status) VALUES (?, ?, ?, ?, ?)",
                               hits)
        except Exception as error:
            log.warning("%d queries not logged, the answers were sent anyway: %s", len(batch),
                        error if isinstance(error, sqlite3.Error) else f"unexpected {type(error).__name__}")
            raise sqlite3.OperationalError(str(error)) from error

    def _query_row(self, query_id: str, asked_at: str, result: SearchResult, *, top_k: int,
                   filters: dict[str, Any], channel: str, latency_ms: float) -> dict[str, Any]:
        return {
            "query_id": query_id, "asked_at": asked_at, "question": mask(result.question),
            "channel": channel, "mode": result.mode, "top_k": top_k,
            "filters": json.dumps(filters, ensure_ascii=False, sort_keys=True), "generation": result.generation,
            "reason": result.reason, "degraded": result.degraded, "hit_count": len(result.hits),
            "latency_ms": round(latency_ms, 3),
        }

    def available(self) -> bool:
        """Whether the file can be opened now (a warning in the log when not)."""
        try:
            with self._database():
                return True
        except ActivityUnavailable as error:
            log.warning("activity log unavailable, answering without it: %s", error)
            return False

    def add_feedback(self, query_id: str, verdict: str, *, segment_id: str | None = None,
                     comment: str | None = None) -> dict[str, Any]:
        """Store a verdict on a logged answer; returns the stored row (comment masked).

        Raises :class:`QueryNotFound` for an unknown ``query_id``, ``ValueError`` for a verdict
        outside :data:`VERDICTS` or a ``correct_passage`` without a segment id, and
        :class:`ActivityUnavailable` when the file cannot be written. Whether the segment
        exists is the caller's question: this module does not open the knowledge base.
        """
        if verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
        if verdict == "correct_passage" and not segment_id:
            raise ValueError("a correct_passage verdict needs a segment_id")
        comment = mask(comment).strip() if comment else None
        row = {"query_id": query_id, "verdict": verdict, "segment_id": segment_id or None,
               "comment": (comment or None) and comment[:MAX_COMMENT_CHARS], "created_at": _timestamp(self.clock())}
        with self._database() as db, db:
            if db.execute("SELECT 1 FROM queries WHERE query_id = ?", [query_id]).fetchone() is None:
                raise QueryNotFound(query_id)
            row["feedback_id"] = db.execute(
                "INSERT INTO feedback (query_id, verdict, segment_id, comment, created_at) "
                "VALUES (:query_id, :verdict, :segment_id, :comment, :created_at)", row).lastrowid
        return {"feedback_id": row["feedback_id"], **{k: v for k, v in row.items() if k != "feedback_id"}}

    # -- reading ----------------------------------------------------------------------------

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._database() as db:
            cursor = db.execute(sql, list(params))
            columns = [c[0] for c in cursor.description]
            return [dict(zip(columns, row)) for row in cursor.fetchall()]

    def since(self, days: int) -> str:
        """The timestamp ``days`` days before now, for the ``since`` of the reading methods."""
        return _timestamp(self.clock() - timedelta(days=days))

    def query(self, query_id: str) -> dict[str, Any]:
        """One logged query with its hits and feedback; raises :class:`QueryNotFound`."""
        rows = self._rows("SELECT * FROM queries WHERE query_id = ?", [query_id])
        if not rows:
            raise QueryNotFound(query_id)
        return self._with_details(rows)[0]

    def _with_details(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not rows:
            return rows
        ids = [row["query_id"] for row in rows]
        marks = ",".join("?" * len(ids))
        hits: dict[str, list[dict[str, Any]]] = {}
        for hit in self._rows(f"SELECT query_id, rank, segment_id, doc_id, status FROM hits "
                              f"WHERE query_id IN ({marks}) ORDER BY query_id, rank", ids):
            hits.setdefault(hit.pop("query_id"), []).append(hit)
        feedback: dict[str, list[dict[str, Any]]] = {}
        for item in self._rows(f"SELECT feedback_id, query_id, verdict, segment_id, comment, created_at FROM feedback "
                               f"WHERE query_id IN ({marks}) ORDER BY feedback_id", ids):
            feedback.setdefault(item.pop("query_id"), []).append(item)
        for row in rows:
            row["filters"] = json.loads(row["filters"] or "{}")
            row["hits"] = hits.get(row["query_id"], [])
            row["feedback"] = feedback.get(row["query_id"], [])
        return rows

    def queries(self, *, since: str, limit: int, offset: int, channel: str | None = None,
                unanswered: bool = False) -> dict[str, Any]:
        """A page of the query log, newest first, with hits and feedback; ``total`` counts all."""
        where, params = ["asked_at >= ?"], [since]
        if channel:
            where.append("channel = ?")
            params.append(channel)
        if unanswered:
            where.append("hit_count = 0")
        clause = " AND ".join(where)
        total = self._rows(f"SELECT count(*) AS n FROM queries WHERE {clause}", params)[0]["n"]
        rows = self._rows(f"SELECT * FROM queries WHERE {clause} ORDER BY asked_at DESC, query_id "
                          "LIMIT ? OFFSET ?", [*params, limit, offset])
        return {"queries": self._with_details(rows), "limit": limit, "offset": offset, "total": total}

    def unanswered(self, *, since: str, limit: int) -> list[dict[str, Any]]:
        """The newest questions that got no passage (no search terms, off-topic, nothing found)."""
        return self._rows("SELECT query_id, question, reason, asked_at, channel FROM queries "
                          "WHERE asked_at >= ? AND hit_count = 0 ORDER BY asked_at DESC LIMIT ?", [since, limit])

    def summary(self, *, since: str) -> dict[str, Any]:
        """Counts for the window: questions, unanswered, by channel, feedback by verdict, latency."""
        totals = self._rows("SELECT count(*) AS queries, coalesce(sum(hit_count = 0), 0) AS unanswered, "
                            "coalesce(sum(reason = 'no_answer'), 0) AS no_answer FROM queries WHERE asked_at >= ?",
                            [since])[0]
        channels = {row["channel"]: row["n"] for row in self._rows(
            "SELECT channel, count(*) AS n FROM queries WHERE asked_at >= ? GROUP BY channel ORDER BY channel",
            [since])}
        verdicts = {verdict: 0 for verdict in VERDICTS}
        verdicts.update({row["verdict"]: row["n"] for row in self._rows(
            "SELECT verdict, count(*) AS n FROM feedback WHERE created_at >= ? GROUP BY verdict", [since])})
        latencies = [row["latency_ms"] for row in self._rows(
            "SELECT latency_ms FROM queries WHERE asked_at >= ? ORDER BY latency_ms", [since])]
        return {**totals, "channels": channels, "feedback": verdicts,
                "latency_ms": {"p50": _percentile(latencies, 0.5), "p95": _percentile(latencies, 0.95)}}

    def citations(self, *, since: str) -> list[dict[str, Any]]:
        """Per document: passages returned (``citations``), how often first, and when last."""
        return self._rows(
            "SELECT h.doc_id, count(*) AS citations, sum(h.rank = 1) AS first, "
            "count(DISTINCT h.query_id) AS queries, max(q.asked_at) AS last_cited "
            "FROM hits h JOIN queries q ON q.query_id = h.query_id WHERE q.asked_at >= ? "
            "GROUP BY h.doc_id ORDER BY citations DESC, h.doc_id", [since])

    def outdated_citations(self, *, since: str) -> list[dict[str, Any]]:
        """Per document no longer in force when it was returned: how often, by status."""
        return self._rows(
            "SELECT h.doc_id, h.status, count(*) AS citations, sum(h.rank = 1) AS first, "
            "max(q.asked_at) AS last_cited FROM hits h JOIN queries q ON q.query_id = h.query_id "
            "WHERE q.asked_at >= ? AND h.status != ? GROUP BY h.doc_id, h.status "
            "ORDER BY citations DESC, h.doc_id", [since, IN_FORCE])

    def citation_count(self, *, since: str) -> int:
        """All passages returned in the window."""
        return int(self._rows("SELECT count(*) AS n FROM hits h JOIN queries q ON q.query_id = h.query_id "
                              "WHERE q.asked_at >= ?", [since])[0]["n"])

    def feedback_by_day(self, *, since: str) -> list[dict[str, Any]]:
        """Per UTC day: questions asked, answers given feedback, and each verdict."""
        days: dict[str, dict[str, Any]] = {}
        for row in self._rows("SELECT substr(asked_at, 1, 10) AS day, count(*) AS n FROM queries "
                              "WHERE asked_at >= ? GROUP BY day", [since]):
            days[row["day"]] = {"day": row["day"], "queries": row["n"], "answers_with_feedback": 0,
                                **{verdict: 0 for verdict in VERDICTS}}
        for row in self._rows("SELECT substr(created_at, 1, 10) AS day, verdict, count(*) AS n, "
                              "count(DISTINCT query_id) AS answers FROM feedback WHERE created_at >= ? "
                              "GROUP BY day, verdict", [since]):
            entry = days.setdefault(row["day"], {"day": row["day"], "queries": 0, "answers_with_feedback": 0,
                                                 **{verdict: 0 for verdict in VERDICTS}})
            entry[row["verdict"]] += row["n"]
        for row in self._rows("SELECT substr(created_at, 1, 10) AS day, count(DISTINCT query_id) AS answers "
                              "FROM feedback WHERE created_at >= ? GROUP BY day", [since]):
            days[row["day"]]["answers_with_feedback"] = row["answers"]
        result = []
        for day in sorted(days):
            entry = days[day]
            judged = entry["helpful"] + entry["not_helpful"]
            entry["helpful_rate"] = round(entry["helpful"] / judged, 4) if judged else None
            entry["feedback_rate"] = (round(entry["answers_with_feedback"] / entry["queries"], 4)
                                      if entry["queries"] else None)
            result.append(entry)
        return result

    def confirmed_passages(self) -> list[ConfirmedPassage]:
        """Every ``correct_passage`` verdict with its (masked) question, oldest first."""
        rows = self._rows(
            "SELECT q.query_id, q.question, f.segment_id, q.asked_at, q.channel FROM feedback f "
            "JOIN queries q ON q.query_id = f.query_id WHERE f.verdict = 'correct_passage' "
            "AND f.segment_id IS NOT NULL ORDER BY q.asked_at, q.query_id, f.feedback_id")
        return [ConfirmedPassage(**row) for row in rows]


def _percentile(sorted_values: list[float], share: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]
