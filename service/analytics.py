"""The analyst view: JSON under ``/v1/analytics/…`` and the page ``GET /analytics`` that charts it.

Everything is read from the activity log (masked questions only; there is no way to unmask)
and, for titles and the documents never cited, from the knowledge base. Each endpoint takes a
window, ``days`` (1 to 180, the retention; default 30):

=====================================  =========================================================
``/v1/analytics/summary``              questions, unanswered, no_answer, by channel, feedback, latency
``/v1/analytics/queries``              the query log, newest first, paged (``limit``, ``offset``),
                                       optionally one ``channel`` or only ``unanswered`` ones
``/v1/analytics/gaps``                 unanswered questions grouped by similarity (``service.gaps``)
``/v1/analytics/documents``            most-cited documents and those never cited
``/v1/analytics/outdated``             citations of documents superseded or expired when returned
``/v1/analytics/feedback``             per day: questions, answers with feedback, each verdict, rates
=====================================  =========================================================

The page is a static HTML file, a script and a style sheet from ``service/static/analytics/``,
served under a strict Content-Security-Policy (no inline script or style, nothing from another
origin); the script draws its charts as SVG and writes every text with ``textContent``.
"""

from __future__ import annotations

from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from service.access import SerializedKB
from service.activity import CHANNELS, RETENTION_DAYS
from service.auth import require
from service.feedback_routes import Activity
from service.gaps import DEFAULT_THRESHOLD, cluster_questions
from service.routes import KB
from service.schemas import DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT, MAX_OFFSET, ErrorResponse

#: The page's own policy: its script, style sheet and API calls from this origin, nothing inline.
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
MAX_GAP_QUESTIONS = 5000
DOCUMENT_PAGE = 500

Days = Annotated[int, Query(ge=1, le=RETENTION_DAYS, description="Window: the last N days.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIST_LIMIT, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")]

#: The query log is about citizens, even masked: analysts only (a key with ``analytics:read``).
router = APIRouter(prefix="/v1/analytics", tags=["analytics"], dependencies=[require("analytics:read")],
                   responses={status: {"model": ErrorResponse} for status in (401, 403, 422, 503)})


@router.get("/summary", summary="Totals for a window")
def summary(activity: Activity, days: Days = 30) -> JSONResponse:
    """Questions asked, how many got no passage (and of those, how many were refused as
    off-topic, ``no_answer``), questions per channel, feedback per verdict, latency p50/p95."""
    return JSONResponse({"days": days, **activity.summary(since=activity.since(days))})


@router.get("/queries", summary="The query log (masked)")
def queries(activity: Activity, days: Days = 30, limit: Limit = DEFAULT_LIST_LIMIT, offset: Offset = 0,
            channel: Annotated[str | None, Query(pattern=f"^({'|'.join(CHANNELS)})$")] = None,
            unanswered: bool = False) -> JSONResponse:
    """Logged questions, newest first: masked text, filters, mode, top_k, channel, the passages
    returned (rank, segment, document, status), why none, latency, and any feedback."""
    page = activity.queries(since=activity.since(days), limit=limit, offset=offset, channel=channel,
                            unanswered=unanswered)
    return JSONResponse({"days": days, **page})


@router.get("/gaps", summary="Unanswered questions, grouped")
def gaps(activity: Activity, days: Days = 30,
         limit: Annotated[int, Query(ge=1, le=MAX_GAP_QUESTIONS, description="Newest unanswered questions "
                                     "to group.")] = 1000,
         threshold: Annotated[float, Query(ge=0.05, le=1.0, description="Least bigram overlap with a "
                                           "group's first question to join it.")] = DEFAULT_THRESHOLD,
         ) -> JSONResponse:
    """Questions that got no passage (no searchable terms, refused as off-topic, nothing found),
    grouped by character-bigram similarity: the gaps to fill with documents or FAQ items."""
    rows = activity.unanswered(since=activity.since(days), limit=limit)
    groups = cluster_questions(rows, threshold=threshold)
    return JSONResponse({"days": days, "questions": len(rows), "threshold": threshold, "gaps": groups})


