"""Publish a built index generation to Milvus: a new collection, then the alias switched.

The collection is written in full, flushed and loaded before the knowledge base's alias is
moved to it (one ``alter_alias`` call, atomic on the server), so a reader going through the
alias sees the old passages or the new ones, never a half-written collection. The collection
the alias named before is dropped after the switch (a reader caught between the two retries
once through the alias, see ``kb.milvus.searcher``); collections of this knowledge base
that no alias names (a publication that died half-way) are dropped before a new one starts.

Flushing also matters to BM25 on Milvus Lite 3.x: rows still in its memtable get BM25
statistics (IDF, average length) computed over the rows a filter keeps, rows in a flushed
segment over the whole segment, as a server does.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.errors import KBError
from kb.index import LoadedIndex, load_index
from kb.milvus.schema import (
    PUBLICATION_PROPERTY,
    SEGMENT_ID_BYTES,
    TERMS_BYTES,
    TEXT_FIELDS,
    TOKENIZERS,
    alias_name,
    collection_name,
    collection_schema,
    index_params,
    terms_text,
)

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase

log = logging.getLogger(__name__)

#: The store's meta key naming the backend a knowledge base is served from.
BACKEND_KEY = "backend"
#: The store's meta key holding the knowledge base's id in Milvus names.
KB_ID_KEY = "milvus_kb_id"
BATCH = 256
#: Store lookups per query (SQLite's limit on bound parameters is higher; this stays far below).
LOOKUP_CHUNK = 900


class PublishError(KBError):
    """A generation could not be written to Milvus (a field too long, a count that does not match)."""


@dataclass(frozen=True)
class Publication:
    """What one publication wrote: the collection, the alias now naming it, and what it dropped."""

    uri: str
    alias: str
    collection: str
    generation: str
    passages: int
    dropped: tuple[str, ...]
    seconds: float

    def backend_record(self) -> dict[str, str]:
        """What the store records so later commands read from this Milvus (``BACKEND_KEY``)."""
        return {"backend": "milvus", "uri": self.uri, "alias": self.alias}


def connect(uri: str, *, token: str | None = None) -> Any:
    """A ``pymilvus.MilvusClient`` for ``uri`` (imported here: Milvus is an optional extra)."""
    try:
        from pymilvus import MilvusClient
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise KBError("Milvus support is not installed: pip install 'policykb[milvus]'") from error
    return MilvusClient(uri=uri, token=token or "")


def kb_id(knowledge_base: KnowledgeBase) -> str:
    """This knowledge base's id in Milvus names, made once and kept in the store."""
    value = knowledge_base.store.meta(KB_ID_KEY)
    if value is None:
        value = secrets.token_hex(4)
        knowledge_base.store.set_meta(KB_ID_KEY, value)
    return value


def _vectors(index: LoadedIndex, positions: np.ndarray) -> np.ndarray:
    dense = index.dense
    assert dense is not None
    if hasattr(dense, "vectors_of"):
        return np.asarray(dense.vectors_of(positions), dtype=np.float32)
    offset = dense.offset  # a layered index: the base's passages, then the delta's
    out = np.empty((len(positions), dense.dim), dtype=np.float32)
    in_base = positions < offset
    out[in_base] = dense.base.vectors_of(positions[in_base])
    out[~in_base] = dense.delta.vectors_of(positions[~in_base] - offset)
    return out


def _checked(name: str, value: str, limit: int, segment_id: str) -> str:
    if len(value.encode("utf-8")) > limit:
        raise PublishError(f"{segment_id}: {name} is longer than Milvus' {limit} bytes")
    return value


def passage_rows(knowledge_base: KnowledgeBase, index: LoadedIndex) -> list[dict[str, Any]]:
    """One row per passage the generation serves: citation fields from the store, validity
    and vector from the generation (passages deleted from the store since are left out, as
    SQLite search leaves them out of its hits)."""
    store = knowledge_base.store
    live = np.ones(len(index.segment_ids), dtype=bool) if index.live is None else np.asarray(index.live)
    positions = np.flatnonzero(live)
    ids = [index.segment_ids[i] for i in positions]
    terms = {row.segment_id: row.terms for row in store.index_rows()}
    answers = store.confirmed_answers_per_document()
    segments: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), LOOKUP_CHUNK):
        segments.update(store.segments_by_ids(ids[start:start + LOOKUP_CHUNK]))
    documents = store.documents_by_ids({segment["doc_id"] for segment in segments.values()})
    vectors = _vectors(index, positions)
    rows = []
    for position, segment_id, vector in zip(positions, ids, vectors):
        segment = segments.get(segment_id)
        if segment is None:
            continue
        document = documents[segment["doc_id"]]
        text = {
            "doc_id": segment["doc_id"], "title": document["title"] or "", "doc_number": document["doc_number"] or "",
            "issuer": document["issuer"] or "", "date": document["date"] or "", "status": document["status"],
            "superseded_by": document["superseded_by"] or "",
            "kind": str(document["metadata"].get("kind") or "document"),
            "section_path": json.dumps(segment["section_path"], ensure_ascii=False), "locator": segment["locator"],
            "departments": json.dumps(segment["departments"], ensure_ascii=False), "text": segment["text"],
            "jurisdiction": index.jurisdictions[position] or "", "generation": index.generation,
        }
        row: dict[str, Any] = {"segment_id": _checked("segment_id", segment_id, SEGMENT_ID_BYTES, segment_id)}
        row.update({name: _checked(name, value, TEXT_FIELDS[name], segment_id) for name, value in text.items()})
        row.update(start=int(segment["start"]), end=int(segment["end"]),
                   effective=int(index.effective[position]), expires=int(index.expires[position]),
                   superseded_from=int(index.superseded_from[position]),
                   answers=int(answers.get(segment["doc_id"], 0)), vector=vector.tolist(),
                   terms=_checked("terms", terms_text((terms.get(segment_id) or "").split()), TERMS_BYTES,
                                  segment_id))
        rows.append(row)
    return rows


