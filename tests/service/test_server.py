"""A real uvicorn on loopback, started by ``service.serve`` in its own process, asked over HTTP."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from urllib.parse import quote

import pytest

from kb import KnowledgeBaseNotFound
from service import ServiceSettings, serve

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90
#: The server reads its settings from the environment, as a deployment would.
SERVER = "from service import ServiceSettings, serve; serve(ServiceSettings.from_env())"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get_json(url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None,
             timeout: float = 10) -> tuple[int, dict[str, str], dict]:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, _lower(response.headers), json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        return error.code, _lower(error.headers), json.loads(error.read().decode("utf-8"))


def _lower(headers: Message) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


@pytest.fixture(scope="module")
def server(kb_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The service on a free loopback port; yields its base URL, then stops it with SIGTERM
    and checks that it stopped cleanly, with no traceback in its output."""
    port = free_port()
    env = {**os.environ, "POLICYKB_KB_DIR": str(kb_dir), "POLICYKB_PORT": str(port),
           "POLICYKB_HOST": "127.0.0.1", "POLICYKB_LOG_LEVEL": "info"}
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    log = log_path.open("wb")  # a file, not a pipe: a full pipe would block the server
    process = subprocess.Popen([sys.executable, "-c", SERVER], cwd=REPO, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                output = log_path.read_text(encoding="utf-8", errors="replace")
                pytest.fail(f"server exited with {process.returncode} before answering:\n{output}")
            try:
                status, _, _ = get_json(f"{base}/healthz", timeout=2)
                if status == 200:
                    break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer /healthz within {START_TIMEOUT_S} s")
            time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        log.close()
    output = log_path.read_text(encoding="utf-8", errors="replace")
    # uvicorn re-raises the SIGTERM it handled once shut down, so -SIGTERM is a clean exit.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Traceback" not in output and "Application shutdown complete" in output, output


def test_a_real_server_answers_a_question(server: str) -> None:
    body = json.dumps({"question": "领取失业保险金期间能享受医疗保险待遇吗", "top_k": 3},
                      ensure_ascii=False).encode("utf-8")
    status, headers, result = get_json(f"{server}/v1/ask", data=body,
                                       headers={"Content-Type": "application/json"})
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    assert result["hits"][0]["segment_id"] == "lawrefbook:24e933d71ff9#a54"
    assert result["hits"][0]["title"] == "中华人民共和国社会保险法"
    assert 1 <= len(result["hits"]) <= 3
    assert headers["x-index-generation"] == result["generation"]
    assert "server" not in {name.lower() for name in headers}


def test_a_real_server_looks_up_an_encoded_segment_id(server: str) -> None:
    status, _, segment = get_json(f"{server}/v1/segments/{quote('常熟市-2021-高龄津贴#a2', safe='')}")
    assert status == 200
    assert segment["segment_id"] == "常熟市-2021-高龄津贴#a2"


def test_a_real_server_refuses_bad_bytes_with_a_json_error(server: str) -> None:
    status, _, error = get_json(f"{server}/v1/ask", data='{"question": "社保"}'.encode("gbk"),
                                headers={"Content-Type": "application/json"})
    assert (status, error["error"]["code"]) == (400, "invalid_utf8")
    status, _, error = get_json(f"{server}/v1/ask", data=b'{"question": "\xe3\x80\x80"}',
                                headers={"Content-Type": "application/json"})
    assert (status, error["error"]["code"]) == (422, "question_empty")


def test_a_real_server_refuses_an_oversized_chunked_body(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=20)
    try:
        chunks = (b"a" * 65536 for _ in range(17))  # just over the 1 MiB default
        connection.request("POST", "/v1/ask", body=chunks, headers={"Content-Type": "application/json"},
                           encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == "request_too_large"
    except (BrokenPipeError, ConnectionResetError):
        pytest.fail("the server dropped the connection instead of answering 413")
    finally:
        connection.close()


def test_serve_refuses_a_missing_knowledge_base_before_starting(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeBaseNotFound):
        serve(ServiceSettings(kb_dir=tmp_path / "absent", port=free_port()))
