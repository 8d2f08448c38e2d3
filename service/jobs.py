"""Index rebuilds as background jobs: one at a time, in a child process, switched in whole.

An upload or a delete changes ``kb.sqlite`` at once, but the index that answers questions is
derived and takes from seconds to minutes to rebuild. So the rebuild is a job with an id
(``GET /v1/jobs/{id}``) and the request that asked for it returns at once.

- **One build at a time.** A request while a build is waiting to start joins that build (it
  gets the same job: the build will read everything stored so far); a request while one is
  running queues one more, because the running build may have read the store before the
  change. So at most one build runs and at most one waits; nothing is refused with 409.
- **In a child process** (``spawn``, at ``nice`` 10): the build is CPU work in Python and
  numpy, and in a thread of the serving process it would hold the GIL against every question.
  A build that crashes or is killed leaves the served generation as it was (``kb.index``
  writes a new generation and switches ``CURRENT`` atomically).
- **Switched in whole.** The new generation is loaded and prepared in a fresh
  ``KnowledgeBase`` while the old one keeps answering (:meth:`SerializedKB.follow`), then
  swapped in under the lock: a question waits for one assignment, not for a load.

Jobs live in memory (the last :data:`HISTORY` of them): a restart forgets them, and the store
stays the truth (``policykb info`` says whether the index is stale). Error messages are fixed
strings: the engine's own can name server paths; the traceback goes to the log.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
import traceback
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from kb import KnowledgeBase
from service.access import SerializedKB

log = logging.getLogger(__name__)

#: Jobs remembered for ``GET /v1/jobs/{id}``; older ones are forgotten first.
HISTORY = 200
QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
REBUILD = "rebuild"
#: The build's own scheduling priority: questions first.
BUILD_NICENESS = 10
#: How often the runner looks up from a running build to see whether it should stop.
POLL_SECONDS = 0.2

MESSAGES = {
    "build_failed": "the index could not be built; the previous generation is still served (see the service log)",
    "build_killed": "the build stopped before it finished; the previous generation is still served",
    "load_failed": "the new index was built but cannot be loaded; see the service log",
    "stopped": "the service stopped before the build finished",
}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Job:
    """One unit of long work, as ``GET /v1/jobs/{id}`` shows it."""

    id: str
    kind: str
    state: str = QUEUED
    created_at: str = field(default_factory=_now)
    started_at: str | None = None
    finished_at: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    #: Index only what changed since the last full build, where that gives what a full build
    #: would (``kb.increment``): uploads and deletes. ``POST /v1/admin/rebuild`` builds in full.
    incremental: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "state": self.state, "created_at": self.created_at,
                "started_at": self.started_at, "finished_at": self.finished_at,
                "result": self.result, "error": self.error}


class BuildFailed(Exception):
    """A build job ended without a new generation; ``code`` is a key of :data:`MESSAGES`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def build_in_child(kb_dir: str, connection: Connection, incremental: bool = False) -> None:
    """The child process's whole life: build once, send a summary (or a failure) back, exit."""
    try:
        os.nice(BUILD_NICENESS)
    except OSError:
        pass
    try:
        knowledge_base = KnowledgeBase(kb_dir)
        try:
            manifest = knowledge_base.build(incremental=incremental)
        finally:
            knowledge_base.close()
        connection.send({"ok": True, "generation": manifest["generation"],
                         "documents": manifest["counts"]["documents"], "segments": manifest["counts"]["segments"],
                         "build_seconds": manifest["build_seconds"], "incremental": "base" in manifest})
    except BaseException:  # noqa: BLE001 - the parent reports it; a child has no one else to tell
        connection.send({"ok": False, "traceback": traceback.format_exc()})
    finally:
        connection.close()


