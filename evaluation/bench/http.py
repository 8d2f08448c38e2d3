"""``POST /v1/ask`` under load beside the trivial FastAPI peer, and ``/healthz`` while it runs.

Both servers run at once on loopback (an idle server costs no CPU) and each load level is
run on one, then the other, ``repeats`` times, so a busy neighbour on a shared machine
weighs on both alike; the figure reported is ask's rps as a share of the peer's in the same
round. Anonymous callers are limited to 60 questions a minute by default: the server runs
with ``POLICYKB_RATE_LIMIT=0`` (documented: no limit), which the result records.
"""

from __future__ import annotations

import http.client
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

from evaluation.bench.load import Load, generator_name, run_load
from evaluation.bench.server import free_port, memory_mib, policykb_serve, running
from evaluation.bench.stats import latency, over_runs

CONCURRENCY = (1, 8, 32)
#: Documented settings the benchmark serves with (README, service settings): no per-client budget.
SERVER_SETTINGS = {"POLICYKB_RATE_LIMIT": "0", "POLICYKB_KEY_RATE_LIMIT": "0"}
HEALTH_PROBE_INTERVAL_S = 0.1


def write_bodies(questions: list[str], path: Path, top_k: int = 10) -> Path:
    """One ``/v1/ask`` body per line: the questions in turn."""
    path.write_text("".join(json.dumps({"question": q, "top_k": top_k}, ensure_ascii=False) + "\n"
                            for q in questions), encoding="utf-8")
    return path


def fetch_answer(port: int, body: str) -> bytes:
    """One ``/v1/ask`` answer's bytes (the peer's body, so both move the same bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("POST", "/v1/ask", body=body.encode(), headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"/v1/ask answered {response.status}: {data[:200]!r}")
    return data


class HealthProbe:
    """GET ``/healthz`` every 100 ms on a thread of its own, timing each answer, while active."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.samples: list[float] = []
        self.failures = 0
        self._stop = threading.Event()
        self.active = threading.Event()
        self._thread = threading.Thread(target=self._probe, name="bench-healthz", daemon=True)

    def _probe(self) -> None:
        while not self._stop.is_set():
            if not self.active.is_set():
                self._stop.wait(0.01)
                continue
            started = time.perf_counter()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                connection.request("GET", "/healthz")
                ok = connection.getresponse().status == 200
                connection.close()
            except OSError:
                ok = False
            if ok:
                self.samples.append((time.perf_counter() - started) * 1000)
            else:
                self.failures += 1
            self._stop.wait(HEALTH_PROBE_INTERVAL_S)

    def __enter__(self) -> HealthProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _level_summary(ask_runs: list[dict[str, Any]], peer_runs: list[dict[str, Any]]) -> dict[str, Any]:
    def figure(runs: list[dict[str, Any]], name: str) -> dict[str, Any]:
        return over_runs([run[name] for run in runs if run.get(name) is not None])

    shares = [100 * a["rps"] / p["rps"] for a, p in zip(ask_runs, peer_runs) if a.get("rps") and p.get("rps")]
    return {
        "ask": {"rps": figure(ask_runs, "rps"), "p50_ms": figure(ask_runs, "p50_ms"),
                "p99_ms": figure(ask_runs, "p99_ms"), "errors": sum(r.get("errors", 0) for r in ask_runs),
                "non_2xx": sum(r.get("non_2xx", 0) for r in ask_runs)},
        "trivial": {"rps": figure(peer_runs, "rps"), "p50_ms": figure(peer_runs, "p50_ms"),
                    "p99_ms": figure(peer_runs, "p99_ms"), "errors": sum(r.get("errors", 0) for r in peer_runs)},
        "ask_rps_percent_of_trivial": over_runs(shares, 1),
        "runs": {"ask": ask_runs, "trivial": peer_runs},
    }


def run_http(kb_dir: Path, questions: list[str], work_dir: Path, *, workers: int, duration_s: float,
             repeats: int, concurrency: tuple[int, ...] = CONCURRENCY) -> dict[str, Any]:
    """Every HTTP figure, and the server's memory after the load."""
    bodies = write_bodies(questions, work_dir / "ask-bodies.jsonl")
    ask_port, peer_port = free_port(), free_port()
    report: dict[str, Any] = {"generator": generator_name(), "workers": workers, "duration_s": duration_s,
                              "repeats": repeats, "server_settings": dict(SERVER_SETTINGS),
                              "rate_limits": "raised: POLICYKB_RATE_LIMIT=0 and POLICYKB_KEY_RATE_LIMIT=0 (no limit)"}
    with running(policykb_serve(kb_dir, ask_port, workers=workers), work_dir / "serve.log", port=ask_port,
                 environment=SERVER_SETTINGS) as ask_server:
        answer = fetch_answer(ask_port, bodies.read_text(encoding="utf-8").splitlines()[0])
        (work_dir / "answer.json").write_bytes(answer)
        report["answer_bytes"] = len(answer)
        report["memory_after_start_mib"] = memory_mib(ask_server.process.pid)
        peer = [sys.executable, "-m", "policykb.bench_peer", "--body", str(work_dir / "answer.json"),
                "--port", str(peer_port), "--workers", str(workers)]
        with running(peer, work_dir / "peer.log", port=peer_port):
            levels: dict[str, Any] = {}
            for level in concurrency:
                ask_runs, peer_runs, health = [], [], HealthProbe(ask_port)
                with health:
                    for _ in range(repeats):
                        health.active.set()  # probe only while asks run
                        ask_runs.append(run_load(Load(ask_server.url, "/v1/ask", bodies, level, duration_s),
                                                 work_dir))
                        health.active.clear()
                        peer_runs.append(run_load(Load(f"http://127.0.0.1:{peer_port}", "/v1/ask", bodies, level,
                                                       duration_s), work_dir))
                levels[f"c{level}"] = {**_level_summary(ask_runs, peer_runs),
                                       "healthz_during_asks": {**latency(health.samples),
                                                               "failures": health.failures}}
            report["levels"] = levels
        report["memory_after_load_mib"] = memory_mib(ask_server.process.pid)
    rps = [levels[k]["ask"]["rps"].get("median") for k in levels]
    report["ask_rps_median_of_levels"] = statistics.median([r for r in rps if r]) if any(rps) else None
    return report
