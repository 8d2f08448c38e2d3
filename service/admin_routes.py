"""Administration over HTTP: upload and delete documents, rebuild the index, follow the job.

``POST /v1/documents`` and ``DELETE /v1/documents/{doc_id}`` need ``documents:write``;
``POST /v1/admin/rebuild`` needs ``admin``; ``GET /v1/jobs/{id}`` needs ``documents:write``
(whoever may change the documents may follow the rebuild that change started; ``admin``
holds every scope). Storing happens in the request; the rebuild is a job
(``service.jobs``), so each of these answers at once with the job to follow.

The upload route reads its body itself, after the key has been checked: a route that
declared its files as parameters would have FastAPI parse (and spool) the whole body before
any dependency ran, for anonymous callers too. Its body has its own, larger bound
(``max_upload_bytes``, see ``service.limits``); every other route keeps the small one.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException

from service.access import SerializedKB
from service.auth import require
from service.errors import error_response
from service.jobs import BuildRunner
from service.routes import KB
from service.schemas import ErrorResponse
from service.uploads import MAX_FILES, Upload, UploadDesk

MULTIPART = "multipart/form-data"


class AdminRefused(Exception):
    """A request this module refuses with ``code`` (status and message from ``service.errors``)."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.message = message


class JobError(BaseModel):
    code: str
    message: str


class JobView(BaseModel):
    """A background job: queued, then running, then succeeded (with a result) or failed (with an error)."""

    id: str
    kind: Literal["rebuild"]
    state: Literal["queued", "running", "succeeded", "failed"]
    created_at: str
    started_at: str | None
    finished_at: str | None
    result: dict[str, Any] | None
    error: JobError | None


class FileDocument(BaseModel):
    doc_id: str
    outcome: Literal["added", "updated", "unchanged", "duplicate"]
    segments: int
    same_as: str | None


class FileReport(BaseModel):
    """What became of one uploaded file."""

    file: str
    status: Literal["stored", "unchanged", "duplicate", "failed"]
    documents: list[FileDocument]
    errors: list[JobError]


class UploadAnswer(BaseModel):
    files: list[FileReport]
    job: JobView | None


class DeleteAnswer(BaseModel):
    doc_id: str
    deleted: bool
    job: JobView


async def get_builds(request: Request) -> BuildRunner:
    builds: BuildRunner | None = getattr(request.app.state, "builds", None)
    if builds is None:
        raise AdminRefused("kb_unavailable")
    return builds


async def get_desk(request: Request) -> UploadDesk:
    desk: UploadDesk | None = getattr(request.app.state, "uploads", None)
    if desk is None:
        raise AdminRefused("uploads_unavailable")
    return desk


Builds = Annotated[BuildRunner, Depends(get_builds)]
Desk = Annotated[UploadDesk, Depends(get_desk)]


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorResponse} for status in statuses}


UPLOAD_BODY = {"requestBody": {"required": True, "content": {MULTIPART: {"schema": {
    "type": "object", "required": ["files"],
    "properties": {"files": {"type": "array", "items": {"type": "string", "format": "binary"},
                             "description": f"One to {MAX_FILES} files: .txt .md .docx .pdf .html .htm "
                                            ".jsonl .csv, each named with its extension."}}}}}}}

router = APIRouter()


@router.post("/v1/documents", tags=["administration"], summary="Upload documents", status_code=202,
             response_model=UploadAnswer, dependencies=[require("documents:write", budgeted=True)],
             openapi_extra=UPLOAD_BODY,
             responses={200: {"model": UploadAnswer, "description": "nothing new stored: no rebuild"},
                        **_errors(400, 401, 403, 413, 415, 422, 429, 503)})
async def upload_documents(request: Request, desk: Desk, builds: Builds) -> JSONResponse:
    """Store files as ``policykb ingest`` would, each reported as stored, unchanged, duplicate
    or failed (with a code and a reason); then rebuild the index in the background (202 with
    the job) when anything new was stored, or 200 with ``"job": null`` when nothing was."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != MULTIPART:
        raise AdminRefused("unsupported_media_type", "send the files as multipart/form-data in the field 'files'")
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=MAX_FILES)
    except (MultiPartException, HTTPException) as error:
        # Starlette turns its parser's refusals into a 400 HTTPException; a 413 is the body limit.
        if isinstance(error, HTTPException) and error.status_code != 400:
            raise
        if "too many files" in str(getattr(error, "detail", None) or getattr(error, "message", "")).lower():
            raise AdminRefused("too_many_files") from None
        raise AdminRefused("upload_invalid") from None
    try:
        parts = form.getlist("files")
        if not any(isinstance(part, UploadFile) for part in parts):
            raise AdminRefused("files_missing")
        # A part without a file name arrives as text: reported as a failed file, not dropped.
        uploads = [Upload(part.filename, part.file, part.size) if isinstance(part, UploadFile) else Upload(None, None)
                   for part in parts]
        reports = await run_in_threadpool(desk.store, uploads)
    finally:
        await form.close()
    if any(report["status"] == "stored" for report in reports):
        return JSONResponse({"files": reports, "job": builds.request_rebuild(incremental=True)}, status_code=202)
    return JSONResponse({"files": reports, "job": None}, status_code=200)


@router.delete("/v1/documents/{doc_id:path}", tags=["administration"], summary="Delete a document",
               status_code=202, response_model=DeleteAnswer, dependencies=[require("documents:write", budgeted=True)],
               responses=_errors(401, 403, 404, 422, 429, 503))
def delete_document(doc_id: str, kb: KB, builds: Builds) -> JSONResponse:
    """Delete a document and its passages from the store at once; they leave search when the
    rebuild this starts has finished (202 with the job)."""
    _delete(kb, doc_id)
    return JSONResponse({"doc_id": doc_id, "deleted": True, "job": builds.request_rebuild(incremental=True)},
                        status_code=202)


def _delete(kb: SerializedKB, doc_id: str) -> None:
    kb.delete_document(doc_id)  # kb.DocumentNotFound -> 404 not_found (service.errors)


@router.post("/v1/admin/rebuild", tags=["administration"], summary="Rebuild the index", status_code=202,
             response_model=JobView, dependencies=[require("admin", budgeted=True)],
             responses=_errors(401, 403, 429, 503))
def rebuild(builds: Builds) -> JSONResponse:
    """Rebuild the index from the stored documents in the background. One build runs at a
    time: asking while one waits to start returns that job; asking while one runs queues one
    more."""
    job = builds.request_rebuild()
    return JSONResponse(job, status_code=202, headers={"Location": f"/v1/jobs/{job['id']}"})


@router.get("/v1/jobs/{job_id}", tags=["administration"], summary="Follow a background job",
            response_model=JobView, dependencies=[require("documents:write")], responses=_errors(401, 403, 404, 422))
def get_job(job_id: str, builds: Builds) -> JSONResponse:
    """A job's state and timestamps (ISO 8601, UTC), then its result or a clean error. Jobs
    are kept in memory, the last 200: a restarted service does not know older ids (404)."""
    job = builds.job(job_id)
    if job is None:
        raise AdminRefused("not_found", "no job has this id")
    return JSONResponse(job)


async def _refused(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AdminRefused)
    return error_response(exc.code, exc.message)


def install_admin(app: FastAPI) -> None:
    """Add the administration routes and their refusals to ``app``; the lifespan sets
    ``app.state.builds`` and ``app.state.uploads``."""
    app.include_router(router)
    app.add_exception_handler(AdminRefused, _refused)
