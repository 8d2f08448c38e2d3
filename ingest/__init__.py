"""Files -> documents -> segments: the pure text side of ingestion, and the pipeline into kb.

``sniff`` says what a file really is, one reader per format turns it into text
(``docx_reader``, ``pdf_reader``, ``html_reader``, ``decode`` for text, ``records`` for
JSONL/CSV, ``faq`` for question-answer items), ``clean`` repairs extraction artifacts,
``gongwen`` reads a 公文's own metadata, ``structure`` and ``departments`` cut the text
into citable segments, and ``parse`` puts them together into a :class:`kb.Document`.
``pipeline`` reads files and folders into a knowledge base, reporting each failure.
"""

from ingest.clean import clean_text
from ingest.decode import DecodeError, decode_bytes
from ingest.errors import CorruptFile, EncryptedFile, IngestError, NeedsOCR, TooLarge, UnsafeFile, UnsupportedType
from ingest.extracted import Extracted
from ingest.faq import FaqFieldMap, faq_document, read_faq
from ingest.gongwen import DOC_NUMBER, GongwenMetadata, extract_metadata, normalise_doc_number
from ingest.parse import parse_document, slugify
from ingest.pipeline import Progress, discover, ingest_paths
from ingest.readers import read_document
from ingest.records import FieldMap, read_records
from ingest.report import Failure, IngestReport
from ingest.sniff import sniff
from ingest.structure import segment_text

__all__ = [
    "DOC_NUMBER",
    "CorruptFile",
    "DecodeError",
    "EncryptedFile",
    "Extracted",
    "Failure",
    "FaqFieldMap",
    "FieldMap",
    "GongwenMetadata",
    "IngestError",
    "IngestReport",
    "NeedsOCR",
    "Progress",
    "TooLarge",
    "UnsafeFile",
    "UnsupportedType",
    "clean_text",
    "decode_bytes",
    "discover",
    "extract_metadata",
    "faq_document",
    "ingest_paths",
    "normalise_doc_number",
    "parse_document",
    "read_document",
    "read_faq",
    "read_records",
    "segment_text",
    "slugify",
    "sniff",
]
