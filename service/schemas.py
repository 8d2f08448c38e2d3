"""Request and response models of the public HTTP contract.

Requests are validated strictly (``top_k: true`` or ``"5"`` is refused, unknown fields are
refused) so that a typo is an error the caller sees instead of a silently ignored option.
Response models document the contract in OpenAPI; the routes serialise ``kb``'s own
dictionaries (``SearchResult.as_dict()``), so a hit is exactly ``Hit.as_dict()`` and a test
keeps these models in step with ``kb.Hit``.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator

from kb import DEFAULT_TOP_K, MAX_FILTER_CHARS, MAX_FILTER_VALUES, MAX_QUESTION_CHARS, MAX_TOP_K, SearchFilters

Status = Literal["in_force", "expired", "superseded"]
Mode = Literal["hybrid", "bm25", "dense"]
#: Where a question came from, for the analytics (the agent console, the citizens' widget, any other caller).
Channel = Literal["api", "console", "widget"]
MAX_DOC_IDS = 1000
MAX_ID_CHARS = 512
MAX_LIST_LIMIT = 500
DEFAULT_LIST_LIMIT = 100
#: Past this, SQLite would overflow and no corpus is that large; refused as pagination_invalid.
MAX_OFFSET = 1_000_000_000
#: Lone UTF-16 surrogates ("\ud800" in JSON) cannot be encoded back into a UTF-8 response.
SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(value: str) -> str:
    if SURROGATE.search(value):
        raise ValueError("text must be valid Unicode (no lone surrogates)")
    return value


class AskFilters(BaseModel):
    """Which documents may answer: by id and by validity status (default: in force only)."""

    model_config = ConfigDict(extra="forbid")

    doc_ids: list[StrictStr] = Field(default_factory=list, max_length=MAX_DOC_IDS,
                                     description="Only search these documents.")
    statuses: list[Status] = Field(default_factory=list, max_length=3,
                                   description="Allowed statuses; empty means in_force only.")
    include_expired: StrictBool = Field(False, description="Also search expired documents.")
    include_superseded: StrictBool = Field(False, description="Also search superseded documents.")
    as_of: StrictStr | None = Field(None, description="Search what was in force on this day (YYYY-MM-DD) "
                                    "instead of today.")
    departments: list[StrictStr] = Field(default_factory=list, max_length=MAX_FILTER_VALUES,
                                         description="Only passages naming one of these responsible departments.")
    places: list[StrictStr] = Field(default_factory=list, max_length=MAX_FILTER_VALUES,
                                    description="Only documents of these jurisdictions (e.g. 常熟市; 全国 for "
                                                "national laws and rules).")

    @field_validator("departments", "places")
    @classmethod
    def _valid_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not name.strip() or len(name) > MAX_FILTER_CHARS:
                raise ValueError(f"a name is 1 to {MAX_FILTER_CHARS} characters")
            _no_surrogates(name)
        return names

    @field_validator("doc_ids")
    @classmethod
    def _valid_ids(cls, ids: list[str]) -> list[str]:
        for doc_id in ids:
            if len(doc_id) > MAX_ID_CHARS:
                raise ValueError(f"a document id is at most {MAX_ID_CHARS} characters")
            _no_surrogates(doc_id)
        return ids

    def to_search_filters(self) -> SearchFilters:
        """The engine's filter (raises ``kb.InvalidFilter`` on a combination it refuses)."""
        return SearchFilters.from_options(doc_ids=self.doc_ids, statuses=self.statuses,
                                          include_expired=self.include_expired,
                                          include_superseded=self.include_superseded, as_of=self.as_of,
                                          departments=self.departments, places=self.places)


