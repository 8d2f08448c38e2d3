"""What differs between Milvus servers: aliases (or a pointer where a server has none), probes.

A Milvus server (and Milvus Lite 3.x) has aliases: ``alter_alias`` moves one atomically. Milvus
Lite 2.5 answers every alias call (and ``GetVersion``) with gRPC ``UNIMPLEMENTED``; there the
alias is a small collection of that name, the pointer, holding one row per collection published
through it: the row with the newest stamp names the current one. A publication inserts its row
once its collection is complete, then deletes the previous row and drops the previous
collection, so a reader resolving the pointer finds the old collection or the new one; a reader
whose collection was dropped resolves again (``kb.milvus.searcher``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: The pointer collection's fields (a collection needs a vector field; it holds a constant).
POINTER_NAME = "collection"
POINTER_STAMP = "stamp"
POINTER_VECTOR = "vector"
POINTER_NAME_BYTES = 512
#: More rows than a pointer ever holds (one, two during a publication).
POINTER_ROWS = 1024


def unimplemented(error: BaseException) -> bool:
    """Whether ``error`` is gRPC's ``UNIMPLEMENTED``: the server has no such call."""
    code = getattr(error, "code", None)  # a grpc.RpcError's code() (MilvusException.code is an int)
    return callable(code) and getattr(code(), "name", None) == "UNIMPLEMENTED"


@contextmanager
def quiet_probe() -> Iterator[None]:
    """Ask the server whether it has a call without pymilvus logging an ERROR when it has not
    (pymilvus logs every failed RPC before raising it)."""
    logger = logging.getLogger("pymilvus.decorators")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


#: What Milvus Lite 2.5 answers a query that finds no row in a collection with an ARRAY field.
EMPTY_ARRAY_QUERY_ERROR = "Unsupported data type: 0"


def query_rows(client: Any, collection: str, expression: str, fields: list[str]) -> list[dict[str, Any]]:
    """``client.query``, except that Milvus Lite 2.5's error for an empty answer (a collection
    with an ARRAY field, ``EMPTY_ARRAY_QUERY_ERROR``) reads as the empty answer it stands for."""
    return _rows_or_empty(lambda: client.query(collection, filter=expression, output_fields=fields))


def get_rows(client: Any, collection: str, ids: list[str], fields: list[str]) -> list[dict[str, Any]]:
    """``client.get`` by primary key, with Milvus Lite 2.5's empty answer read as in ``query_rows``."""
    return _rows_or_empty(lambda: client.get(collection, ids=ids, output_fields=fields))


def _rows_or_empty(read: Callable[[], Any]) -> list[dict[str, Any]]:
    from pymilvus import MilvusException

    try:
        with quiet_probe():
            return list(read())
    except MilvusException as error:
        if EMPTY_ARRAY_QUERY_ERROR in str(error):
            return []
        raise


def has_aliases(client: Any) -> bool:
    """Whether the server has aliases: any answer to ``list_aliases`` but UNIMPLEMENTED (asked
    without a collection, so that no unknown name makes pymilvus log an RPC error)."""
    try:
        with quiet_probe():
            client.list_aliases()
    except Exception as error:  # e.g. a privilege missing: the server has aliases all the same
        return not unimplemented(error)
    return True


def pointed(client: Any, alias: str) -> str | None:
    """The collection the pointer ``alias`` names (the newest row), or None."""
    if not client.has_collection(alias):
        return None
    rows = client.query(alias, filter=f"{POINTER_STAMP} >= 0", output_fields=[POINTER_NAME, POINTER_STAMP],
                        limit=POINTER_ROWS)
    return str(max(rows, key=lambda row: int(row[POINTER_STAMP]))[POINTER_NAME]) if rows else None


def point(client: Any, alias: str, collection: str, stamp: int) -> None:
    """Make the pointer ``alias`` name ``collection`` (created on the first publication)."""
    from pymilvus import DataType

    if not client.has_collection(alias):
        schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(POINTER_NAME, DataType.VARCHAR, max_length=POINTER_NAME_BYTES, is_primary=True)
        schema.add_field(POINTER_STAMP, DataType.INT64)
        schema.add_field(POINTER_VECTOR, DataType.FLOAT_VECTOR, dim=2)
        params = client.prepare_index_params()
        params.add_index(field_name=POINTER_VECTOR, index_type="FLAT", metric_type="L2")
        client.create_collection(alias, schema=schema, index_params=params)
    client.insert(alias, [{POINTER_NAME: collection, POINTER_STAMP: stamp, POINTER_VECTOR: [0.0, 0.0]}])
    client.flush(alias)


def unpoint(client: Any, alias: str, collection: str) -> None:
    """Remove ``collection``'s row from the pointer ``alias``."""
    client.delete(alias, ids=[collection])
    client.flush(alias)


def _listed(answer: Any) -> list[str]:
    """The aliases in a ``list_aliases`` answer: pymilvus 3 returns ``{"aliases": [...], ...}``,
    older clients a list."""
    return list(answer.get("aliases") or []) if isinstance(answer, dict) else list(answer)


def named(client: Any, alias: str, *, aliases: bool | None = None) -> str | None:
    """The collection ``alias`` names now (through the server's alias, or its pointer), or None.

    A server's alias is looked up through this knowledge base's own collections: pymilvus logs
    an RPC error for ``describe_alias`` of an alias that does not exist yet.
    """
    if not (has_aliases(client) if aliases is None else aliases):
        return pointed(client, alias)
    for name in client.list_collections():
        if name.startswith(alias + "__") and alias in _listed(client.list_aliases(collection_name=name)):
            return name
    return None


def switch(client: Any, alias: str, collection: str, stamp: int, previous: str | None, *,
           aliases: bool) -> None:
    """Make ``alias`` name the complete ``collection`` instead of ``previous`` (atomic with a
    server's ``alter_alias``; a pointer gets the new row before losing the old one)."""
    if not aliases:
        point(client, alias, collection, stamp)
        if previous is not None and previous != collection:
            unpoint(client, alias, previous)
    elif previous is None:
        client.create_alias(collection, alias)
    else:
        client.alter_alias(collection, alias)
