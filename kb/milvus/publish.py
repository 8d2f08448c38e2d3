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

import hashlib
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from kb.errors import BackendUnavailable, KBError
from kb.index import LoadedIndex, load_index
from kb.knowledge_base import BACKEND_KEY
from kb.milvus.aliases import has_aliases, named, query_rows, quiet_probe, switch, unimplemented
from kb.milvus.schema import (
    DEPARTMENT_BYTES,
    DEPARTMENT_LIST_CAPACITY,
    SCHEMA_VERSION,
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

#: The store's meta key holding the knowledge base's id in Milvus names.
KB_ID_KEY = "milvus_kb_id"
#: The store's meta key recording the last publication: collection, generation, model and
#: each document's signature (``document_signatures``).
PUBLISHED_KEY = "milvus_published"
BATCH = 256
#: The environment variable holding the Milvus token.
TOKEN_VARIABLE = "POLICYKB_MILVUS_TOKEN"
#: Documents whose published passages one query lists (a law has at most a few hundred).
STALE_QUERY_DOCUMENTS = 10
#: Passages read from the store and the generation at a time while publishing.
READ_BATCH = 4096
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
    #: Passages deleted by an update (a full publication replaces the collection instead).
    removed: int = 0
    #: A new collection behind the alias (True) or the aliased one updated in place.
    full: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "dropped": list(self.dropped)}

    def backend_record(self) -> dict[str, str]:
        """What the store records so later commands read from this Milvus (``BACKEND_KEY``)."""
        return {"backend": "milvus", "uri": self.uri, "alias": self.alias}


def connect(uri: str, *, token: str | None = None) -> Any:
    """A ``pymilvus.MilvusClient`` for ``uri`` (imported here: Milvus is an optional extra).

    The token (``user:password`` or an API key) comes from ``token`` or the environment's
    ``POLICYKB_MILVUS_TOKEN``, never from the store: a knowledge base directory holds no secret.
    """
    try:
        from pymilvus import MilvusClient
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise KBError("Milvus support is not installed: pip install 'policykb[milvus]'") from error
    try:
        return MilvusClient(uri=uri, token=token or os.environ.get(TOKEN_VARIABLE, ""))
    except Exception as error:  # pymilvus raises its own and grpc's errors; their classes differ by version
        raise BackendUnavailable(f"cannot connect to Milvus at {uri}: {error}") from error


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


def passage_batches(knowledge_base: KnowledgeBase, index: LoadedIndex, doc_ids: set[str] | None = None,
                    *, size: int = READ_BATCH) -> Iterator[list[dict[str, Any]]]:
    """The rows of every passage the generation serves (of ``doc_ids`` only, when given), at most
    ``size`` at a time, so that publishing millions of passages holds one batch in memory:
    citation fields from the store, validity and vector from the generation. Passages deleted
    from the store since are left out, as SQLite search leaves them out of its hits."""
    store = knowledge_base.store
    live = np.ones(len(index.segment_ids), dtype=bool) if index.live is None else np.asarray(index.live)
    if doc_ids is not None:
        live = live & np.array([doc in doc_ids for doc in index.doc_ids], dtype=bool)
    answers = store.confirmed_answers_per_document()
    all_positions = np.flatnonzero(live)
    for begin in range(0, len(all_positions), size):
        positions = all_positions[begin:begin + size]
        ids = [index.segment_ids[i] for i in positions]
        segments: dict[str, dict[str, Any]] = {}
        for start in range(0, len(ids), LOOKUP_CHUNK):
            segments.update(store.segments_by_ids(ids[start:start + LOOKUP_CHUNK], with_terms=True))
        documents = store.documents_by_ids({segment["doc_id"] for segment in segments.values()})
        rows = []
        for position, segment_id, vector in zip(positions, ids, _vectors(index, positions)):
            segment = segments.get(segment_id)
            if segment is not None:
                rows.append(_row(index, int(position), segment_id, segment, documents[segment["doc_id"]],
                                 answers.get(segment["doc_id"], 0), vector))
        if rows:
            yield rows


def _department_list(departments: list[str], segment_id: str) -> list[str]:
    if len(departments) > DEPARTMENT_LIST_CAPACITY:
        raise PublishError(f"{segment_id}: more than {DEPARTMENT_LIST_CAPACITY} responsible departments")
    return [_checked("a department", name, DEPARTMENT_BYTES, segment_id) for name in departments]


def _row(index: LoadedIndex, position: int, segment_id: str, segment: dict[str, Any], document: dict[str, Any],
         answers: int, vector: np.ndarray) -> dict[str, Any]:
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
               superseded_from=int(index.superseded_from[position]), answers=int(answers), vector=vector.tolist(),
               department_list=_department_list(segment["departments"], segment_id),
               terms=_checked("terms", terms_text((segment.get("terms") or "").split()), TERMS_BYTES, segment_id))
    return row