class AskRequest(BaseModel):
    """A question and how to search for it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"question": "政务公开工作要点有哪些", "top_k": 5, "filters": {"include_expired": False}}],
    })

    question: StrictStr = Field(
        description=f"The question, 1 to {MAX_QUESTION_CHARS} characters after invisible characters and "
                    "surrounding whitespace are removed.",
    )
    top_k: StrictInt = Field(DEFAULT_TOP_K, ge=1, le=MAX_TOP_K, description="How many passages to return.")
    filters: AskFilters | None = None
    mode: Mode = Field("hybrid", description="Retriever: hybrid (BM25 + dense, fused), bm25 or dense.")
    channel: Channel = Field("api", description="Who asks, for the analytics: api, console or widget.")

    @field_validator("question")
    @classmethod
    def _valid_question(cls, question: str) -> str:
        return _no_surrogates(question)


class HitModel(BaseModel):
    """One cited passage (``kb.Hit.as_dict()``); offsets point into the document text."""

    rank: int
    score: float
    segment_id: str
    doc_id: str
    title: str
    doc_number: str | None
    issuer: str | None
    date: str | None
    status: str
    superseded_by: str | None = Field(description="The document that replaced this one, if it is superseded.")
    kind: str = Field(description='"document", or "faq" for a question-answer item.')
    section_path: list[str]
    locator: str
    departments: list[str]
    text: str
    snippet: str
    start: int
    end: int
    highlights: list[list[int]] = Field(description="[start, end] spans of matched terms, document offsets.")
    scores: dict[str, float | None] = Field(description="Per-retriever scores (bm25, dense); null if absent.")
    same_text_as: int | None = Field(default=None, description=(
        "The rank of a higher hit whose passage text is the same (the same notice published under "
        "another id), or null: a client may fold such hits."))


class AskResponse(BaseModel):
    """The hits for a question; ``reason`` says why there are none (e.g. no_searchable_terms)."""

    question: str
    hits: list[HitModel]
    terms: list[str]
    mode: str
    generation: str
    reason: str | None
    degraded: str | None = Field(None, description="Why part of the index is not in use, e.g. "
                                 "embedding_model_unavailable (answers come from BM25 alone).")


class AskAnswer(AskResponse):
    """What ``POST /v1/ask`` returns: the search result and the id to give feedback on it."""

    query_id: str = Field(description="Names this answer in POST /v1/feedback (the question is logged masked).")


class DocumentSummary(BaseModel):
    """A document as listed: metadata without its text."""

    doc_id: str
    title: str
    doc_number: str | None
    issuer: str | None
    date: str | None
    status: str
    superseded_by: str | None = None
    jurisdiction: str | None = None
    source: str | None
    segment_count: int


class DocumentList(BaseModel):
    """One page of documents, ordered by id."""

    documents: list[DocumentSummary]
    limit: int
    offset: int
    total: int


class SegmentSummary(BaseModel):
    """A citable passage of a document."""

    segment_id: str
    locator: str
    section_path: list[str]
    departments: list[str]
    start: int
    end: int
    text: str


class DocumentDetail(DocumentSummary):
    """A document with its full text, metadata and segments in reading order."""

    text: str
    metadata: dict[str, Any]
    segments: list[SegmentSummary]


class SegmentDetail(SegmentSummary):
    """A passage with the document facts needed to cite it."""

    doc_id: str
    title: str
    doc_number: str | None
    issuer: str | None
    date: str | None
    status: str


class Health(BaseModel):
    """Readiness (``/readyz``): the index generation being served and the corpus size."""

    status: Literal["ok"]
    documents: int
    segments: int
    generation: str


class Liveness(BaseModel):
    """Liveness (``/healthz``): the process answers; whether an index is loaded, and which."""

    status: Literal["ok"]
    ready: bool
    generation: str | None
    documents: int | None
    segments: int | None
    degraded: str | None


class ErrorDetail(BaseModel):
    """One validation problem: where (field path, unknown names masked) and what."""

    loc: list[str | int]
    type: str
    message: str


class ErrorBody(BaseModel):
    """A stable machine-readable ``code`` and a human message; never the raw input."""

    code: str
    message: str
    details: list[ErrorDetail] | None = None


class ErrorResponse(BaseModel):
    """Every error the service returns has this shape."""

    error: ErrorBody


#: Names of request fields that may appear in an error ``loc``; anything else is masked.
KNOWN_FIELDS = frozenset(AskRequest.model_fields) | frozenset(AskFilters.model_fields) | {
    "body", "query", "path", "header", "limit", "offset", "doc_id", "segment_id",
    "query_id", "verdict", "comment", "days", "threshold", "unanswered",
}
