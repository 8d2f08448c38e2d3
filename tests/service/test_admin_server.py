"""Questions keep being answered while a document is uploaded and the index rebuilt.

A real ``policykb serve`` (configured through the environment), two clients asking without a
pause, and an upload whose rebuild runs meanwhile: no request may fail, every answer names
exactly one index generation, the old one until the switch and the new one after it. The
figures (asks, the slowest wait before and during the rebuild) are printed for the record.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from service.keys import KeyRing
from tests.reliability.served import serving
from tests.service.test_feedback import copy_kb
from tests.service.test_server import free_port

JOB_TIMEOUT_S = 180
ASKERS = 2
QUESTIONS = ["领取失业保险金期间能享受医疗保险待遇吗", "高龄老人尊老金怎么发放", "异地就医怎么备案",
             "大学生创业补贴多少钱", "政务公开目录在哪里公开"]
NOTICE = ("常熟市人民政府办公室关于推进公共充电桩建设的通知\n\n"
          "一、新建住宅小区停车位应当全部建设充电基础设施或者预留安装条件。\n\n"
          "二、市发展改革委负责统筹全市公共充电桩建设规划。（责任部门：市发展改革委）\n")


@dataclass(frozen=True)
class Answer:
    started: float
    seconds: float
    status: int
    generations: tuple[str, ...]


@pytest.fixture(scope="module")
def served(kb_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    own = copy_kb(kb_dir, tmp_path_factory.mktemp("admin-serve") / "kb")
    key = KeyRing.beside(own).create("writer", "documents:write")
    port = free_port()
    with serving(own, port, own.parent / "serve.log", RATE_LIMIT="0", LOG_LEVEL="warning"):
        yield f"http://127.0.0.1:{port}", key, own


def _ask_until(base: str, stop: threading.Event, answers: list[Answer], offset: int) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        n = offset
        while not stop.is_set():
            started = time.monotonic()
            try:
                response = client.post("/v1/ask", json={"question": QUESTIONS[n % len(QUESTIONS)]})
                status, generations = response.status_code, tuple(response.headers.get_list("x-index-generation"))
            except httpx.HTTPError:
                status, generations = 0, ()
            answers.append(Answer(started, time.monotonic() - started, status, generations))
            n += 1


def test_questions_are_answered_throughout_an_upload_and_its_rebuild(served) -> None:
    base, key, own = served
    answers: list[Answer] = []
    stop = threading.Event()
    askers = [threading.Thread(target=_ask_until, args=(base, stop, answers, i)) for i in range(ASKERS)]
    for asker in askers:
        asker.start()
    try:
        time.sleep(3)  # a baseline before anything changes
        uploaded_at = time.monotonic()
        with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {key}"}) as admin:
            response = admin.post("/v1/documents", files={"files": ("公共充电桩.txt", NOTICE.encode())})
            assert response.status_code == 202, response.text
            job_id = response.json()["job"]["id"]
            deadline = time.monotonic() + JOB_TIMEOUT_S
            while (job := admin.get(f"/v1/jobs/{job_id}").json())["state"] not in ("succeeded", "failed"):
                assert time.monotonic() < deadline, job
                time.sleep(0.1)
        switched_at = time.monotonic()
        time.sleep(2)  # answers after the switch
    finally:
        stop.set()
        for asker in askers:
            asker.join()
    assert job["state"] == "succeeded", job
    new = job["result"]["generation"]

    failed = [a for a in answers if a.status != 200]
    assert failed == [], failed[:5]
    assert all(len(a.generations) == 1 for a in answers)
    old = {a.generations[0] for a in answers if a.started < uploaded_at}
    assert len(old) == 1 and new not in old
    assert {a.generations[0] for a in answers} == old | {new}
    assert all(a.generations[0] == new for a in answers if a.started > switched_at)
    first_new = min(a.started for a in answers if a.generations[0] == new)
    assert all(a.generations[0] in old for a in answers if a.started + a.seconds < first_new)  # one switch, no flapping

    before = [a.seconds for a in answers if a.started < uploaded_at]
    during = [a.seconds for a in answers if uploaded_at <= a.started <= switched_at]
    print(f"\nasks during upload+rebuild: {len(during)} (before: {len(before)}), failed {len(failed)}; "
          f"wait p50/max before {statistics.median(before) * 1000:.0f}/{max(before) * 1000:.0f} ms, "
          f"during {statistics.median(during) * 1000:.0f}/{max(during) * 1000:.0f} ms; "
          f"build {job['result']['build_seconds']} s, job {job['result']['seconds']} s")
    assert during and max(during) < 5.0  # never held for the whole build

    with httpx.Client(base_url=base, timeout=30) as client:
        hit = client.post("/v1/ask", json={"question": "公共充电桩建设"}).json()["hits"][0]
        assert hit["doc_id"] == "公共充电桩"
