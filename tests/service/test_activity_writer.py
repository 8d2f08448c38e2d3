"""Answers logged behind the response (``ActivityLog.record_query_later``): written by the log's
own thread, visible to every read and feedback at once, all written by a clean close, and
masked as every other row."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from service.activity import ActivityLog, new_query_id
from tests.service.test_activity import result

PHONE = "13912345678"


def _stored(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT query_id, question FROM queries ORDER BY question").fetchall()


def test_queued_answers_are_seen_by_reads_and_feedback_at_once(tmp_path: Path) -> None:
    log = ActivityLog(tmp_path / "activity.sqlite")
    query_id = new_query_id()
    log.record_query_later(query_id, result(f"手机{PHONE}公积金怎么提取", ("fund", "in_force")), top_k=5, filters={})
    stored = log.add_feedback(query_id, "correct_passage", segment_id="fund#a1")  # no QueryNotFound
    assert stored["query_id"] == query_id
    assert log.query(query_id)["question"] == "手机[手机号]公积金怎么提取"
    assert [hit["segment_id"] for hit in log.query(query_id)["hits"]] == ["fund#a1"]
    log.close()


def test_a_clean_close_writes_every_queued_answer(tmp_path: Path) -> None:
    path = tmp_path / "activity.sqlite"
    log = ActivityLog(path)
    asked = [new_query_id() for _ in range(400)]

    def ask(ids: list[str]) -> None:
        for number, query_id in enumerate(ids):
            log.record_query_later(query_id, result(f"问题{number:03d}{query_id}", ("a", "in_force")), top_k=5,
                                   filters={}, channel="widget", latency_ms=1.5)

    threads = [threading.Thread(target=ask, args=(asked[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    assert sorted(query_id for query_id, _ in _stored(path)) == sorted(asked)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM hits").fetchone()[0] == 400
    log.record_query_later(new_query_id(), result("关闭后再问"), top_k=5, filters={})  # a later call reopens
    log.close()
    assert len(_stored(path)) == 401


def test_an_unwritable_file_drops_the_queue_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "activity.sqlite"
    blocked.mkdir()
    log = ActivityLog(blocked)
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            log.record_query_later(new_query_id(), result(f"手机{PHONE}社保怎么交"), top_k=5, filters={})
        log.close()
    assert "not logged" in caplog.text and PHONE not in caplog.text
    assert not log._pending


def test_query_ids_are_random_and_distinct() -> None:
    ids = [new_query_id() for _ in range(2000)]
    assert len(set(ids)) == 2000
    assert all(len(query_id) == 32 and int(query_id, 16) >= 0 for query_id in ids)