def server_version(client: Any) -> str:
    """What the server calls its version; "" where it has no ``GetVersion`` (Milvus Lite 2.5)."""
    try:
        with quiet_probe():
            return str(client.get_server_version() or "")
    except Exception as error:  # pymilvus passes grpc's error through; its class differs by version
        if not unimplemented(error):
            raise
        return ""


def analyzer_tokenizer(client: Any) -> str:
    """The tokenizer that keeps policykb's terms whole: a server's ``whitespace``; Milvus Lite 3.x
    (which names itself ``milvus_lite-<version>``) has none, and gets ``standard`` over escaped
    terms (``kb.milvus.schema``). Milvus Lite 2.5 has no ``GetVersion`` and has ``whitespace``,
    as a server does."""
    return TOKENIZERS[1] if server_version(client).startswith("milvus_lite") else TOKENIZERS[0]


def _create(client: Any, name: str, dim: int, description: dict[str, Any], *, k1: float, b: float,
            vector_index: str) -> str:
    tokenizer = analyzer_tokenizer(client)
    recorded = json.dumps({**description, "tokenizer": tokenizer}, ensure_ascii=False)
    # recorded twice: Milvus Lite 3.x drops a collection's description, Milvus Lite 2.5 its properties
    client.create_collection(name, schema=collection_schema(client, dim, tokenizer, description=recorded),
                             properties={PUBLICATION_PROPERTY: recorded},
                             index_params=index_params(client, k1=k1, b=b, vector_index=vector_index))
    return tokenizer


