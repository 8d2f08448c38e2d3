"""A bound on request bodies, answered with the service's JSON error shape.

uvicorn accepts bodies of any size and Starlette reads them whole into memory, so a client
could make one request cost gigabytes. FastAPI's own ``max_body_size`` exists, but it answers
with a plain-text 413 of its own, outside the error shape every client relies on; this
middleware answers ``request_too_large`` instead. A declared ``Content-Length`` over the
limit is refused before reading anything; a chunked body is counted as it arrives and
refused as soon as it passes the limit. A few routes that take files (document uploads) get a
larger bound of their own, by method and exact path, so the public routes stay small.
"""

from __future__ import annotations

from collections.abc import Mapping

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
    """Refuse request bodies larger than ``max_body_bytes`` with 413 ``request_too_large``.

    ``larger`` maps ``(method, path)`` to the bound of that one route, e.g.
    ``{("POST", "/v1/documents"): 50 << 20}``.
    """

    def __init__(self, app: ASGIApp, *, max_body_bytes: int,
                 larger: Mapping[tuple[str, str], int] | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.larger = dict(larger or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.larger.get((scope["method"], scope["path"]), self.max_body_bytes)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await error_response("request_too_large")(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        await self.app(scope, limited, send)


class InFlightLimit:
    """Answer 503 ``overloaded`` (JSON, ``Retry-After: 1``) beyond ``limit`` requests in flight.

    uvicorn's own ``limit_concurrency`` counted open connections, idle ones included, and
    answered plain text: 63 sockets that never sent a byte locked every caller out. Here
    only requests being answered count, so idle connections (closed by
    ``service.protocol``'s deadlines) cost nothing. ``exempt`` paths (``/healthz``) are
    always answered: a load balancer must see a busy service as alive.
    """

    def __init__(self, app: ASGIApp, *, limit: int | None, exempt: tuple[str, ...] = ("/healthz",)) -> None:
        self.app = app
        self.limit = limit
        self.exempt = frozenset(exempt)
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.limit is None or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await error_response("overloaded", headers={"Retry-After": "1"})(scope, receive, send)
            return
        self.in_flight += 1  # one event loop: no other coroutine runs between the test and this
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1
