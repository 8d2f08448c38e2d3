"""The passage collection as Milvus holds it: fields, indexes, names and the terms field.

A collection carries every field a citation needs, so a service replica answers from
Milvus alone, plus the validity fields the filters read, the passage vector and a BM25
sparse field. The BM25 field is fed by policykb's own terms (``kb.tokenize``), joined by
spaces, never by a server-side Chinese analyzer: a term is the same on every backend.

A Milvus server splits that text with its ``whitespace`` tokenizer. Milvus Lite 3.x has no
such tokenizer (only ``standard``, which splits on ``\\w+`` and lowercases, and ``jieba``),
so each term is written in a form both tokenizers keep whole and unchanged: characters that
are not lowercase word characters (and ``_``, the escape itself) become ``_<hex>_``. The
mapping is one-to-one, so two terms never merge.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

#: A character both analyzers keep as it is inside a term: a word character other than the
#: escape, equal to its own lowercase.
_PLAIN = re.compile(r"[^\W_]")
#: Milvus names: letters, digits and underscores, starting with a letter or underscore.
_NAME_CHARS = re.compile(r"[^0-9A-Za-z_]")

#: The tokenizer a server gets; the fallback where it is unknown (Milvus Lite 3.x).
TOKENIZERS = ("whitespace", "standard")

#: VARCHAR fields and their maximum length in bytes (UTF-8; a server counts bytes).
TEXT_FIELDS: dict[str, int] = {
    "doc_id": 512, "title": 8192, "doc_number": 512, "issuer": 2048, "date": 32, "status": 32,
    "superseded_by": 512, "kind": 64, "section_path": 16384, "locator": 512, "departments": 8192,
    "text": 65535, "jurisdiction": 256, "generation": 128,
}
SEGMENT_ID_BYTES = 512
TERMS_BYTES = 65535
INT_FIELDS = ("start", "end", "effective", "expires", "superseded_from", "answers")
#: The responsible departments as an array, for the department filter (``array_contains_any``);
#: ``departments`` keeps them as the citation shows them.
DEPARTMENT_LIST_FIELD = "department_list"
DEPARTMENT_LIST_CAPACITY = 64
DEPARTMENT_BYTES = 512
#: Bumped when the fields change: a collection of another schema is published anew, not updated.
SCHEMA_VERSION = 2
#: The collection property holding what the publication recorded (generation, model, places,
#: BM25 parameters) as JSON. The description holds it too: Milvus Lite 3.x drops descriptions,
#: Milvus Lite 2.5 properties.
PUBLICATION_PROPERTY = "policykb.publication"
VECTOR_FIELD = "vector"
SPARSE_FIELD = "sparse"
TERMS_FIELD = "terms"
#: What a hit is built from (the vector too: cosines are computed here, as SQLite does).
HIT_FIELDS = ["segment_id", *TEXT_FIELDS, *INT_FIELDS, VECTOR_FIELD]


def term_for_analyzer(term: str) -> str:
    """``term`` as both the whitespace and the standard analyzer keep it: one token, unchanged."""
    if all(_PLAIN.match(ch) and ch == ch.lower() for ch in term):
        return term
    return "".join(ch if _PLAIN.match(ch) and ch == ch.lower() else f"_{ord(ch):x}_" for ch in term)


def terms_text(terms: Iterable[str]) -> str:
    """The BM25 field's text (or a question's BM25 query): terms escaped, joined by spaces."""
    return " ".join(term_for_analyzer(term) for term in terms if term)


def alias_name(kb_id: str) -> str:
    """The alias a knowledge base is read through: ``policykb_<kb id>``."""
    return "policykb_" + _NAME_CHARS.sub("_", kb_id)


def collection_name(alias: str, generation: str, stamp: int) -> str:
    """One collection per published generation (``stamp`` tells two publications of it apart)."""
    return f"{alias}__{_NAME_CHARS.sub('_', generation)}__{stamp}"


def collection_schema(client: Any, dim: int, tokenizer: str, description: str = "policykb passages") -> Any:
    """The passage collection's schema: citation fields, validity fields, vector, BM25."""
    from pymilvus import DataType, Function, FunctionType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False, description=description)
    schema.add_field("segment_id", DataType.VARCHAR, max_length=SEGMENT_ID_BYTES, is_primary=True)
    for name, size in TEXT_FIELDS.items():
        schema.add_field(name, DataType.VARCHAR, max_length=size)
    for name in INT_FIELDS:
        schema.add_field(name, DataType.INT64)
    schema.add_field(DEPARTMENT_LIST_FIELD, DataType.ARRAY, element_type=DataType.VARCHAR,
                     max_capacity=DEPARTMENT_LIST_CAPACITY, max_length=DEPARTMENT_BYTES)
    schema.add_field(VECTOR_FIELD, DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field(TERMS_FIELD, DataType.VARCHAR, max_length=TERMS_BYTES, enable_analyzer=True,
                     analyzer_params={"tokenizer": tokenizer})
    schema.add_field(SPARSE_FIELD, DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="terms_bm25", function_type=FunctionType.BM25,
                                 input_field_names=[TERMS_FIELD], output_field_names=[SPARSE_FIELD]))
    return schema


def index_params(client: Any, *, k1: float, b: float, vector_index: str) -> Any:
    """BM25 with policykb's k1 and b; the vectors by inner product (policykb's cosine: unit vectors).

    Each index's parameters go twice: as flat keys, which pymilvus 3 sends and a server reads,
    and nested under ``params``, the older wire form and the only one Milvus Lite 3.2 reads
    (it took BM25's k1 as its own default, 1.5, from the flat form alone).
    """
    params = client.prepare_index_params()
    bm25 = {"bm25_k1": k1, "bm25_b": b}
    params.add_index(field_name=SPARSE_FIELD, index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={**bm25, "params": bm25})
    vector = {"M": 16, "efConstruction": 200} if vector_index == "HNSW" else {}
    params.add_index(field_name=VECTOR_FIELD, index_type=vector_index, metric_type="IP",
                     params={**vector, "params": vector} if vector else {})
    return params
