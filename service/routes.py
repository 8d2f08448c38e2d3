"""The HTTP routes: parse, call the knowledge base, serialise. Nothing else lives here.

Routes are ``def`` (not ``async def``): searching is synchronous CPU work, and FastAPI runs
``def`` routes in its thread pool, so one slow question never blocks the event loop.
Errors are raised, never built here: ``service.errors`` turns them into responses. Ids are
matched with the ``path`` converter because they contain ``#``, ``:`` and Chinese (callers
send ``#`` as ``%23``: ``/v1/segments/changshu-2019-zhengwu-gongkai-yaodian%23s3.4``).
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from kb import KnowledgeBaseNotFound, SearchFilters
from service.access import SerializedKB
from service.activity import ActivityLog, new_query_id
from service.auth import allow_anonymous
from service.schemas import (
    DEFAULT_LIST_LIMIT,
    MAX_LIST_LIMIT,
    MAX_OFFSET,
    AskAnswer,
    AskRequest,
    DocumentDetail,
    DocumentList,
    ErrorResponse,
    Health,
    Liveness,
    SegmentDetail,
)

GENERATION_HEADER = "X-Index-Generation"


async def get_kb(request: Request) -> SerializedKB:
    """The knowledge base opened at start-up (``async`` so no thread is spent fetching it).

    Absent only when the app is served without running its lifespan; that is a 503
    ``kb_unavailable``, not a 500.
    """
    kb: SerializedKB | None = getattr(request.app.state, "kb", None)
    if kb is None:
        raise KnowledgeBaseNotFound("the knowledge base was not opened: the app's lifespan did not run")
    return kb


KB = Annotated[SerializedKB, Depends(get_kb)]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorResponse} for status in statuses}


router = APIRouter()


@router.post(
    "/v1/ask",
    tags=["search"],
    summary="Ask a question; get cited passages",
    response_model=AskAnswer,
    dependencies=[allow_anonymous("ask")],
    responses={200: {"headers": {GENERATION_HEADER: {"description": "index generation that answered",
                                                     "schema": {"type": "string"}}}},
               **_errors(400, 401, 403, 413, 415, 422, 503)},
)
def ask(body: AskRequest, kb: KB, request: Request) -> JSONResponse:
    """Search the knowledge base. A question with no searchable term (only punctuation or
    filler such as 你好) gets 200 with no hits and ``reason: "no_searchable_terms"``. The answer
    is logged (question masked) under its ``query_id``; logging never holds an answer back (it is
    written behind the answer, see ``service.activity``)."""
    filters = body.filters.to_search_filters() if body.filters else SearchFilters()
    started = time.perf_counter()
    result = kb.search(body.question, top_k=body.top_k, filters=filters, mode=body.mode)
    latency_ms = (time.perf_counter() - started) * 1000
    query_id = new_query_id()
    activity: ActivityLog | None = getattr(request.app.state, "activity", None)
    if activity is not None:
        logged_filters = body.filters.model_dump(exclude_defaults=True) if body.filters else {}
        activity.record_query_later(query_id, result, top_k=body.top_k, channel=body.channel,
                                    latency_ms=latency_ms, filters=logged_filters)
    # Serialise the engine's own dict: a hit is exactly Hit.as_dict(), no re-validation cost.
    return JSONResponse({**result.as_dict(), "query_id": query_id}, headers={GENERATION_HEADER: result.generation})


@router.get("/v1/documents", tags=["documents"], summary="List documents", response_model=DocumentList,
            responses=_errors(422))
def list_documents(
    kb: KB,
    limit: Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT, description="Page size.")] = DEFAULT_LIST_LIMIT,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Documents to skip.")] = 0,
) -> JSONResponse:
    """Documents ordered by id, one page at a time; ``total`` counts them all."""
    return JSONResponse(kb.documents(limit=limit, offset=offset))


@router.get("/v1/documents/{doc_id:path}", tags=["documents"], summary="One document with its segments",
            response_model=DocumentDetail, responses=_errors(404, 422))
def get_document(doc_id: str, kb: KB) -> JSONResponse:
    """A document's metadata, full text and segments in reading order."""
    return JSONResponse(kb.document(doc_id))


@router.get("/v1/segments/{segment_id:path}", tags=["documents"], summary="One segment with its citation",
            response_model=SegmentDetail, responses=_errors(404, 422))
def get_segment(segment_id: str, kb: KB) -> JSONResponse:
    """A passage and the title, 文号, issuer, date and status needed to cite it."""
    return JSONResponse(kb.segment(segment_id))


@router.get("/healthz", tags=["operations"], summary="Alive?", response_model=Liveness)
async def healthz(kb: KB) -> JSONResponse:
    """200 while the process answers, with ``ready`` and the generation loaded. Never waits on a
    search (no lock, no disk): a busy service is alive. For a load balancer's readiness check use
    ``/readyz``."""
    generation, manifest, degraded = kb.served()
    counts = (manifest or {}).get("counts") or {}
    return JSONResponse({"status": "ok", "ready": generation is not None, "generation": generation,
                         "documents": counts.get("documents"), "segments": counts.get("segments"),
                         "degraded": degraded})


@router.get("/readyz", tags=["operations"], summary="Ready to answer?", response_model=Health,
            responses=_errors(503))
def readyz(kb: KB) -> JSONResponse:
    """200 once an index generation is loaded (switching to a newer one if it appeared); 503
    (``index_not_built``/``index_unavailable``, or ``backend_unavailable`` while the Milvus a
    knowledge base is served from does not answer) while there is nothing to search, so a load
    balancer keeps traffic away."""
    return JSONResponse(kb.health())