def _count(client: Any, name: str) -> int:
    return int(client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"])


def _description(knowledge_base: KnowledgeBase, index: LoadedIndex) -> dict[str, Any]:
    bm25 = index.bm25.parameters
    embedding = index.manifest.get("embedding") or {}
    assert index.dense is not None
    return {"kb_id": kb_id(knowledge_base), "generation": index.generation,
            "model": embedding.get("model"), "model_id": embedding.get("model_id"),
            "supervised": bool(embedding.get("supervised")), "dim": int(index.dense.dim),
            "places": sorted({j for j in index.jurisdictions if j}), "k1": bm25.k1, "b": bm25.b}


def _servable(knowledge_base: KnowledgeBase) -> LoadedIndex:
    index = load_index(knowledge_base.kb_dir, expected_fingerprint=knowledge_base.tokenizer.fingerprint)
    if index.dense is None or index.model is None:
        raise PublishError("the generation has no passage vectors (or its model is missing): "
                           "run `policykb build` first")
    return index


def document_signatures(knowledge_base: KnowledgeBase) -> dict[str, str]:
    """{doc_id: digest of everything its rows in Milvus are made of, but the vectors}: when a
    document was stored, its citation fields, validity, place and confirmed answers. A
    document whose digest changed since the last publication is written again."""
    store = knowledge_base.store
    versions = store.document_versions()
    validity = store.document_validity()
    answers = store.confirmed_answers_per_document()
    signatures = {}
    for doc_id, document in store.documents_by_ids(versions).items():
        facts = [versions[doc_id], validity.get(doc_id), answers.get(doc_id, 0),
                 *(document[name] for name in ("title", "doc_number", "issuer", "date", "status",
                                               "superseded_by", "jurisdiction")),
                 document["metadata"].get("kind")]
        signatures[doc_id] = hashlib.sha256(json.dumps(facts, ensure_ascii=False).encode()).hexdigest()[:16]
    return signatures


def _published_form(knowledge_base: KnowledgeBase, description: dict[str, Any]) -> dict[str, Any]:
    """What every row was made with: a change of any of these rewrites the whole collection."""
    return {"schema": SCHEMA_VERSION, "model_id": description["model_id"], "tokenizer": knowledge_base.tokenizer.fingerprint,
            "k1": description["k1"], "b": description["b"], "dim": description["dim"]}


def _record_published(knowledge_base: KnowledgeBase, collection: str, description: dict[str, Any],
                      signatures: dict[str, str]) -> None:
    knowledge_base.store.set_meta(PUBLISHED_KEY, json.dumps(
        {"collection": collection, "generation": description["generation"],
         "form": _published_form(knowledge_base, description), "documents": signatures}, ensure_ascii=False))


def publish(knowledge_base: KnowledgeBase, uri: str, *, token: str | None = None, vector_index: str = "FLAT",
            client: Any | None = None) -> Publication:
    """Write the knowledge base's current generation to a new collection and switch its alias.

    ``vector_index`` is "FLAT" (exact, as policykb searches a small index) or "HNSW" (a
    server's choice for millions of passages).
    """
    began = time.perf_counter()
    index = _servable(knowledge_base)
    client = client or connect(uri, token=token)
    alias = alias_name(kb_id(knowledge_base))
    aliases = has_aliases(client)  # else a pointer collection stands for the alias (kb.milvus.aliases)
    previous = named(client, alias, aliases=aliases)
    for name in client.list_collections():  # half-written leftovers of an interrupted publication
        if name.startswith(alias + "__") and name != previous:
            client.drop_collection(name)
    stamp = time.time_ns() // 1_000_000
    name = collection_name(alias, index.generation, stamp)
    bm25 = index.bm25.parameters
    description = _description(knowledge_base, index)
    _create(client, name, int(description["dim"]), description, k1=bm25.k1, b=bm25.b, vector_index=vector_index)
    passages = 0
    try:
        for rows in passage_batches(knowledge_base, index):
            for start in range(0, len(rows), BATCH):
                client.insert(name, rows[start:start + BATCH])
            passages += len(rows)
        client.flush(name)
        client.load_collection(name)
        written = _count(client, name)
        if written != passages:
            raise PublishError(f"Milvus holds {written} passages of {passages} written to {name}")
    except BaseException:
        client.drop_collection(name)
        raise
    switch(client, alias, name, stamp, previous, aliases=aliases)
    dropped = []
    if previous is not None and previous != name:
        client.drop_collection(previous)
        dropped.append(previous)
    _record_published(knowledge_base, name, description, document_signatures(knowledge_base))
    return Publication(uri, alias, name, index.generation, passages, tuple(dropped),
                       round(time.perf_counter() - began, 3))


def update(knowledge_base: KnowledgeBase, uri: str, *, token: str | None = None, vector_index: str = "FLAT",
           client: Any | None = None) -> Publication:
    """Bring the collection the alias names up to the current generation, document by document.

    The documents whose rows changed since the last publication (``document_signatures``)
    are upserted by passage id, then their passages that no longer exist and the passages of
    deleted documents are deleted, so a reader never misses a document that is still there.
    Falls back to a full :func:`publish` when nothing was published yet, when the alias names
    another collection than the one recorded, or when what every row is made with changed
    (the embedding model, the tokenizer, BM25's parameters, the collection's schema).
    """
    began = time.perf_counter()
    index = _servable(knowledge_base)
    client = client or connect(uri, token=token)
    alias = alias_name(kb_id(knowledge_base))
    recorded = json.loads(knowledge_base.store.meta(PUBLISHED_KEY) or "{}")
    description = _description(knowledge_base, index)
    collection = named(client, alias)
    if collection is None or collection != recorded.get("collection") \
            or recorded.get("form") != _published_form(knowledge_base, description):
        return publish(knowledge_base, uri, token=token, vector_index=vector_index, client=client)
    before: dict[str, str] = recorded.get("documents") or {}
    now = document_signatures(knowledge_base)
    changed = {doc_id for doc_id, signature in now.items() if before.get(doc_id) != signature}
    removed = sorted(before.keys() - now.keys())
    kept: set[str] = set()
    for rows in passage_batches(knowledge_base, index, changed) if changed else ():
        for start in range(0, len(rows), BATCH):
            client.upsert(collection, rows[start:start + BATCH])
        kept.update(row["segment_id"] for row in rows)
    ordered = sorted(changed & before.keys())  # only documents published before have rows to lose
    stale = [hit["segment_id"] for start in range(0, len(ordered), STALE_QUERY_DOCUMENTS)
             for hit in query_rows(client, collection, f"doc_id in {_json_list(ordered[start:start + STALE_QUERY_DOCUMENTS])}",
                                   ["segment_id"])
             if hit["segment_id"] not in kept]  # a few documents a query: Milvus answers at most 16,384 rows
    for start in range(0, len(stale), LOOKUP_CHUNK):
        client.delete(collection, ids=stale[start:start + LOOKUP_CHUNK])
    for start in range(0, len(removed), LOOKUP_CHUNK):
        client.delete(collection, filter=f"doc_id in {_json_list(removed[start:start + LOOKUP_CHUNK])}")
    client.flush(collection)
    recorded_description = json.dumps({**description, "tokenizer": analyzer_tokenizer(client)}, ensure_ascii=False)
    try:
        with quiet_probe():
            client.alter_collection_properties(collection, properties={PUBLICATION_PROPERTY: recorded_description})
    except Exception as error:  # Milvus Lite 2.5: UNIMPLEMENTED; the description keeps the first generation
        if not unimplemented(error):
            raise
        log.info("%s cannot record the generation it now holds (%s)", collection, error)
    _record_published(knowledge_base, collection, description, now)
    return Publication(uri, alias, collection, index.generation, len(kept), (),
                       round(time.perf_counter() - began, 3), removed=len(stale) + len(removed), full=False)


def _json_list(values: list[str]) -> str:
    return json.dumps(values, ensure_ascii=False)


def record_backend(knowledge_base: KnowledgeBase, publication: Publication) -> None:
    """Record that this knowledge base is served from the Milvus ``publication`` went to."""
    knowledge_base.use_milvus(publication.uri)


def backend_of(knowledge_base: KnowledgeBase) -> dict[str, Any]:
    """The recorded backend: ``{"backend": "sqlite"}`` unless a migration recorded another."""
    return knowledge_base.backend


__all__ = ["BACKEND_KEY", "Publication", "PublishError", "backend_of", "connect", "document_signatures", "kb_id",
           "passage_batches", "publish", "server_version", "record_backend", "update"]
