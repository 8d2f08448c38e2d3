"""A serving process answers on one BLAS thread (see kb.threads for the measurements)."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json, numpy
from threadpoolctl import threadpool_info
from kb.threads import answer_on_one_blas_thread
answer_on_one_blas_thread()
print(json.dumps([i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]))
"""


def test_blas_runs_on_one_thread_after_the_call() -> None:
    # in a child process: the limit is process-wide and would slow the rest of the tests' builds
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=120)
    threads = json.loads(out.stdout.strip().splitlines()[-1])
    assert threads and all(n == 1 for n in threads)
