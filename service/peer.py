"""The benchmark's ceiling: the cheapest FastAPI POST that answers with given bytes.

``policykb bench`` serves it beside ``policykb serve`` (through ``policykb.bench_peer``,
with uvicorn configured the same way: worker count, host, log level) and reports
``/v1/ask``'s requests per second as a share of this app's: what the framework and the
server cost with no search, no middleware and no logging. The body is a real ``/v1/ask``
answer, so both move the same bytes.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import Response


def create_peer_app(body: bytes) -> FastAPI:
    """An app whose ``POST /v1/ask`` reads the request and returns ``body`` as JSON."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/v1/ask")
    async def ask(request: Request) -> Response:
        await request.body()
        return Response(body, media_type="application/json")

    @app.get("/readyz")
    async def readyz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    return app
