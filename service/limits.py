"""A bound on request bodies, answered with the service's JSON error shape.

uvicorn accepts bodies of any size and Starlette reads them whole into memory, so a client
could make one request cost gigabytes. FastAPI's own ``max_body_size`` exists, but it answers
with a plain-text 413 of its own, outside the error shape every client relies on; this
middleware answers ``request_too_large`` instead. A declared ``Content-Length`` over the
limit is refused before reading anything; a chunked body is counted as it arrives and
refused as soon as it passes the limit.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import error_response


class BodyTooLarge(HTTPException):
    """Raised while reading a body that passed the limit; ``service.errors`` renders the 413.

    An ``HTTPException`` because FastAPI re-raises those unchanged from body parsing, where
    any other exception would become a generic 400.
    """

    def __init__(self) -> None:
        super().__init__(status_code=413, detail="request body too large")


class RequestBodyLimit:
    """Refuse request bodies larger than ``max_body_bytes`` with 413 ``request_too_large``."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_body_bytes:
            await error_response("request_too_large")(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited, send)
