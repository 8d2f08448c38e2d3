"""``POST /v1/feedback``: a caller's verdict on an answer, stored in the activity log.

The route is thin: the request model bounds what comes in, the knowledge base says whether a
confirmed passage exists, and :class:`service.activity.ActivityLog` masks and stores. Refusals
use the service's error shape: an unknown ``query_id`` is 404 ``not_found``; a bad verdict, a
``correct_passage`` without a segment id or naming a segment that does not exist, and a comment
over 1,000 characters are 422 with the field and the reason in ``details``; an activity file
that cannot be written is 503 ``activity_unavailable`` (answers are unaffected by it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator, model_validator

from kb import SegmentNotFound
from service.access import SerializedKB
from service.activity import MAX_COMMENT_CHARS, ActivityLog, ActivityUnavailable, QueryNotFound
from service.auth import allow_anonymous
from service.errors import error_response
from service.routes import KB
from service.schemas import MAX_ID_CHARS, SURROGATE, ErrorResponse

Verdict = Literal["helpful", "not_helpful", "correct_passage"]
MAX_QUERY_ID_CHARS = 64


async def get_activity(request: Request) -> ActivityLog:
    """The activity log opened at start-up; 503 ``activity_unavailable`` without one."""
    activity: ActivityLog | None = getattr(request.app.state, "activity", None)
    if activity is None:
        raise ActivityUnavailable("the activity log was not opened: the app's lifespan did not run")
    return activity


Activity = Annotated[ActivityLog, Depends(get_activity)]


class FeedbackRequest(BaseModel):
    """A verdict on one answer (``query_id`` from ``/v1/ask``), optionally on one of its passages."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"query_id": "3f2c9a0e8b7d4c1f9e6a5b4c3d2e1f00", "verdict": "correct_passage",
         "segment_id": "changshu-2019-zhengwu-gongkai-yaodian#s3.4", "comment": "第二条就是"},
    ]})

    query_id: StrictStr = Field(max_length=MAX_QUERY_ID_CHARS, description="The answer's query_id.")
    verdict: Verdict = Field(description="helpful, not_helpful, or correct_passage (this passage answers it).")
    segment_id: StrictStr | None = Field(None, max_length=MAX_ID_CHARS,
                                         description="The passage judged; required for correct_passage.")
    comment: StrictStr | None = Field(None, max_length=MAX_COMMENT_CHARS,
                                      description="Free text; personal numbers are masked before storing.")

    @field_validator("query_id", "segment_id", "comment")
    @classmethod
    def _valid_text(cls, value: str | None) -> str | None:
        if value is not None and SURROGATE.search(value):
            raise ValueError("text must be valid Unicode (no lone surrogates)")
        return value

    @model_validator(mode="after")
    def _passage_named(self) -> FeedbackRequest:
        if self.verdict == "correct_passage" and not (self.segment_id or "").strip():
            raise ValueError("a correct_passage verdict needs the segment_id of the passage that answers")
        return self


class FeedbackStored(BaseModel):
    """The feedback as stored (the comment masked)."""

    feedback_id: int
    query_id: str
    verdict: str
    segment_id: str | None
    comment: str | None
    created_at: str


def _refuse(field: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", field), "type": "value_error", "msg": message}])


router = APIRouter()


@router.post("/v1/feedback", tags=["feedback"], summary="Say whether an answer helped", status_code=201,
             response_model=FeedbackStored, dependencies=[allow_anonymous("feedback")],
             responses={status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 413, 415, 422, 503)})
def post_feedback(body: FeedbackRequest, kb: KB, activity: Activity) -> JSONResponse:
    """Store a verdict on an answer. ``correct_passage`` names the passage that answers the
    question; those become training pairs and test questions (``policykb feedback export``)."""
    if body.segment_id is not None:
        _check_segment(kb, body.segment_id)
    stored = activity.add_feedback(body.query_id, body.verdict, segment_id=body.segment_id,
                                   comment=body.comment)
    return JSONResponse(stored, status_code=201)


def _check_segment(kb: SerializedKB, segment_id: str) -> None:
    try:
        kb.segment(segment_id)
    except SegmentNotFound:
        raise _refuse("segment_id", "no passage of the knowledge base has this segment_id") from None


async def _query_not_found(request: Request, exc: Exception) -> JSONResponse:
    return error_response("not_found", "no answer has this query_id")


async def _activity_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return error_response("activity_unavailable", "the activity log cannot be written now; answers are unaffected",
                          status=503)


def install_feedback(app: FastAPI) -> None:
    """Add the feedback route and the responses for the activity log's errors to ``app``."""
    app.include_router(router)
    handlers: dict[Any, Any] = {QueryNotFound: _query_not_found, ActivityUnavailable: _activity_unavailable}
    for exception, handler in handlers.items():
        app.add_exception_handler(exception, handler)
