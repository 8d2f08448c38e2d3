"""A bounded load generator: ``wrk`` where installed, else a small asyncio one (said which).

Both keep exactly ``concurrency`` keep-alive connections busy for ``duration_s`` seconds,
each sending the next request as soon as its answer is read (a closed loop: a slow server
gets fewer requests, never an unbounded queue). Bodies rotate through the given questions.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.bench.stats import latency

WRK_MARK = "POLICYKB-WRK "

#: Reads one body per line of BODIES; each thread starts at its own offset. ``done`` prints
#: the summary as one JSON line after WRK_MARK (wrk's own text output varies by version).
WRK_SCRIPT = """
local bodies = {}
for line in io.lines(%(bodies)s) do bodies[#bodies + 1] = line end
local counter = 0
local threads = {}
function setup(thread) thread:set("offset", #threads * 7); table.insert(threads, thread) end
function init(args) counter = offset or 0 end
function request()
  if %(method)s == "GET" then return wrk.format("GET", %(path)s) end
  counter = counter %% #bodies + 1
  return wrk.format("POST", %(path)s, {["Content-Type"] = "application/json"}, bodies[counter])
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('%(mark)s{"requests": %%d, "duration_us": %%d, "bytes": %%d, "connect": %%d, ' ..
    '"read": %%d, "write": %%d, "status": %%d, "timeout": %%d, "p50_us": %%d, "p99_us": %%d, "max_us": %%d, ' ..
    '"mean_us": %%.1f}\\n', summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end
"""


@dataclass(frozen=True)
class Load:
    """One measured load: path and method, bodies (one JSON per line in a file), concurrency, time."""

    url: str
    path: str
    bodies: Path
    concurrency: int
    duration_s: float
    method: str = "POST"


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def generator_name() -> str:
    return "wrk" if wrk_available() else "python-asyncio"


def run_load(load: Load, work_dir: Path) -> dict[str, Any]:
    """rps, latency percentiles and errors of one load, with the generator named."""
    return _wrk(load, work_dir) if wrk_available() else asyncio.run(_python(load))


def _wrk(load: Load, work_dir: Path) -> dict[str, Any]:
    script = work_dir / "bench-load.lua"
    script.write_text(WRK_SCRIPT % {"bodies": json.dumps(str(load.bodies)), "path": json.dumps(load.path),
                                    "method": json.dumps(load.method), "mark": WRK_MARK}, encoding="utf-8")
    threads = max(1, min(2, load.concurrency))
    command = ["wrk", f"-t{threads}", f"-c{load.concurrency}", f"-d{max(1, round(load.duration_s))}s",
               "--timeout", "10s", "-s", str(script), load.url]
    done = subprocess.run(command, capture_output=True, text=True, timeout=load.duration_s + 60)
    line = next((row for row in done.stdout.splitlines() if row.startswith(WRK_MARK)), None)
    if line is None:
        return {"generator": "wrk", "failed": (done.stderr or done.stdout)[-500:]}
    raw = json.loads(line[len(WRK_MARK):])
    seconds = raw["duration_us"] / 1e6
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {"generator": "wrk", "concurrency": load.concurrency, "requests": raw["requests"],
            "rps": round(raw["requests"] / seconds, 1), "p50_ms": round(raw["p50_us"] / 1000, 2),
            "p99_ms": round(raw["p99_us"] / 1000, 2), "max_ms": round(raw["max_us"] / 1000, 2),
            "mean_ms": round(raw["mean_us"] / 1000, 2), "errors": errors, "non_2xx": raw["status"],
            "bytes_per_response": round(raw["bytes"] / max(1, raw["requests"]))}


async def _python(load: Load) -> dict[str, Any]:
    host, port = load.url.removeprefix("http://").split(":")
    bodies = [line.encode() for line in load.bodies.read_text(encoding="utf-8").splitlines() if line.strip()]
    samples: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    deadline = time.perf_counter() + load.duration_s

    async def connection(offset: int) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, int(port))
        counter = offset
        try:
            while time.perf_counter() < deadline:
                body = bodies[counter % len(bodies)] if load.method == "POST" else b""
                counter += 1
                head = (f"{load.method} {load.path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                        f"Content-Length: {len(body)}\r\n\r\n").encode()
                started = time.perf_counter()
                writer.write(head + body)
                status_line = await reader.readline()
                length = 0
                while (header := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                await reader.readexactly(length)
                samples.append((time.perf_counter() - started) * 1000)
                status = int(status_line.split()[1])
                statuses[status] = statuses.get(status, 0) + 1
        except (OSError, asyncio.IncompleteReadError, IndexError, ValueError):
            errors += 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection(i * 7) for i in range(load.concurrency)))
    seconds = time.perf_counter() - started
    summary = latency(samples)
    return {"generator": "python-asyncio", "concurrency": load.concurrency, "requests": len(samples),
            "rps": round(len(samples) / seconds, 1), "p50_ms": summary.get("p50_ms"), "p99_ms": summary.get("p99_ms"),
            "max_ms": summary.get("max_ms"), "mean_ms": summary.get("mean_ms"), "errors": errors,
            "non_2xx": sum(n for status, n in statuses.items() if not 200 <= status < 300)}