def _all_documents(kb: SerializedKB) -> dict[str, dict[str, Any]]:
    documents: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        page = kb.documents(limit=DOCUMENT_PAGE, offset=offset)
        documents.update((row["doc_id"], row) for row in page["documents"])
        offset += DOCUMENT_PAGE
        if offset >= page["total"] or not page["documents"]:
            return documents


def _facts(doc_id: str, documents: dict[str, dict[str, Any]]) -> dict[str, Any]:
    row = documents.get(doc_id)
    if row is None:  # cited once, deleted since
        return {"doc_id": doc_id, "title": None, "doc_number": None, "status": None, "in_kb": False}
    return {"doc_id": doc_id, "title": row["title"], "doc_number": row["doc_number"], "status": row["status"],
            "in_kb": True}


@router.get("/documents", summary="Most-cited and never-cited documents")
def documents(activity: Activity, kb: KB, days: Days = 30, limit: Limit = 20, offset: Offset = 0) -> JSONResponse:
    """``most_cited``: documents by passages returned (``citations``; ``first``: how often
    ranked first; ``queries``: answers citing it). ``never_cited``: documents of the knowledge
    base no answer returned in the window, by id, one page (``limit``, ``offset``) of ``total``."""
    cited = activity.citations(since=activity.since(days))
    known = _all_documents(kb)
    most = [{**_facts(row["doc_id"], known), **{k: row[k] for k in ("citations", "first", "queries", "last_cited")}}
            for row in cited[:limit]]
    cited_ids = {row["doc_id"] for row in cited}
    never = sorted(doc_id for doc_id in known if doc_id not in cited_ids)
    return JSONResponse({
        "days": days, "documents": len(known), "cited": len(cited_ids & known.keys()), "most_cited": most,
        "never_cited": {"total": len(never), "limit": limit, "offset": offset,
                        "documents": [_facts(doc_id, known) for doc_id in never[offset:offset + limit]]},
    })


@router.get("/outdated", summary="Citations of superseded or expired documents")
def outdated(activity: Activity, kb: KB, days: Days = 30) -> JSONResponse:
    """Passages returned from documents that were no longer in force when returned (asked for
    with ``include_superseded``/``include_expired`` or ``as_of``), per document and status,
    with the document's status now and its successor."""
    since = activity.since(days)
    rows = activity.outdated_citations(since=since)
    total = activity.citation_count(since=since)
    known = _all_documents(kb) if rows else {}
    items = []
    for row in rows:
        facts = _facts(row["doc_id"], known)
        current = known.get(row["doc_id"], {})
        items.append({**facts, "status": row["status"], "status_now": facts["status"],
                      "superseded_by": current.get("superseded_by"),
                      **{k: row[k] for k in ("citations", "first", "last_cited")}})
    count = sum(row["citations"] for row in rows)
    return JSONResponse({"days": days, "citations": total, "outdated_citations": count,
                         "share": round(count / total, 4) if total else None,
                         "documents": items})


@router.get("/feedback", summary="Feedback per day")
def feedback(activity: Activity, days: Days = 30) -> JSONResponse:
    """Per UTC day: questions, answers that got feedback, each verdict, ``helpful_rate``
    (helpful / (helpful + not_helpful)) and ``feedback_rate`` (answers with feedback / questions)."""
    return JSONResponse({"days": days, "per_day": activity.feedback_by_day(since=activity.since(days))})


def _static_text(name: str) -> str:
    return resources.files("service").joinpath("static", "analytics", name).read_text(encoding="utf-8")


def install_analytics(app: FastAPI) -> None:
    """Add the analytics JSON routes, the page and its static files to ``app``."""
    app.include_router(router)
    page = _static_text("analytics.html")
    pages = APIRouter(include_in_schema=False)

    @pages.get("/analytics")
    async def analytics_page() -> HTMLResponse:
        """The analyst view: charts and tables over ``/v1/analytics/…``."""
        return HTMLResponse(page, headers={"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-cache"})

    app.include_router(pages)
    app.mount("/static/analytics", StaticFiles(packages=[("service", "static/analytics")]), name="static-analytics")
