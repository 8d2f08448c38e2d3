"""A real uvicorn on loopback: questions and comments full of personal numbers go in over HTTP,
and no sink the service writes (its own log and access log, the activity file and its WAL)
holds one of them afterwards; the feedback given before a restart is still there after it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.service.conftest import analyst_headers
from tests.service.test_feedback import copy_kb

REPO = Path(__file__).resolve().parents[2]
SERVER = "from service import ServiceSettings, serve; serve(ServiceSettings.from_env())"
PHONE, ID_NUMBER, CARD, EMAIL = "15987654321", "11010519491231002X", "6222021234567890128", "wang.wu@example.cn"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def call(url: str, body: dict | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class Server:
    """``policykb``'s service in its own process, its output in a file."""

    def __init__(self, kb_dir: Path, log_path: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "POLICYKB_KB_DIR": str(kb_dir), "POLICYKB_PORT": str(self.port),
               "POLICYKB_LOG_LEVEL": "debug"}
        self.log = log_path.open("ab")
        self.process = subprocess.Popen([sys.executable, "-c", SERVER], cwd=REPO, env=env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while True:
            assert self.process.poll() is None, log_path.read_text(encoding="utf-8", errors="replace")
            try:
                if call(f"{self.base}/healthz")[0] == 200:
                    return
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=20)
        self.log.close()


def test_no_personal_number_reaches_any_sink_and_feedback_survives_a_restart(kb_dir: Path, tmp_path: Path) -> None:
    own = copy_kb(kb_dir, tmp_path / "kb")
    log_path = tmp_path / "server.log"
    server = Server(own, log_path)
    try:
        status, answer = call(f"{server.base}/v1/ask", {
            "question": f"身份证{ID_NUMBER}，电话{PHONE}，领取失业保险金期间能享受医疗保险待遇吗", "channel": "widget"})
        assert status == 200 and answer["hits"] and answer["query_id"]
        status, stored = call(f"{server.base}/v1/feedback", {
            "query_id": answer["query_id"], "verdict": "not_helpful", "comment": f"卡{CARD} 邮箱{EMAIL}"})
        assert status == 201 and stored["comment"] == "卡[银行卡号] 邮箱[邮箱]"
        status, error = call(f"{server.base}/v1/feedback", {"query_id": answer["query_id"], "verdict": "meh",
                                                            "comment": PHONE})
        assert status == 422 and PHONE not in json.dumps(error)
    finally:
        server.stop()
    server = Server(own, log_path)
    try:
        status, _ = call(f"{server.base}/v1/feedback", {"query_id": answer["query_id"], "verdict": "helpful"})
        assert status == 201
        status, page = call(f"{server.base}/v1/analytics/queries", headers=analyst_headers(own))
        assert [len(q["feedback"]) for q in page["queries"]] == [2]
        assert page["queries"][0]["question"] == "身份证[身份证号]，电话[手机号]，领取失业保险金期间能享受医疗保险待遇吗"
    finally:
        server.stop()
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert "POST /v1/ask" in output and "Traceback" not in output
    sinks = {"server output": output.encode()} | {p.name: p.read_bytes() for p in own.glob("activity.sqlite*")}
    for name, content in sinks.items():
        for secret in (PHONE, ID_NUMBER, CARD, EMAIL):
            assert secret.encode() not in content, f"{secret} in {name}"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback calls must not go through a proxy from the environment."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
