"""Files -> documents -> segments: the pure text side of ingestion.

``decode`` turns bytes into text without silent damage, ``clean`` repairs extraction
artifacts, ``gongwen`` reads a 公文's own metadata, ``structure`` and ``departments``
cut the text into citable segments, and ``parse`` puts them together into a
:class:`kb.Document`. Reading folders and JSONL files into a knowledge base is the
job of ``ingest.pipeline``, which builds on these.
"""

from ingest.clean import clean_text
from ingest.decode import DecodeError, decode_bytes
from ingest.gongwen import DOC_NUMBER, GongwenMetadata, extract_metadata, normalise_doc_number
from ingest.parse import parse_document, slugify
from ingest.pipeline import FieldMap, Failure, IngestError, IngestReport, discover, ingest_paths
from ingest.structure import segment_text

__all__ = [
    "DOC_NUMBER",
    "DecodeError",
    "Failure",
    "FieldMap",
    "IngestError",
    "IngestReport",
    "GongwenMetadata",
    "clean_text",
    "decode_bytes",
    "discover",
    "extract_metadata",
    "ingest_paths",
    "normalise_doc_number",
    "parse_document",
    "segment_text",
    "slugify",
]
