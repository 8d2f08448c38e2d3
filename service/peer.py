"""The benchmark's ceiling: the cheapest FastAPI POST that answers with given bytes.

``policykb bench`` serves it beside ``policykb serve``, with uvicorn configured the same way
(same worker count, host and log level, so both write an access log), and reports ``/v1/ask``'s requests per second as a share of
this app's: what the framework and the server cost with no search, no middleware and no
logging. The body is a real ``/v1/ask`` answer saved to a file, so both move the same bytes.

    python -m service.peer --body answer.json --port 8001 [--workers 2]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import Response

#: How the body file reaches worker processes, which uvicorn starts afresh (spawn).
BODY_VARIABLE = "POLICYKB_PEER_BODY"


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


def app_from_environment() -> FastAPI:
    """The app for one uvicorn worker process: the body file named by ``POLICYKB_PEER_BODY``."""
    return create_peer_app(Path(os.environ[BODY_VARIABLE]).read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the benchmark's trivial FastAPI peer.")
    parser.add_argument("--body", type=Path, required=True, help="File whose bytes every POST /v1/ask returns.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="info", help="uvicorn's, as policykb serve's (access log at info).")
    args = parser.parse_args()
    os.environ[BODY_VARIABLE] = str(args.body.resolve())
    uvicorn.run("service.peer:app_from_environment", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level=args.log_level, timeout_keep_alive=5, server_header=False)


if __name__ == "__main__":
    main()
