"""What a knowledge-base directory holds, read from the outside: a content digest and the
invariants a crash must never break.

Read with plain ``sqlite3`` (read-only) and the index files themselves, not through
``kb``'s own objects, so a defect in ``kb`` cannot hide itself from the check.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DB = "kb.sqlite"
#: Document columns that describe content (``ingested_at`` is a clock, not content).
DOCUMENT_COLUMNS = ("doc_id", "title", "doc_number", "issuer", "date", "status", "source", "content_hash", "text",
                    "metadata", "segment_count")
SEGMENT_COLUMNS = ("segment_id", "doc_id", "ordinal", "anchor", "locator", "section_path", "departments", "start",
                   "end", "text", "terms", "content_hash")
#: Index files whose bytes follow from the store alone. Not the vectors: the knowledge-base
#: model is trained with a fixed seed but not bit for bit the same (torch's threaded sums), so
#: two builds of one store give models of different ids; the checks require instead that a
#: generation's vectors match the model it names (it loads, not degraded).
DETERMINISTIC_INDEX_FILES = ("bm25_data.npy", "bm25_indices.npy", "bm25_indptr.npy", "bm25_vocabulary.json",
                             "segment_ids.npy", "segment_doc.npy")


def _connect(kb_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{kb_dir / DB}?mode=ro", uri=True)


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def document_digests(kb_dir: Path) -> dict[str, str]:
    """A SHA-256 per stored document over its content columns and all its segments."""
    if not (kb_dir / DB).exists():
        return {}
    conn = _connect(kb_dir)
    try:
        if not {"documents", "segments"} <= _tables(conn):
            return {}
        columns = ", ".join(f'"{c}"' for c in DOCUMENT_COLUMNS)
        segment_columns = ", ".join(f'"{c}"' for c in SEGMENT_COLUMNS)
        digests = {}
        for row in conn.execute(f"SELECT {columns} FROM documents ORDER BY doc_id"):
            digest = hashlib.sha256(json.dumps(row, ensure_ascii=False).encode("utf-8"))
            for segment in conn.execute(f"SELECT {segment_columns} FROM segments WHERE doc_id = ? ORDER BY ordinal",
                                        [row[0]]):
                digest.update(json.dumps(segment, ensure_ascii=False).encode("utf-8"))
            digests[row[0]] = digest.hexdigest()
        return digests
    finally:
        conn.close()


def content_digest(kb_dir: Path) -> str:
    """One SHA-256 over every document, segment and alias: equal digests, equal content."""
    digest = hashlib.sha256()
    for doc_id, value in sorted(document_digests(kb_dir).items()):
        digest.update(f"{doc_id}\t{value}\n".encode())
    if (kb_dir / DB).exists():
        conn = _connect(kb_dir)
        try:
            if "aliases" in _tables(conn):
                for alias, doc_id in conn.execute("SELECT alias, doc_id FROM aliases ORDER BY alias"):
                    digest.update(f"alias\t{alias}\t{doc_id}\n".encode())
        finally:
            conn.close()
    return digest.hexdigest()


def index_digest(kb_dir: Path) -> str | None:
    """A SHA-256 over what the served generation holds that follows from the store alone
    (counts, corpus checksum, settings, the BM25 and segment files, the vectors' dimension), or None without one."""
    pointer = kb_dir / "index" / "CURRENT"
    if not pointer.exists():
        return None
    manifest = json.loads((kb_dir / "index" / pointer.read_text(encoding="utf-8").strip() / "manifest.json")
                          .read_text(encoding="utf-8"))
    stable = {"data_version": manifest["data_version"], "counts": manifest["counts"],
              "corpus_checksum": manifest["corpus_checksum"], "settings": manifest["settings"],
              "tokenizer_fingerprint": manifest["tokenizer_fingerprint"],
              "dimension": (manifest.get("embedding") or {}).get("dimension"),
              "files": {name: manifest["files"].get(name) for name in DETERMINISTIC_INDEX_FILES}}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode("utf-8")).hexdigest()


