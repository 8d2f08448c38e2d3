"""SQLite, through sqlite-utils, as the one source of truth for documents and segments.

Every index is derived from this file and can be rebuilt from it alone. One document
version is written in one ``BEGIN IMMEDIATE`` transaction (the document row and all its
segments, or nothing); the ingest connection runs with ``synchronous=FULL`` so that an
acknowledged ingest survives a power cut. A ``data_version`` counter in the ``meta``
table moves on every write, so an index can tell whether it is stale.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlite_utils

from kb.errors import DocumentNotFound, SegmentNotFound
from kb.types import Document

DB_FILENAME = "kb.sqlite"
#: Document columns derived at build time (jurisdiction at add time), added to older stores.
VALIDITY_COLUMNS: dict[str, type] = {"jurisdiction": str, "declared_status": str, "superseded_by": str, "effective": int, "expires": int,
                                     "superseded_from": int}
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class IndexRow:
    """What the index builder needs of one segment, in a stable order."""

    segment_id: str
    doc_id: str
    status: str
    jurisdiction: str | None
    effective: int
    expires: int
    superseded_from: int
    terms: str
    content_hash: str
    embed_text: str


class Store:
    """Documents, segments and the embedding cache in ``kb_dir/kb.sqlite``."""

    def __init__(self, kb_dir: Path | str, *, readonly: bool = False) -> None:
        self.path = Path(kb_dir) / DB_FILENAME
        if readonly and not self.path.exists():
            raise FileNotFoundError(self.path)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 10000")
        self.db = sqlite_utils.Database(conn)
        self.added_columns: list[str] = []
        if not readonly:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            self._ensure_schema()

    def close(self) -> None:
        self.db.close()

    # -- schema and transactions -------------------------------------------------

    def _ensure_schema(self) -> None:
        with self.write():
            self.db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
            self.db["documents"].create(
                {
                    "doc_id": str,
                    "title": str,
                    "doc_number": str,
                    "issuer": str,
                    "date": str,
                    "status": str,
                    "jurisdiction": str,
                    "source": str,
                    "content_hash": str,
                    "text": str,
                    "metadata": str,
                    "segment_count": int,
                    "ingested_at": float,
                },
                pk="doc_id",
                if_not_exists=True,
            )
            self.db["segments"].create(
                {
                    "segment_id": str,
                    "doc_id": str,
                    "ordinal": int,
                    "anchor": str,
                    "locator": str,
                    "section_path": str,
                    "departments": str,
                    "start": int,
                    "end": int,
                    "text": str,
                    "terms": str,
                    "content_hash": str,
                },
                pk="segment_id",
                foreign_keys=[("doc_id", "documents", "doc_id")],
                if_not_exists=True,
            )
            self.db["embeddings"].create(
                {"model_id": str, "content_hash": str, "vector": bytes},
                pk=("model_id", "content_hash"),
                if_not_exists=True,
            )
            self.db["head_vectors"].create(
                {"segment_id": str, "encoder": str, "content_hash": str, "title": str, "vector": bytes},
                pk="segment_id",
                if_not_exists=True,
            )
            self.added_columns = [
                name for name in VALIDITY_COLUMNS if name not in self.db["documents"].columns_dict
            ]
            for name in self.added_columns:  # knowledge bases made before the column existed
                self.db["documents"].add_column(name, VALIDITY_COLUMNS[name])
            if "declared_status" in self.added_columns:
                # what the source declared, not what an earlier build derived from dates and versions
                self.db.execute("UPDATE documents SET declared_status = CASE WHEN json_extract(metadata, "
                                "'$.expired') = 1 THEN 'expired' ELSE 'in_force' END")
            self.db["aliases"].create({"alias": str, "doc_id": str}, pk="alias", if_not_exists=True)
            self.db["training_pairs"].create(
                {"question": str, "segment_id": str, "source": str, "added_at": float},
                pk=("question", "segment_id"),
                if_not_exists=True,
            )
            self.db["documents"].create_index(["content_hash"], if_not_exists=True)
            self.db["segments"].create_index(["doc_id", "ordinal"], if_not_exists=True)
            self.db["meta"].upsert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")

    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """One write transaction, taken with ``BEGIN IMMEDIATE`` so writers queue early."""
        self.db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.rollback()
            raise
        else:
            self.db.conn.execute("COMMIT")

    def _bump_version(self) -> None:
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES ('data_version', '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
        )

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self.write() as db:
            db["meta"].upsert({"key": key, "value": value}, pk="key")

    def data_version(self) -> int:
        return int(self.meta("data_version") or 0)

    # -- documents ---------------------------------------------------------------

    def put_document(self, document: Document, *, terms: Sequence[str], content_hash: str,
                     segment_hashes: Sequence[str], jurisdiction: str | None = None) -> None:
        """Store one document and its segments atomically, replacing an older copy."""
        segment_rows = [
            {
                "segment_id": document.segment_id(segment),
                "doc_id": document.doc_id,
                "ordinal": ordinal,
                "anchor": segment.anchor,
                "locator": segment.locator,
                "section_path": json.dumps(list(segment.section_path), ensure_ascii=False),
                "departments": json.dumps(list(segment.departments), ensure_ascii=False),
                "start": segment.start,
                "end": segment.end,
                "text": segment.text,
                "terms": segment_terms,
                "content_hash": segment_hash,
            }
            for ordinal, (segment, segment_terms, segment_hash) in enumerate(
                zip(document.segments, terms, segment_hashes, strict=True)
            )
        ]
        with self.write() as db:
            db.execute("DELETE FROM segments WHERE doc_id = ?", [document.doc_id])
            db["documents"].upsert(
                {
                    "doc_id": document.doc_id,
                    "title": document.title,
                    "doc_number": document.doc_number,
                    "issuer": document.issuer,
                    "date": document.date,
                    "status": document.status,
                    "declared_status": document.status,
                    "jurisdiction": jurisdiction,
                    "source": document.source,
                    "content_hash": content_hash,
                    "text": document.text,
                    "metadata": json.dumps(document.metadata, ensure_ascii=False, default=str),
                    "segment_count": len(segment_rows),
                    "ingested_at": time.time(),
                },
                pk="doc_id",
            )
            db["segments"].insert_all(segment_rows, pk="segment_id", batch_size=500)
            self._bump_version()

    def set_jurisdictions(self, values: Sequence[tuple[str, str | None]]) -> None:
        """Store ``(doc_id, jurisdiction)`` pairs; used to fill a column added to an old knowledge base."""
        with self.write() as db:
            db.conn.executemany("UPDATE documents SET jurisdiction = ? WHERE doc_id = ?",
                                [(value, doc_id) for doc_id, value in values])
            self._bump_version()

    def version_sources(self) -> list[tuple[str, str, str | None, str | None, dict[str, Any], str, str | None]]:
        rows = self.db.execute("SELECT doc_id, title, doc_number, date, metadata, coalesce(declared_status, status), "
                               "jurisdiction FROM documents ORDER BY doc_id")
        return [(d, t, n, dt, json.loads(m or "{}"), st, j) for d, t, n, dt, m, st, j in rows]

    def set_validity(self, values: Sequence[dict[str, Any]]) -> int:
        """Store resolved validity (doc_id, status, superseded_by, effective, expires, superseded_from);
        returns how many documents changed. The data version moves only if one did."""
        changed = 0
        with self.write() as db:
            for value in values:
                cursor = db.execute(
                    "UPDATE documents SET status = :status, superseded_by = :superseded_by, "
                    "effective = :effective, expires = :expires, superseded_from = :superseded_from "
                    "WHERE doc_id = :doc_id AND (status IS NOT :status OR superseded_by IS NOT :superseded_by "
                    "OR effective IS NOT :effective OR expires IS NOT :expires "
                    "OR superseded_from IS NOT :superseded_from)",
                    value,
                )
                changed += cursor.rowcount
            if changed:
                self._bump_version()
        return changed

    def jurisdiction_sources(self) -> list[tuple[str, dict[str, Any], str | None, str | None, str | None]]:
        """``(doc_id, metadata, issuer, title, stored jurisdiction)`` of every document."""
        rows = self.db.execute("SELECT doc_id, metadata, issuer, title, jurisdiction FROM documents")
        return [(doc_id, json.loads(metadata or "{}"), issuer, title, jurisdiction)
                for doc_id, metadata, issuer, title, jurisdiction in rows]

    def delete_document(self, doc_id: str) -> None:
        with self.write() as db:
            if not self.has_document(doc_id):
                raise DocumentNotFound(f"no document with id {doc_id!r}")
            db.execute("DELETE FROM segments WHERE doc_id = ?", [doc_id])
            db.execute("DELETE FROM documents WHERE doc_id = ?", [doc_id])
            self._bump_version()

    def has_document(self, doc_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM documents WHERE doc_id = ?", [doc_id]).fetchone() is not None

    def doc_id_for_hash(self, content_hash: str) -> str | None:
        row = self.db.execute(
            "SELECT doc_id FROM documents WHERE content_hash = ?", [content_hash]
        ).fetchone()
        return row[0] if row else None

    def counts(self) -> dict[str, int]:
        return {
            "documents": self.db["documents"].count,
            "segments": self.db["segments"].count,
        }

    def list_documents(self, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT doc_id, title, doc_number, issuer, date, status, superseded_by, jurisdiction, source, "
            "segment_count FROM documents ORDER BY doc_id LIMIT ? OFFSET ?",
            [limit, offset],
        )
        columns = [c[0] for c in rows.description]
        return [dict(zip(columns, row)) for row in rows.fetchall()]

    def add_alias(self, alias: str, doc_id: str) -> None:
        """Remember that ``alias`` named the same text as ``doc_id`` (a duplicate not stored)."""
        with self.write() as db:
            db["aliases"].upsert({"alias": alias, "doc_id": doc_id}, pk="alias")

    def canonical_id(self, doc_id: str) -> str:
        row = self.db.execute("SELECT doc_id FROM aliases WHERE alias = ?", [doc_id]).fetchone()
        return row[0] if row else doc_id

    def document(self, doc_id: str) -> dict[str, Any]:
        doc_id = self.canonical_id(doc_id)
        try:
            row = self.db["documents"].get(doc_id)
        except sqlite_utils.db.NotFoundError:
            raise DocumentNotFound(f"no document with id {doc_id!r}") from None
        row["metadata"] = json.loads(row["metadata"] or "{}")
        return row

    def documents_by_ids(self, doc_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = sorted(set(doc_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            "SELECT doc_id, title, doc_number, issuer, date, status, superseded_by, jurisdiction, source, metadata "
            f"FROM documents WHERE doc_id IN ({marks})",
            ids,
        )
        columns = [c[0] for c in rows.description]
        found = {}
        for row in rows.fetchall():
            record = dict(zip(columns, row))
            record["metadata"] = json.loads(record["metadata"] or "{}")
            found[record["doc_id"]] = record
        return found

    # -- segments ----------------------------------------------------------------

    def _segment_record(self, row: dict[str, Any], *, with_terms: bool = False) -> dict[str, Any]:
        row = dict(row)
        row["section_path"] = json.loads(row["section_path"])
        row["departments"] = json.loads(row["departments"])
        if not with_terms:
            row.pop("terms", None)
        return row

    def segment(self, segment_id: str) -> dict[str, Any]:
        try:
            return self._segment_record(self.db["segments"].get(segment_id))
        except sqlite_utils.db.NotFoundError:
            raise SegmentNotFound(f"no segment with id {segment_id!r}") from None

    def segments_by_ids(self, segment_ids: Sequence[str], *, with_terms: bool = False) -> dict[str, dict[str, Any]]:
        """The segments of ``segment_ids`` that exist (``with_terms``: their index terms too)."""
        if not segment_ids:
            return {}
        marks = ",".join("?" * len(segment_ids))
        rows = self.db.query(f"SELECT * FROM segments WHERE segment_id IN ({marks})", list(segment_ids))
        return {row["segment_id"]: self._segment_record(row, with_terms=with_terms) for row in rows}

    def ranking_passages(self, segment_ids: Sequence[str]) -> dict[str, tuple[str, str, int, str]]:
        """``(doc_id, text, ordinal, document title)`` of each existing segment of ``segment_ids``:
        what the learned ranker reads of a candidate, in one query (``kb.ranker``)."""
        if not segment_ids:
            return {}
        marks = ",".join("?" * len(segment_ids))
        rows = self.db.execute(
            "SELECT s.segment_id, s.doc_id, s.text, s.ordinal, d.title FROM segments s "
            f"JOIN documents d ON d.doc_id = s.doc_id WHERE s.segment_id IN ({marks})", list(segment_ids))
        return {sid: (doc_id, text, int(ordinal or 0), title or "") for sid, doc_id, text, ordinal, title in rows}

    def segments_in_reading_order(self) -> list[str]:
        """Every segment id, document by document, each document's in its order (``kb.search``
        finds a passage's neighbours by it; read through the (doc_id, ordinal) index)."""
        return [sid for (sid,) in self.db.execute("SELECT segment_id FROM segments ORDER BY doc_id, ordinal")]

    def segments_naming(self, departments: Sequence[str]) -> set[str]:
        """The ids of the segments that name one of ``departments`` as responsible."""
        rows = self.db.execute(
            "SELECT segment_id FROM segments WHERE departments != '[]' AND EXISTS "
            "(SELECT 1 FROM json_each(segments.departments) WHERE value IN (SELECT value FROM json_each(?)))",
            [json.dumps(list(departments), ensure_ascii=False)])
        return {segment_id for (segment_id,) in rows}

    def segments_of(self, doc_id: str) -> list[dict[str, Any]]:
        rows = self.db.query("SELECT * FROM segments WHERE doc_id = ? ORDER BY ordinal", [self.canonical_id(doc_id)])
        return [self._segment_record(row) for row in rows]

    def segment_index_texts(self) -> list[tuple[str, str]]:
        """``(segment_id, title + section path + text)`` of every segment: what gets tokenised."""
        cursor = self.db.execute(
            "SELECT s.segment_id, d.title, s.section_path, s.text "
            "FROM segments s JOIN documents d ON d.doc_id = s.doc_id ORDER BY s.segment_id"
        )
        return [(sid, " ".join([title or "", *json.loads(path), text])) for sid, title, path, text in cursor]

    def update_terms(self, terms: Sequence[tuple[str, str]]) -> None:
        """Replace stored terms (``(segment_id, space-joined terms)``) in one transaction."""
        with self.write() as db:
            db.conn.executemany("UPDATE segments SET terms = ? WHERE segment_id = ?",
                                [(value, sid) for sid, value in terms])

    def index_rows(self, doc_ids: Sequence[str] | None = None) -> list[IndexRow]:
        """Every segment (or those of ``doc_ids``) with what indexing needs, ordered by segment
        id for determinism."""
        where, parameters = "", []
        if doc_ids is not None:
            where = "WHERE s.doc_id IN (SELECT value FROM json_each(?)) "
            parameters = [json.dumps(list(doc_ids), ensure_ascii=False)]
        cursor = self.db.execute(
            "SELECT s.segment_id, s.doc_id, d.status, d.jurisdiction, "
            "coalesce(d.effective, 0), coalesce(d.expires, 99991231), coalesce(d.superseded_from, 99991231), "
            "s.terms, s.content_hash, d.title, s.section_path, s.text "
            "FROM segments s JOIN documents d ON d.doc_id = s.doc_id " + where + "ORDER BY s.segment_id",
            parameters,
        )
        rows = []
        for (segment_id, doc_id, status, jurisdiction, effective, expires, superseded_from, terms, content_hash,
             title, path, text) in cursor:
            heading = " ".join([title or "", *json.loads(path)])
            rows.append(IndexRow(segment_id, doc_id, status, jurisdiction, effective, expires, superseded_from,
                                 terms, content_hash, f"{heading} {text}"))
        return rows

    def document_versions(self) -> dict[str, float]:
        """{doc_id: when it was last stored}: what an index generation was built from, so the
        next build can tell which documents changed since (``kb.delta``)."""
        return dict(self.db.execute("SELECT doc_id, ingested_at FROM documents").fetchall())

    def corpus_checksum(self) -> str:
        """SHA-256 over every segment's content hash in segment-id order (as a full build
        computes it from its rows)."""
        hashes = [h for (h,) in self.db.execute("SELECT content_hash FROM segments ORDER BY segment_id")]
        return hashlib.sha256("\n".join(hashes).encode()).hexdigest()

    def document_validity(self) -> dict[str, tuple[str, int, int, int]]:
        """{doc_id: (status, effective, expires, superseded_from)} as the index reads them."""
        cursor = self.db.execute(
            "SELECT doc_id, status, coalesce(effective, 0), coalesce(expires, 99991231), "
            "coalesce(superseded_from, 99991231) FROM documents")
        return {doc_id: (status, effective, expires, superseded) for doc_id, status, effective, expires, superseded
                in cursor}

    # -- training pairs ------------------------------------------------------------

    def add_training_pairs(self, pairs: Sequence[tuple[str, str]], source: str) -> None:
        now = time.time()
        with self.write() as db:
            db["training_pairs"].upsert_all(
                [{"question": q, "segment_id": sid, "source": source, "added_at": now} for q, sid in pairs],
                pk=("question", "segment_id"),
            )

    def training_pairs(self) -> list[tuple[str, str]]:
        rows = self.db.execute("SELECT question, segment_id FROM training_pairs ORDER BY question, segment_id")
        return [(q, sid) for q, sid in rows]

    def known_questions(self) -> list[str]:
        """Questions this knowledge base already knows are policy questions: those of the
        stored training pairs and the standard and similar questions of its FAQ items."""
        questions = {q for (q,) in self.db.execute("SELECT DISTINCT question FROM training_pairs")}
        rows = self.db.execute("SELECT json_extract(metadata, '$.question'), json_extract(metadata, '$.similar_questions') "
                               "FROM documents WHERE json_extract(metadata, '$.kind') = 'faq'")
        for question, similar in rows:
            questions.add(question or "")
            questions.update(q for q in json.loads(similar or "[]") if isinstance(q, str))
        return sorted(q for q in questions if q.strip())

    def confirmed_answers_per_document(self) -> dict[str, int]:
        """How many stored question pairs each document answers."""
        rows = self.db.execute("SELECT s.doc_id, count(*) FROM training_pairs t "
                               "JOIN segments s ON s.segment_id = t.segment_id GROUP BY s.doc_id")
        return {doc_id: count for doc_id, count in rows}

    def confirmed_answers_per_segment(self) -> dict[str, int]:
        """How many stored question pairs point to each passage."""
        rows = self.db.execute("SELECT segment_id, count(*) FROM training_pairs GROUP BY segment_id")
        return {segment_id: count for segment_id, count in rows}

    def segment_exists(self, segment_ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(segment_ids), 900):
            chunk = list(segment_ids[start : start + 900])
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(f"SELECT segment_id FROM segments WHERE segment_id IN ({marks})", chunk)
            found.update(r[0] for r in rows)
        return found

    # -- embedding cache ---------------------------------------------------------

    def cached_vectors(self, model_id: str, hashes: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(hashes), 900):
            chunk = list(hashes[start : start + 900])
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute(
                f"SELECT content_hash, vector FROM embeddings WHERE model_id = ? AND content_hash IN ({marks})",
                [model_id, *chunk],
            )
            for content_hash, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.shape[0] == dim:
                    found[content_hash] = vector
        return found

    def cache_vectors(self, model_id: str, vectors: dict[str, np.ndarray]) -> None:
        rows = [
            {"model_id": model_id, "content_hash": h, "vector": v.astype(np.float32).tobytes()}
            for h, v in vectors.items()
        ]
        with self.write() as db:
            db["embeddings"].upsert_all(rows, pk=("model_id", "content_hash"), batch_size=500)

    # -- pretrained vectors of passage heads (kb.rerank) ---------------------------

    def segments_without_head_vector(self, encoder: str, chars: int) -> list[tuple[str, str, str, str]]:
        """``(segment_id, content_hash, title, first chars of text)`` of the segments whose head
        vector by ``encoder`` is missing or was made from another text or title."""
        return self.db.execute(
            "SELECT s.segment_id, s.content_hash, d.title, substr(s.text, 1, ?) FROM segments s "
            "JOIN documents d ON d.doc_id = s.doc_id LEFT JOIN head_vectors h ON h.segment_id = s.segment_id "
            "WHERE h.segment_id IS NULL OR h.encoder IS NOT ? OR h.content_hash IS NOT s.content_hash "
            "OR h.title IS NOT d.title ORDER BY s.segment_id", [chars, encoder]).fetchall()

    def save_head_vectors(self, encoder: str, rows: Sequence[tuple[str, str, str, np.ndarray]]) -> None:
        """Store ``(segment_id, content_hash, title, vector)`` rows made by ``encoder``."""
        with self.write() as db:
            db["head_vectors"].upsert_all(
                ({"segment_id": sid, "encoder": encoder, "content_hash": content_hash, "title": title,
                  "vector": vector.astype(np.float32).tobytes()} for sid, content_hash, title, vector in rows),
                pk="segment_id", batch_size=500)

    def drop_orphan_head_vectors(self) -> int:
        """Forget the head vectors of segments that no longer exist."""
        with self.write() as db:
            return db.execute("DELETE FROM head_vectors WHERE segment_id NOT IN "
                              "(SELECT segment_id FROM segments)").rowcount

    def head_vectors(self, encoder: str, segment_ids: Sequence[str], dim: int) -> dict[str, np.ndarray]:
        """The stored head vectors of ``segment_ids`` that still match their segment's text
        (none where the table predates this store, e.g. an old store opened read-only)."""
        if not segment_ids or not self._has_head_vectors:
            return {}
        marks = ",".join("?" * len(segment_ids))
        rows = self.db.execute(
            f"SELECT h.segment_id, h.vector FROM head_vectors h JOIN segments s ON s.segment_id = h.segment_id "
            f"WHERE h.segment_id IN ({marks}) AND h.encoder = ? AND h.content_hash = s.content_hash",
            [*segment_ids, encoder])
        found = {}
        for segment_id, blob in rows:
            vector = np.frombuffer(blob, dtype=np.float32)
            if vector.shape[0] == dim:
                found[segment_id] = vector
        return found

    def head_vector_matrix(self, encoder: str) -> tuple[list[str], np.ndarray]:
        """Every stored head vector of ``encoder`` that still matches its segment's text:
        (segment ids, one row each), in segment id order (none: an empty list and matrix)."""
        if not self._has_head_vectors:
            return [], np.zeros((0, 0), dtype=np.float32)
        ids, rows = [], []
        for segment_id, blob in self.db.execute(
                "SELECT h.segment_id, h.vector FROM head_vectors h JOIN segments s ON s.segment_id = h.segment_id "
                "WHERE h.encoder = ? AND h.content_hash = s.content_hash ORDER BY h.segment_id", [encoder]):
            ids.append(segment_id)
            rows.append(np.frombuffer(blob, dtype=np.float32))
        return ids, np.vstack(rows) if rows else np.zeros((0, 0), dtype=np.float32)

    @functools.cached_property
    def _has_head_vectors(self) -> bool:
        return self.db["head_vectors"].exists()