def analyzer_tokenizer(client: Any) -> str:
    """The tokenizer that keeps policykb's terms whole: a server's ``whitespace``; Milvus Lite 3.x
    (which names itself ``milvus_lite-<version>``) has none, and gets ``standard`` over escaped
    terms (``kb.milvus.schema``)."""
    version = str(client.get_server_version() or "")
    return TOKENIZERS[1] if version.startswith("milvus_lite") else TOKENIZERS[0]


def _create(client: Any, name: str, dim: int, description: dict[str, Any], *, k1: float, b: float,
            vector_index: str) -> str:
    tokenizer = analyzer_tokenizer(client)
    recorded = json.dumps({**description, "tokenizer": tokenizer}, ensure_ascii=False)
    client.create_collection(name, schema=collection_schema(client, dim, tokenizer),
                             properties={PUBLICATION_PROPERTY: recorded},
                             index_params=index_params(client, k1=k1, b=b, vector_index=vector_index))
    return tokenizer


def _count(client: Any, name: str) -> int:
    return int(client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"])


def _aliased(client: Any, alias: str) -> str | None:
    try:
        return client.describe_alias(alias)["collection_name"]
    except Exception:  # pymilvus raises for an unknown alias; its error class differs by version
        return None


def publish(knowledge_base: KnowledgeBase, uri: str, *, token: str | None = None, vector_index: str = "FLAT",
            client: Any | None = None) -> Publication:
    """Write the knowledge base's current generation to a new collection and switch its alias.

    ``vector_index`` is "FLAT" (exact, as policykb searches a small index) or "HNSW" (a
    server's choice for millions of passages).
    """
    began = time.perf_counter()
    index = load_index(knowledge_base.kb_dir, expected_fingerprint=knowledge_base.tokenizer.fingerprint)
    if index.dense is None or index.model is None:
        raise PublishError("the generation has no passage vectors (or its model is missing): "
                           "run `policykb build` first")
    client = client or connect(uri, token=token)
    alias = alias_name(kb_id(knowledge_base))
    previous = _aliased(client, alias)
    for name in client.list_collections():  # half-written leftovers of an interrupted publication
        if name.startswith(alias + "__") and name != previous:
            client.drop_collection(name)
    name = collection_name(alias, index.generation, time.time_ns() // 1_000_000)
    bm25 = index.bm25.parameters
    embedding = index.manifest.get("embedding") or {}
    description = {"kb_id": kb_id(knowledge_base), "generation": index.generation,
                   "model": embedding.get("model"), "model_id": embedding.get("model_id"),
                   "supervised": bool(embedding.get("supervised")), "dim": int(index.dense.dim),
                   "places": sorted({j for j in index.jurisdictions if j}), "k1": bm25.k1, "b": bm25.b}
    rows = passage_rows(knowledge_base, index)
    _create(client, name, int(index.dense.dim), description, k1=bm25.k1, b=bm25.b, vector_index=vector_index)
    try:
        for start in range(0, len(rows), BATCH):
            client.insert(name, rows[start:start + BATCH])
        client.flush(name)
        client.load_collection(name)
        written = _count(client, name)
        if written != len(rows):
            raise PublishError(f"Milvus holds {written} passages of {len(rows)} written to {name}")
    except BaseException:
        client.drop_collection(name)
        raise
    if previous is None:
        client.create_alias(name, alias)
    else:
        client.alter_alias(name, alias)
    dropped = []
    if previous is not None and previous != name:
        client.drop_collection(previous)
        dropped.append(previous)
    return Publication(uri, alias, name, index.generation, len(rows), tuple(dropped),
                       round(time.perf_counter() - began, 3))


def record_backend(knowledge_base: KnowledgeBase, publication: Publication) -> None:
    """Record in the store that this knowledge base is served from Milvus (``BACKEND_KEY``)."""
    knowledge_base.store.set_meta(BACKEND_KEY, json.dumps(publication.backend_record(), ensure_ascii=False))


def backend_of(knowledge_base: KnowledgeBase) -> dict[str, Any]:
    """The recorded backend: ``{"backend": "sqlite"}`` unless a migration recorded another."""
    value = knowledge_base.store.meta(BACKEND_KEY)
    return json.loads(value) if value else {"backend": "sqlite"}


__all__ = ["BACKEND_KEY", "Publication", "PublishError", "backend_of", "connect", "kb_id",
           "passage_rows", "publish", "record_backend"]
