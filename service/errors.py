"""The one place where exceptions become HTTP responses.

Every error leaves as ``{"error": {"code", "message", "details"?}}`` with a stable ``code``
(the table below), so clients branch on codes, not on prose. Messages are fixed strings:
``kb``'s own messages can name server paths or repeat the caller's input, and neither may
reach a response (RELIABILITY I6). Validation ``details`` keep field locations and pydantic's
message, never the input value; a location naming a field we do not know (an unknown key
the caller sent) is masked as ``<unknown>``.

Client faults:

==========================  ======  ==================================================
code                        status  when
==========================  ======  ==================================================
invalid_json                400     body is not JSON (syntax, too deeply nested)
invalid_utf8                400     body is not UTF-8 (e.g. GBK bytes)
unsupported_media_type      415     body sent without ``Content-Type: application/json``
body_missing                422     no body where one is required
request_too_large           413     body larger than ``max_body_bytes`` (uploads: ``max_upload_bytes``)
upload_invalid              400     an upload body that is not valid multipart/form-data
too_many_files              413     more than ``service.uploads.MAX_FILES`` files in one upload
files_missing               422     an upload without a file in the field ``files``
question_empty              422     empty or whitespace-only question (incl. "　")
question_too_long           422     question over ``kb.MAX_QUESTION_CHARS``
question_invalid            422     question missing, not a string, lone surrogates
top_k_invalid               422     top_k not an integer from 1 to ``kb.MAX_TOP_K``
mode_invalid                422     mode not hybrid, bm25 or dense
invalid_filter              422     filters of the wrong shape or unknown status
pagination_invalid          422     limit/offset out of range or not integers
invalid_request             422     anything else in the request (e.g. unknown fields)
not_found                   404     unknown document, segment or route
method_not_allowed          405     wrong HTTP method for the route
http_error                  4xx     any other HTTP-level refusal (status as raised)
==========================  ======  ==================================================

Server side: ``index_not_built`` / ``index_unavailable`` (503: nothing searchable yet, or
the index or its model cannot be loaded), ``kb_unavailable`` (503: the knowledge base is not
open), ``backend_unavailable`` (503: the Milvus server the knowledge base is served from did
not answer), ``uploads_unavailable`` (503: the app was made without a document reader) and ``internal_error`` (500, logged here with the traceback; the response says nothing
more). ``unauthorized`` (401 with ``WWW-Authenticate: Bearer``) and ``forbidden`` (403) come
from ``service.auth``, ``rate_limited`` (429 with ``Retry-After``) from its public
door's budgets. ``overloaded`` (503 with ``Retry-After``: more requests in flight than
``limit_concurrency``, see ``service.limits``) and ``bad_request`` (400: bytes that are not
HTTP, answered by ``service.protocol`` before any route) keep the same shape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb import (
    MAX_QUESTION_CHARS,
    MAX_TOP_K,
    BackendUnavailable,
    DocumentNotFound,
    EmbeddingModelError,
    IndexMismatch,
    IndexNotBuilt,
    InvalidFilter,
    InvalidQuestion,
    KBError,
    KnowledgeBaseNotFound,
    SegmentNotFound,
)
from service.schemas import KNOWN_FIELDS, MAX_LIST_LIMIT, MAX_OFFSET
from service.uploads import MAX_FILES

log = logging.getLogger(__name__)

MESSAGES = {
    "invalid_json": "the request body is not valid JSON",
    "invalid_utf8": "the request body is not valid UTF-8 text",
    "unsupported_media_type": "send the request body as JSON with the header Content-Type: application/json",
    "body_missing": "this request needs a JSON body",
    "request_too_large": "the request body is too large",
    "upload_invalid": "the body is not valid multipart/form-data",
    "too_many_files": f"at most {MAX_FILES} files in one upload",
    "files_missing": "send one or more files in the multipart/form-data field 'files'",
    "uploads_unavailable": "this service was started without a document reader: uploads are off",
    "overloaded": "the service is answering as many requests as it can; try again in a second",
    "bad_request": "the request is not valid HTTP",
    "unauthorized": "this needs an API key: send Authorization: Bearer KEY",
    "forbidden": "this key does not have the scope this needs",
    "rate_limited": "too many requests from this client: wait as long as Retry-After says",
    "question_empty": "the question is empty",
    "question_too_long": f"the question is longer than {MAX_QUESTION_CHARS} characters",
    "question_invalid": "question is required and must be a string of valid Unicode text",
    "top_k_invalid": f"top_k must be an integer from 1 to {MAX_TOP_K}",
    "mode_invalid": "mode must be one of hybrid, bm25, dense",
    "invalid_filter": "filters may hold doc_ids (a list of strings), statuses (in_force, expired, superseded), "
                      "include_expired and include_superseded (true or false) and as_of (a day such as 2020-03-01)",
    "pagination_invalid": f"limit must be an integer from 1 to {MAX_LIST_LIMIT} and offset an integer "
                          f"from 0 to {MAX_OFFSET}",
    "invalid_request": "the request is not valid; see details",
    "not_found": "nothing here has this id",
    "route_not_found": "no such route; see /docs",
    "method_not_allowed": "this route does not accept that HTTP method",
    "index_not_built": "the knowledge base has no search index yet; build it, then retry",
    "index_unavailable": "the search index cannot be loaded; rebuild it, then retry",
    "kb_unavailable": "the knowledge base is not available",
    "backend_unavailable": "the search backend did not answer; retry shortly",
    "internal_error": "internal error; it has been logged",
}
#: Request fields whose validation errors have their own code.
FIELD_CODES = {"question": "question_invalid", "top_k": "top_k_invalid", "mode": "mode_invalid",
               "filters": "invalid_filter", "limit": "pagination_invalid", "offset": "pagination_invalid"}
#: The status of each client-fault code; any code not listed is a 422.
CODE_STATUS = {"invalid_json": 400, "invalid_utf8": 400, "unsupported_media_type": 415, "request_too_large": 413,
            "not_found": 404, "method_not_allowed": 405, "index_not_built": 503, "index_unavailable": 503,
            "kb_unavailable": 503, "backend_unavailable": 503, "internal_error": 500, "overloaded": 503,
               "bad_request": 400, "unauthorized": 401, "forbidden": 403,
               "rate_limited": 429, "upload_invalid": 400, "too_many_files": 413, "uploads_unavailable": 503}


def error_response(code: str, message: str | None = None, *, status: int | None = None,
                   details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The response for an error ``code`` (status and message from the tables above)."""
    body: dict[str, Any] = {"code": code, "message": message or MESSAGES.get(code, "request failed")}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status or CODE_STATUS.get(code, 422), headers=headers)


