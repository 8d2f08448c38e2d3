"""Serve the benchmark's trivial FastAPI peer (``service.peer``) as ``policykb serve`` is served.

    python -m policykb.bench_peer --body answer.json --port 8001 [--workers 2]

uvicorn starts worker processes afresh and calls a factory with no arguments, so the body
file reaches them through ``POLICYKB_PEER_BODY``, set here before they start.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from service.peer import create_peer_app

BODY_VARIABLE = "POLICYKB_PEER_BODY"


def app_from_environment():  # noqa: ANN201 - a FastAPI app; fastapi is imported by service only
    """The app of one worker process: the body file named by ``POLICYKB_PEER_BODY``."""
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
    uvicorn.run("policykb.bench_peer:app_from_environment", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level=args.log_level, timeout_keep_alive=5, server_header=False)


if __name__ == "__main__":
    main()
