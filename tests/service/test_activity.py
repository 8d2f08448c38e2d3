"""The activity log as a library: a real SQLite file that masks, survives reopening, forgets old
rows, and never costs an answer when it cannot be written."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kb import Hit, SearchResult
from service.activity import ActivityLog, ActivityUnavailable, QueryNotFound, new_query_id

PHONE = "13812345678"
ID_NUMBER = "11010519491231002X"


def result(question: str, *doc_statuses: tuple[str, str]) -> SearchResult:
    hits = [Hit(rank=rank, score=1.0 / rank, segment_id=f"{doc_id}#a{rank}", doc_id=doc_id, title=doc_id,
                doc_number=None, issuer=None, date=None, status=status, superseded_by=None, kind="document",
                section_path=[], locator="", departments=[], text="", snippet="", start=0, end=0, highlights=[],
                scores={})
            for rank, (doc_id, status) in enumerate(doc_statuses, start=1)]
    return SearchResult(question=question, hits=hits, terms=[], mode="hybrid", generation="generation-000001",
                        reason=None if hits else "no_answer")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_questions_and_comments_are_stored_masked_and_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "activity.sqlite"
    log = ActivityLog(path)
    query_id = new_query_id()
    assert log.record_query(query_id, result(f"我手机{PHONE}，身份证{ID_NUMBER}，公积金怎么提取",
                                             ("housing", "in_force")), top_k=5, filters={}, channel="console")
    log.add_feedback(query_id, "not_helpful", comment=f"打我电话 {PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}")
    log.close()

    reopened = ActivityLog(path)
    stored = reopened.query(query_id)
    assert stored["question"] == "我手机[手机号]，身份证[身份证号]，公积金怎么提取"
    assert stored["channel"] == "console" and stored["hits"][0]["segment_id"] == "housing#a1"
    assert stored["feedback"][0]["comment"] == "打我电话 [手机号]"
    reopened.close()
    raw = path.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("activity.sqlite-*"))
    assert PHONE.encode() not in raw and ID_NUMBER.encode() not in raw
    assert PHONE[3:7].encode() + b" " + PHONE[7:].encode() not in raw


def test_feedback_on_an_unknown_query_is_refused(tmp_path: Path) -> None:
    log = ActivityLog(tmp_path / "activity.sqlite")
    with pytest.raises(QueryNotFound):
        log.add_feedback("never-asked", "helpful")
    with pytest.raises(ValueError, match="segment_id"):
        log.add_feedback("never-asked", "correct_passage")


def test_an_unwritable_file_costs_a_warning_not_an_answer(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "activity.sqlite"
    blocked.mkdir()  # a directory where the file should be: SQLite cannot open it, even as root
    log = ActivityLog(blocked)
    with caplog.at_level(logging.WARNING, logger="service.activity"):
        assert log.record_query(new_query_id(), result(f"手机{PHONE}能查社保吗"), top_k=5, filters={}) is False
        assert log.available() is False
    assert "not logged" in caplog.text and PHONE not in caplog.text
    with pytest.raises(ActivityUnavailable):
        log.add_feedback("x", "helpful")
    blocked.rmdir()  # the next call tries again and succeeds
    assert log.record_query(new_query_id(), result("社保怎么交"), top_k=5, filters={}) is True


def test_rows_past_retention_are_forgotten(tmp_path: Path) -> None:
    clock = Clock()
    log = ActivityLog(tmp_path / "activity.sqlite", retention_days=180, clock=clock)
    old, recent = new_query_id(), new_query_id()
    log.record_query(old, result("老问题", ("a", "in_force")), top_k=5, filters={})
    log.add_feedback(old, "helpful")
    clock.now += timedelta(days=100)
    log.record_query(recent, result("新问题"), top_k=5, filters={})
    clock.now += timedelta(days=81)  # the old one is now 181 days old, the recent one 81
    assert log.summary(since=log.since(180))["queries"] == 1
    with pytest.raises(QueryNotFound):
        log.query(old)
    assert log.query(recent)["question"] == "新问题"
    db = sqlite3.connect(tmp_path / "activity.sqlite")
    assert db.execute("SELECT count(*) FROM hits").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM feedback").fetchone()[0] == 0


def test_aggregates_count_what_was_logged(tmp_path: Path) -> None:
    clock = Clock()
    log = ActivityLog(tmp_path / "activity.sqlite", clock=clock)
    first = new_query_id()
    log.record_query(first, result("公积金", ("fund", "in_force"), ("old-fund", "superseded")), top_k=5, filters={})
    log.add_feedback(first, "helpful")
    log.add_feedback(first, "correct_passage", segment_id="fund#a1")
    clock.now += timedelta(days=1)
    log.record_query(new_query_id(), result("天气怎么样"), top_k=5, filters={}, channel="widget")
    since = log.since(30)
    assert [(row["doc_id"], row["citations"], row["first"]) for row in log.citations(since=since)] == [
        ("fund", 1, 1), ("old-fund", 1, 0)]
    assert [(row["doc_id"], row["status"]) for row in log.outdated_citations(since=since)] == [
        ("old-fund", "superseded")]
    days = log.feedback_by_day(since=since)
    assert [(d["day"], d["queries"], d["helpful"], d["correct_passage"], d["feedback_rate"]) for d in days] == [
        ("2026-12-01", 1, 1, 1, 1.0), ("2026-12-02", 1, 0, 0, 0.0)]
    summary = log.summary(since=since)
    assert (summary["queries"], summary["unanswered"], summary["no_answer"]) == (2, 1, 1)
    assert summary["channels"] == {"api": 1, "widget": 1}
    assert [(p.question, p.segment_id) for p in log.confirmed_passages()] == [("公积金", "fund#a1")]
