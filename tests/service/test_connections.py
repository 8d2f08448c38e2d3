"""Connections as an attacker holds them, against ``policykb serve`` on loopback.

Found by a trial: 63 idle TCP connections locked every caller out (uvicorn's
``limit_concurrency`` counted them, with no deadline for a request head); uvicorn's own
refusals were plain text; the query string reached the access log; and ``policykb serve``
ignored every ``POLICYKB_*`` setting. The server here is configured only through the
environment, as a deployment would configure it.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.reliability.served import serving
from tests.service.test_server import free_port, get_json

LIMIT = 4
HEAD_SECONDS = 1.0
ID_NUMBER = "11010519491231002X"


@pytest.fixture(scope="module")
def served(kb_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, Path]]:
    """``policykb serve`` with a small concurrency limit, a short head deadline and /docs off."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("serve") / "serve.log"
    with serving(kb_dir, port, log_path, LIMIT_CONCURRENCY=str(LIMIT), REQUEST_HEAD_SECONDS=str(HEAD_SECONDS),
                 DOCS="0"):
        yield f"http://127.0.0.1:{port}", port, log_path


def _raw(port: int, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send ``data`` on a fresh connection and read until the server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as connection:
        connection.sendall(data)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


def _json_body(response: bytes) -> dict:
    head, _, body = response.partition(b"\r\n\r\n")
    assert b"application/json" in head.lower(), head
    return json.loads(body)


def test_idle_connections_do_not_lock_callers_out(served: tuple[str, int, Path]) -> None:
    base, port, _ = served
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(LIMIT * 3)]
    try:
        status, _, body = get_json(f"{base}/v1/ask", data=json.dumps({"question": "政务公开"}).encode(),
                                   headers={"Content-Type": "application/json"})
        assert status == 200 and body["hits"]
    finally:
        for connection in idle:
            connection.close()


def test_a_connection_that_sends_nothing_or_trickles_its_head_is_closed(served: tuple[str, int, Path]) -> None:
    _, port, _ = served
    started = time.monotonic()
    assert _raw(port, b"") == b""  # closed by the server, nothing said
    assert HEAD_SECONDS * 0.8 < time.monotonic() - started < HEAD_SECONDS + 3
    with socket.create_connection(("127.0.0.1", port), timeout=10) as slow:
        started = time.monotonic()
        slow.sendall(b"POST /v1/ask HTTP/1.1\r\nHost: x\r\n")
        closed = False
        for number in range(20):  # one header line every 0.3 s never completes the head
            time.sleep(0.3)
            try:
                slow.sendall(f"X-Slow-{number}: 1\r\n".encode())
            except OSError:
                closed = True
                break
        if not closed:
            slow.settimeout(2)
            closed = slow.recv(1024) == b""
        assert closed and time.monotonic() - started < HEAD_SECONDS + 3


@pytest.mark.parametrize("request_bytes", [
    b"NOT HTTP AT ALL\r\n\r\n",
    b"POST /v1/ask HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n",
])
def test_bytes_that_are_not_http_get_the_json_error_shape(served: tuple[str, int, Path], request_bytes: bytes) -> None:
    _, port, _ = served
    response = _raw(port, request_bytes)
    assert response.startswith(b"HTTP/1.1 400 ")
    assert _json_body(response) == {"error": {"code": "bad_request", "message": "the request is not valid HTTP"}}


def test_the_access_log_holds_no_query_string(served: tuple[str, int, Path]) -> None:
    base, _, log_path = served
    status, _, _ = get_json(f"{base}/healthz?id={ID_NUMBER}&q=%E7%A4%BE%E4%BF%9D")
    assert status == 200
    time.sleep(0.3)
    log = log_path.read_text(encoding="utf-8", errors="replace")
    assert "GET /healthz HTTP/1.1" in log and ID_NUMBER not in log and "id=" not in log


def test_serve_takes_its_settings_from_the_environment(served: tuple[str, int, Path]) -> None:
    base, _, log_path = served
    assert get_json(f"{base}/openapi.json")[0] == 404  # POLICYKB_DOCS=0
    assert "/docs" not in log_path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[0]
