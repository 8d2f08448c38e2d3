"""``policykb serve`` on a free loopback port, configured through ``POLICYKB_*`` as a
deployment would configure it; for the tests that need a real server."""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90
#: What no response body may show: a trace, or a path of the machine serving it (system folders,
#: and the folder this checkout lives in, wherever that is).
LEAKS = ("Traceback", 'File "', "site-packages", "/tmp/", "/home/", "/usr/lib", f"{REPO.parent}/")


def leak_in(text: str, *paths: Path | str) -> str | None:
    """The first of :data:`LEAKS` or of ``paths`` that ``text`` shows, or None."""
    return next((leak for leak in (*LEAKS, *map(str, paths)) if leak in text), None)


class ServerFailed(RuntimeError):
    """The server exited or did not answer in time; the message holds its output."""


@contextmanager
def serving(kb_dir: Path, port: int, log_path: Path, **settings: str) -> Iterator[subprocess.Popen]:
    """Run ``policykb serve`` over ``kb_dir`` until the block ends; ``settings`` are extra
    ``POLICYKB_*`` variables by their short names (``RATE_LIMIT="0"``)."""
    environment = {**os.environ, "POLICYKB_KB_DIR": str(kb_dir), "POLICYKB_PORT": str(port),
                   "POLICYKB_LOG_LEVEL": "info", **{f"POLICYKB_{name}": value for name, value in settings.items()}}
    with log_path.open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "policykb", "serve"], cwd=REPO, env=environment,
                                   stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise ServerFailed(f"serve exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise ServerFailed(f"serve did not answer /healthz in {START_TIMEOUT_S} s")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)
