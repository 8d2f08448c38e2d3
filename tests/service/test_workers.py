"""``policykb serve --workers N``: N processes answer on one port with the same settings, and
the request-head deadline reaches them (its protocol class pickles by name)."""

from __future__ import annotations

import http.client
import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

from evaluation.bench.server import free_port, memory_mib, policykb_serve, running
from service.protocol import GuardedH11Protocol, guarded_protocol
from tests.conftest import REPO


def test_a_deadline_class_pickles_into_a_fresh_process() -> None:
    assert guarded_protocol() is GuardedH11Protocol
    made = guarded_protocol(2.5)
    assert made is guarded_protocol(2.5) and made.request_head_seconds == 2.5
    code = ("import pickle, sys; cls = pickle.loads(sys.stdin.buffer.read()); "
            "print(cls.__name__, cls.request_head_seconds)")
    done = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(made), capture_output=True, cwd=REPO,
                          check=True)
    assert done.stdout.decode().split() == ["GuardedH11Protocol_2500ms", "2.5"]


def _post(port: int, question: str) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/v1/ask", body=json.dumps({"question": question}).encode(),
                       headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    status, body = response.status, json.loads(response.read())
    connection.close()
    return status, body


def test_two_workers_answer_on_one_port_with_the_environment_settings(kb_dir: Path, tmp_path: Path) -> None:
    own = tmp_path / "kb"
    shutil.copytree(kb_dir, own, ignore=shutil.ignore_patterns("activity.sqlite*"))
    port = free_port()
    with running(policykb_serve(own, port, workers=2), tmp_path / "serve.log", port=port,
                 environment={"POLICYKB_RATE_LIMIT": "2", "POLICYKB_REQUEST_HEAD_SECONDS": "3"}) as server:
        memory = memory_mib(server.process.pid)
        assert memory is not None and memory["processes"] >= 3  # the supervisor and two workers
        statuses = [_post(port, "失业保险金领取期间医疗保险")[0] for _ in range(12)]
        # Two per minute per process: at most four of twelve get through two workers.
        assert 2 <= statuses.count(200) <= 4 and set(statuses) <= {200, 429}, statuses
    log = (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log and "POST /v1/ask" in log