def kb_error_response(exc: KBError) -> JSONResponse:
    """Map the engine's exceptions to codes; their messages are not passed on (see module doc)."""
    if isinstance(exc, InvalidQuestion):
        code = exc.code if exc.code in MESSAGES else "question_invalid"
        return error_response(code)
    if isinstance(exc, InvalidFilter):
        return error_response("invalid_filter")
    if isinstance(exc, DocumentNotFound):
        return error_response("not_found", "no document has this id")
    if isinstance(exc, SegmentNotFound):
        return error_response("not_found", "no segment has this id")
    if isinstance(exc, IndexNotBuilt):
        return error_response("index_not_built")
    if isinstance(exc, IndexMismatch | EmbeddingModelError):
        log.error("index cannot be served: %s", exc)
        return error_response("index_unavailable")
    if isinstance(exc, BackendUnavailable):
        log.error("search backend unavailable: %s", exc)
        return error_response("backend_unavailable")
    if isinstance(exc, KnowledgeBaseNotFound):
        log.error("knowledge base unavailable: %s", exc)
        return error_response("kb_unavailable")
    log.error("unexpected knowledge base error: %s", exc)
    return error_response("internal_error")


def _safe_loc(loc: Iterable[Any]) -> list[str | int]:
    return [part if isinstance(part, int) or part in KNOWN_FIELDS else "<unknown>" for part in loc]


def _is_json(request: Request) -> bool:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json"))


def _validation_code(error: dict[str, Any], request: Request) -> str:
    loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "json_invalid":
        return "invalid_json"
    if loc[:1] == ("body",):
        if len(loc) == 1:
            if kind == "missing":
                return "body_missing"
            # FastAPI passes the raw bytes of a non-JSON body on to validation.
            return "invalid_request" if _is_json(request) else "unsupported_media_type"
        return FIELD_CODES.get(str(loc[1]), "invalid_request")
    if loc[:1] == ("query",) and len(loc) > 1:
        return FIELD_CODES.get(str(loc[1]), "invalid_request")
    return "invalid_request"


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    codes = [_validation_code(error, request) for error in errors] or ["invalid_request"]
    # Transport-level faults decide the answer; otherwise the first field's code does.
    code = next((c for c in codes if CODE_STATUS.get(c, 422) != 422), codes[0])
    details = [{"loc": _safe_loc(error.get("loc", ())), "type": str(error.get("type", "")),
                "message": str(error.get("msg", ""))} for error in errors]
    return error_response(code, details=details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers) if exc.headers else None
    status = exc.status_code
    if status == 400:
        # FastAPI raises a bare 400 for any body it cannot decode; the cause tells which.
        cause = exc.__cause__
        code = "invalid_utf8" if isinstance(cause, UnicodeDecodeError) else "invalid_json"
        return error_response(code, headers=headers)
    if status == 404:
        return error_response("not_found", MESSAGES["route_not_found"], headers=headers)
    if status == 405:
        return error_response("method_not_allowed", headers=headers)
    if status == 413:
        return error_response("request_too_large", headers=headers)
    try:
        phrase = HTTPStatus(status).phrase.lower()
    except ValueError:
        phrase = "request failed"
    return error_response("http_error", phrase, status=status, headers=headers)


async def _kb_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KBError)
    return kb_error_response(exc)


class UnexpectedErrors:
    """Catch-all: any exception a route did not expect becomes a 500 ``internal_error``.

    A pure ASGI middleware rather than an ``Exception`` handler, because Starlette re-raises
    after such a handler (uvicorn then logs the traceback a second time and test clients
    see the exception instead of the response). Logged once here, with the route template
    rather than the request path, which carries caller input.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            route = getattr(scope.get("route"), "path", "<no route>")
            log.exception("unhandled error on %s %s", scope.get("method"), route)
            if started:  # too late for a clean answer; let the server close the connection
                raise
            await error_response("internal_error")(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler, FastAPI's default 422 handler included, on ``app``."""
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(KBError, _kb_error)
    app.add_middleware(UnexpectedErrors)
