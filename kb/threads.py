"""One BLAS thread for a process that answers questions.

Since the dense index is an inverted file (``kb.dense_index``), every matrix product of a
question is small (a few thousand rows at most). OpenBLAS still spreads each over every
core, and on a machine whose cores are busy its threads wait for each other: 300 STARD
questions on the full corpus, load average ~4 on 2 cores, hybrid search p50 / p99 8.8 /
72.6 ms with two BLAS threads against 5.1 / 9.8 ms with one. A server answers questions
concurrently anyway (threads or worker processes), so a question needs no more than a core.
Builds run in processes of their own (``service.jobs``) and keep every thread.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def answer_on_one_blas_thread() -> None:
    """Limit this process's BLAS libraries to one thread (threadpoolctl, used by scikit-learn)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a dependency; searching still works without it
        log.warning("threadpoolctl is not installed: BLAS keeps its default threads")
        return
    threadpool_limits(limits=1, user_api="blas")
