"""Servers the benchmark starts on loopback, and what their processes hold in memory.

A server is a child process on a free port of 127.0.0.1; it counts as up at its first 200 on
the readiness path. Memory is read from ``/proc/PID/status`` of the process and of its
children (``--workers`` forks them), summed.
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from evaluation.bench.errors import BenchError
from evaluation.bench.machine import REPO

START_TIMEOUT_S = 180
MEMORY_FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem")


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """A started server: its process, port and seconds from launch to its first ready answer."""

    process: subprocess.Popen
    port: int
    ready_s: float
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _status(port: int, path: str) -> int | None:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path)
        status = connection.getresponse().status
        connection.close()
        return status
    except OSError:
        return None


@contextmanager
def running(command: list[str], log_path: Path, *, port: int, environment: Mapping[str, str] | None = None,
            ready_path: str = "/readyz", timeout_s: float = START_TIMEOUT_S) -> Iterator[Server]:
    """Start ``command`` (which must listen on ``port``), wait for 200 on ``ready_path``, stop it after."""
    env = {**os.environ, **(environment or {})}
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = started + timeout_s
        while _status(port, ready_path) != 200:
            if process.poll() is not None:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
                raise BenchError(f"{' '.join(command[:4])} exited with {process.returncode}: {tail}")
            if time.perf_counter() > deadline:
                raise BenchError(f"{' '.join(command[:4])} did not answer {ready_path} within {timeout_s:.0f} s")
            time.sleep(0.02)
        yield Server(process, port, time.perf_counter() - started, log_path)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def policykb_serve(kb_dir: Path, port: int, *, workers: int = 1) -> list[str]:
    """The ``policykb serve`` command line the benchmark measures."""
    command = [sys.executable, "-m", "policykb", "serve", "--kb", str(kb_dir), "--port", str(port)]
    return command + (["--workers", str(workers)] if workers > 1 else [])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text(encoding="ascii", errors="replace").rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def memory_mib(pid: int) -> dict[str, float | int] | None:
    """VmRSS (now), VmHWM (peak), RssAnon, RssFile and RssShmem in MiB, summed over the process
    and its children; None off Linux. Shared file pages count once per process here."""
    pids = [pid, *_children(pid)]
    totals = dict.fromkeys(MEMORY_FIELDS, 0.0)
    seen = False
    for each in pids:
        try:
            lines = Path(f"/proc/{each}/status").read_text(encoding="ascii").splitlines()
        except OSError:
            continue
        for line in lines:
            name, _, value = line.partition(":")
            if name in totals:
                totals[name] += int(value.split()[0]) / 1024
                seen = True
    if not seen:
        return None
    return {**{name: round(value, 1) for name, value in totals.items()}, "processes": len(pids)}