class BuildRunner:
    """Runs rebuild jobs for one knowledge base, one at a time, on a thread of its own."""

    def __init__(self, kb_dir: Path, serving: SerializedKB) -> None:
        self.kb_dir = Path(kb_dir)
        self.serving = serving
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._waiting: Job | None = None
        self._condition = threading.Condition()
        self._stopping = False
        self._child: multiprocessing.process.BaseProcess | None = None
        self._thread = threading.Thread(target=self._work, name="policykb-builds", daemon=True)
        self._thread.start()

    # -- asking --------------------------------------------------------------------

    def request_rebuild(self, *, incremental: bool = False) -> dict[str, Any]:
        """The job that will rebuild the index with everything stored so far (see module doc).

        ``incremental`` asks for an incremental build; a waiting job that one caller wants in
        full is built in full."""
        with self._condition:
            if self._waiting is not None:
                self._waiting.incremental = self._waiting.incremental and incremental
            else:
                self._waiting = Job(id=uuid.uuid4().hex, kind=REBUILD, incremental=incremental)
                self._jobs[self._waiting.id] = self._waiting
                while len(self._jobs) > HISTORY:
                    self._jobs.popitem(last=False)
                self._condition.notify()
            return self._waiting.as_dict()

    def job(self, job_id: str) -> dict[str, Any] | None:
        """The job's state now, or None for an id this process does not know."""
        with self._condition:
            job = self._jobs.get(job_id)
            return job.as_dict() if job is not None else None

    def close(self, timeout: float = 10.0) -> None:
        """Stop: a running build's process is terminated (the served generation is untouched)."""
        with self._condition:
            self._stopping = True
            self._condition.notify_all()
            child = self._child
        if child is not None and child.is_alive():
            child.terminate()
        self._thread.join(timeout)

    # -- working -------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            with self._condition:
                while self._waiting is None and not self._stopping:
                    self._condition.wait()
                if self._stopping:
                    if self._waiting is not None:
                        self._finish(self._waiting, error="stopped")
                    return
                job, self._waiting = self._waiting, None
                job.state, job.started_at = RUNNING, _now()
            try:
                result = self._rebuild(job.incremental)
            except BuildFailed as failure:
                with self._condition:
                    self._finish(job, error="stopped" if self._stopping else failure.code)
            except Exception:  # a defect here must not end the runner
                log.exception("rebuild job %s failed", job.id)
                with self._condition:
                    self._finish(job, error="build_failed")
            else:
                with self._condition:
                    self._finish(job, result=result)

    def _finish(self, job: Job, *, result: dict[str, Any] | None = None, error: str | None = None) -> None:
        job.finished_at = _now()
        if error is None:
            job.state, job.result = SUCCEEDED, result
        else:
            job.state, job.error = FAILED, {"code": error, "message": MESSAGES[error]}

    def _rebuild(self, incremental: bool) -> dict[str, Any]:
        started = time.perf_counter()
        summary = self._build_in_child(incremental)
        try:
            # Loads the new generation beside the served one and swaps (unless a question that
            # noticed it first is doing so: then wait for that). Questions never wait for it.
            generation = self.serving.follow(wait=True) or self.serving.warm_up()
        except Exception:  # logged by follow(); the previous generation keeps answering
            raise BuildFailed("load_failed") from None
        if generation != summary["generation"] and generation != self.serving.current_generation():
            raise BuildFailed("load_failed")  # refused when a question first tried it: logged then
        return {"generation": generation, "documents": summary["documents"], "segments": summary["segments"],
                "build_seconds": summary["build_seconds"], "incremental": summary["incremental"],
                "seconds": round(time.perf_counter() - started, 3)}

    def _build_in_child(self, incremental: bool) -> dict[str, Any]:
        context = multiprocessing.get_context("spawn")
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=build_in_child, args=(str(self.kb_dir), sender, incremental),
                                name="policykb-build", daemon=True)
        with self._condition:
            if self._stopping:
                raise BuildFailed("stopped")
            self._child = child
            child.start()
        sender.close()
        try:
            message: dict[str, Any] | None = None
            while message is None:
                if receiver.poll(POLL_SECONDS):
                    try:
                        message = receiver.recv()
                    except EOFError:  # the child died without a word (killed, out of memory)
                        break
                elif not child.is_alive() and not receiver.poll(0):
                    break
            child.join()
        finally:
            receiver.close()
            with self._condition:
                self._child = None
        if message is None:
            log.error("the build process ended with exit code %s and no result", child.exitcode)
            raise BuildFailed("build_killed")
        if not message["ok"]:
            log.error("the index build failed:\n%s", message["traceback"])
            raise BuildFailed("build_failed")
        return message
