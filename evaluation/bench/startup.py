"""Seconds to start: ``policykb serve`` to its first ready answer, a switch to a new index
generation under questions, and ``policykb ask`` from the shell.

The switch figure is what a caller feels while a rebuild lands: four clients ask without
pause, a new generation is published (a linked copy of the current one, see
``workspace.publish_copy_of_current``), and the answers around it are timed: how long after
publishing the first answer came from the new generation, and the answers before, while it
loaded, and after (how long a question waited because of the switch).
"""

from __future__ import annotations

import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from evaluation.bench.http import SERVER_SETTINGS
from evaluation.bench.machine import REPO, shown_path
from evaluation.bench.server import free_port, memory_mib, policykb_serve, running
from evaluation.bench.stats import latency, over_runs
from evaluation.bench.workspace import publish_copy_of_current

SWITCH_CLIENTS = 4
SWITCH_BEFORE_S = 2.0
#: Answers are watched until the new generation answers (at most this long), then a second more.
SWITCH_TIMEOUT_S = 120.0
SWITCH_AFTER_S = 1.0


def serve_to_ready(kb_dir: Path, work_dir: Path, *, launches: int, workers: int) -> dict[str, Any]:
    """Launch to first 200 on ``/readyz``, once per launch, and the memory of the last one."""
    seconds, memory = [], None
    for number in range(launches):
        port = free_port()
        with running(policykb_serve(kb_dir, port, workers=workers), work_dir / f"start-{number}.log", port=port,
                     environment=SERVER_SETTINGS) as server:
            seconds.append(server.ready_s)
            memory = memory_mib(server.process.pid)
    return {"serve_to_ready_s": over_runs(seconds), "workers": workers, "memory_at_ready_mib": memory}


def _asker(port: int, body: bytes, stop: threading.Event, log: list[tuple[float, float, str | None, int]]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        started = time.perf_counter()
        try:
            connection.request("POST", "/v1/ask", body=body, headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            response.read()
            log.append((started, time.perf_counter(), response.getheader("X-Index-Generation"), response.status))
        except OSError:
            log.append((started, time.perf_counter(), None, 0))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.close()


def index_switch(kb_dir: Path, questions: list[str], work_dir: Path, *, workers: int) -> dict[str, Any]:
    """Answers around the publication of a new generation (``kb_dir`` must be a private copy)."""
    port = free_port()
    with running(policykb_serve(kb_dir, port, workers=workers), work_dir / "switch.log", port=port,
                 environment=SERVER_SETTINGS):
        stop, log = threading.Event(), []  # type: ignore[var-annotated]
        threads = [threading.Thread(target=_asker, args=(port, json.dumps(
            {"question": questions[i % len(questions)], "top_k": 10}, ensure_ascii=False).encode(), stop, log))
            for i in range(SWITCH_CLIENTS)]
        for thread in threads:
            thread.start()
        time.sleep(SWITCH_BEFORE_S)
        published_at = time.perf_counter()
        name = publish_copy_of_current(kb_dir)
        deadline = published_at + SWITCH_TIMEOUT_S
        while time.perf_counter() < deadline and not any(entry[2] == name for entry in list(log)):
            time.sleep(0.05)
        time.sleep(SWITCH_AFTER_S)
        stop.set()
        for thread in threads:
            thread.join()
    first_new = min((end for _, end, generation, _ in log if generation == name), default=None)
    switched = first_new if first_new is not None else float("inf")
    before = [(end - start) * 1000 for start, end, _, _ in log if end < published_at]
    loading = [(end - start) * 1000 for start, end, _, _ in log if published_at <= end < switched]
    after = [(end - start) * 1000 for start, end, _, _ in log if end >= switched]
    return {"clients": SWITCH_CLIENTS, "new_generation": name,
            "first_new_answer_after_s": None if first_new is None else round(first_new - published_at, 3),
            "answers_before": latency(before), "answers_while_loading": latency(loading),
            "answers_after": latency(after), "errors": sum(1 for *_, status in log if status != 200)}


def ask_from_shell(kb_dir: Path, question: str, *, runs: int) -> dict[str, Any]:
    """Wall seconds of ``policykb ask QUESTION`` as a shell runs it (a new process each time)."""
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "policykb", "ask", question, "--kb", str(kb_dir)], cwd=REPO,
                              capture_output=True, text=True, timeout=300)
        seconds.append(time.perf_counter() - started)
        if done.returncode != 0:
            return {"failed": done.stderr.strip()[-500:]}
    return {"wall_s": over_runs(seconds), "kb_dir": shown_path(kb_dir), "median_s": round(statistics.median(seconds), 2)}