@dataclass
class Findings:
    """What a check found wrong; empty when every invariant holds."""

    problems: list[str] = field(default_factory=list)

    def add(self, problem: str) -> None:
        self.problems.append(problem)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_store(kb_dir: Path, findings: Findings, *, reference: dict[str, str] | None = None) -> None:
    """SQLite integrity and whole documents: every document's segments are all there, in order,
    each the text its offsets name; no orphan segment; no text stored twice; and, given the
    digests of an uncrashed run, every stored document identical to its reference."""
    if not (kb_dir / DB).exists():
        return
    conn = _connect(kb_dir)
    try:
        result = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        if result != ["ok"]:
            findings.add(f"integrity_check: {result[:3]}")
            return
        if not {"documents", "segments"} <= _tables(conn):
            return  # killed while the schema was being made: no document was acknowledged
        orphans = conn.execute("SELECT count(*) FROM segments s LEFT JOIN documents d ON d.doc_id = s.doc_id "
                               "WHERE d.doc_id IS NULL").fetchone()[0]
        if orphans:
            findings.add(f"{orphans} segments belong to no document")
        twice = conn.execute("SELECT content_hash, count(*) FROM documents GROUP BY content_hash HAVING count(*) > 1"
                             ).fetchall()
        if twice:
            findings.add(f"{len(twice)} texts stored more than once")
        for doc_id, text, segment_count in conn.execute("SELECT doc_id, text, segment_count FROM documents"):
            segments = conn.execute('SELECT ordinal, start, "end", text FROM segments WHERE doc_id = ? '
                                    "ORDER BY ordinal", [doc_id]).fetchall()
            if len(segments) != segment_count or [s[0] for s in segments] != list(range(segment_count)):
                findings.add(f"{doc_id}: {len(segments)} of {segment_count} segments stored")
                continue
            for _ordinal, start, end, segment_text in segments:
                if text[start:end] != segment_text:
                    findings.add(f"{doc_id}: a segment's offsets {start}-{end} do not point at its text")
                    break
    finally:
        conn.close()
    if reference is not None:
        for doc_id, digest in document_digests(kb_dir).items():
            if doc_id not in reference:
                findings.add(f"{doc_id}: stored, but not in the uncrashed run")
            elif digest != reference[doc_id]:
                findings.add(f"{doc_id}: differs from the uncrashed run's copy")


def _passages_listed(generation: Path, manifest: dict) -> int:
    """Passages a generation serves: a full build's ids, or a layered one's live base and delta."""
    if manifest.get("base") is not None:
        live = int(np.load(generation / "live.npy").sum())
        return live + len(json.loads((generation / "delta" / "segments.json").read_text(encoding="utf-8"))["segment_ids"])
    if (generation / "segment_ids.npy").exists():
        return len(np.load(generation / "segment_ids.npy"))
    return len(json.loads((generation / "segments.json").read_text(encoding="utf-8"))["segment_ids"])


def check_index(kb_dir: Path, findings: Findings) -> None:
    """``CURRENT`` is absent or names a whole generation: manifest present, every file's
    SHA-256 as the manifest says, segment list as long as the manifest's count."""
    pointer = kb_dir / "index" / "CURRENT"
    if not pointer.exists():
        return
    name = pointer.read_text(encoding="utf-8").strip()
    generation = kb_dir / "index" / name
    manifest_path = generation / "manifest.json"
    if not name.startswith("generation-") or not manifest_path.exists():
        findings.add(f"CURRENT names {name!r}, which has no manifest")
        return
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    for file, checksum in manifest["files"].items():
        if not (generation / file).exists() or _sha256(generation / file) != checksum:
            findings.add(f"{name}/{file} is missing or does not match its manifest")
    listed = _passages_listed(generation, manifest)
    if listed != manifest["counts"]["segments"]:
        findings.add(f"{name}: {listed} segments listed, manifest says {manifest['counts']['segments']}")
    embedding = manifest.get("embedding")
    if embedding and str(embedding.get("model", "")).startswith("models/"):
        if not (kb_dir / embedding["model"]).is_dir():
            findings.add(f"{name} names the model {embedding['model']}, which is missing")


def check(kb_dir: Path, *, reference: dict[str, str] | None = None) -> Findings:
    """Every invariant over ``kb_dir`` (see the module docstring)."""
    findings = Findings()
    check_store(kb_dir, findings, reference=reference)
    check_index(kb_dir, findings)
    return findings
