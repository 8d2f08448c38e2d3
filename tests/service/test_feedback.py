"""POST /v1/ask logs each answer under a query_id; POST /v1/feedback judges it. A real app over a
real knowledge base (a copy of the session's, so this module's log starts empty)."""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service import ServiceSettings, create_app
from service.schemas import AskAnswer
from tests.service.conftest import analyst_headers

SOCIAL_A54 = "lawrefbook:24e933d71ff9#a54"
ZHENGWU_S34 = "changshu-2019-zhengwu-gongkai-yaodian#s3.4"
QUESTION = "领取失业保险金期间能享受医疗保险待遇吗"
PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"
CARD = "6222021234567890128"  # Luhn-valid
EMAIL = "li.si@example.com"


def copy_kb(kb_dir: Path, target: Path) -> Path:
    """The session's built knowledge base, copied without its activity log."""
    shutil.copytree(kb_dir, target, ignore=shutil.ignore_patterns("activity.sqlite*"))
    return target


@pytest.fixture(scope="module")
def own_kb(kb_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_kb(kb_dir, tmp_path_factory.mktemp("feedback") / "kb")


@pytest.fixture(scope="module")
def app_client(own_kb: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ServiceSettings(kb_dir=own_kb)), raise_server_exceptions=False,
                    headers=analyst_headers(own_kb)) as client:
        yield client


def ask(client: TestClient, question: str = QUESTION, **options: object) -> dict:
    response = client.post("/v1/ask", json={"question": question, **options})
    assert response.status_code == 200, response.text
    return response.json()


def feedback(client: TestClient, **body: object) -> tuple[int, dict]:
    response = client.post("/v1/feedback", json=body)
    return response.status_code, response.json()


def test_every_answer_carries_a_query_id_that_names_its_log_entry(app_client: TestClient) -> None:
    answer = ask(app_client, top_k=3, channel="console", filters={"include_expired": True})
    AskAnswer.model_validate(answer)
    assert re.fullmatch(r"[0-9a-f]{32}", answer["query_id"])
    assert answer["question"] == QUESTION and answer["hits"][0]["segment_id"] == SOCIAL_A54
    logged = app_client.get("/v1/analytics/queries", params={"limit": 500}).json()["queries"]
    entry = next(q for q in logged if q["query_id"] == answer["query_id"])
    assert entry["question"] == QUESTION and entry["channel"] == "console" and entry["top_k"] == 3
    assert entry["mode"] == "hybrid" and entry["filters"] == {"include_expired": True}
    assert entry["generation"] == answer["generation"] and entry["latency_ms"] > 0
    assert [(h["rank"], h["segment_id"], h["doc_id"]) for h in entry["hits"]] == [
        (h["rank"], h["segment_id"], h["doc_id"]) for h in answer["hits"]]
    assert ask(app_client)["query_id"] != answer["query_id"]


def test_an_unknown_channel_is_refused(app_client: TestClient) -> None:
    response = app_client.post("/v1/ask", json={"question": QUESTION, "channel": "fax"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request" and error["details"][0]["loc"] == ["body", "channel"]


def test_feedback_is_stored_and_returned_with_its_id(app_client: TestClient) -> None:
    query_id = ask(app_client)["query_id"]
    status, stored = feedback(app_client, query_id=query_id, verdict="helpful")
    assert status == 201 and isinstance(stored["feedback_id"], int)
    assert stored["query_id"] == query_id and stored["verdict"] == "helpful" and stored["segment_id"] is None
    status, confirmed = feedback(app_client, query_id=query_id, verdict="correct_passage", segment_id=SOCIAL_A54,
                                 comment="就是这一条")
    assert status == 201 and confirmed["feedback_id"] > stored["feedback_id"]
    logged = app_client.get("/v1/analytics/queries", params={"limit": 500}).json()["queries"]
    entry = next(q for q in logged if q["query_id"] == query_id)
    assert [(f["verdict"], f["segment_id"], f["comment"]) for f in entry["feedback"]] == [
        ("helpful", None, None), ("correct_passage", SOCIAL_A54, "就是这一条")]


def test_feedback_on_an_unknown_answer_is_404(app_client: TestClient) -> None:
    status, body = feedback(app_client, query_id="0" * 32, verdict="helpful")
    assert status == 404
    assert body == {"error": {"code": "not_found", "message": "no answer has this query_id"}}


@pytest.mark.parametrize(("body", "field", "fragment"), [
    ({"verdict": "great"}, "verdict", "helpful"),
    ({"verdict": "correct_passage"}, None, "segment_id"),
    ({"verdict": "correct_passage", "segment_id": "  "}, None, "segment_id"),
    ({"verdict": "correct_passage", "segment_id": "no-such-doc#a1"}, "segment_id", "no passage"),
    ({"verdict": "not_helpful", "segment_id": "no-such-doc#a1"}, "segment_id", "no passage"),
    ({"verdict": "helpful", "comment": "长" * 1001}, "comment", "1000"),
    ({"verdict": "helpful", "comment": 5}, "comment", "string"),
    ({"verdict": "helpful", "stars": 5}, "<unknown>", "Extra"),
])
def test_bad_feedback_is_422_saying_what_is_wrong(app_client: TestClient, body: dict, field: str | None,
                                                  fragment: str) -> None:
    query_id = ask(app_client)["query_id"]
    status, error = feedback(app_client, query_id=query_id, **body)
    assert status == 422, error
    assert error["error"]["code"] == "invalid_request"
    detail = error["error"]["details"][0]
    assert detail["loc"] == (["body", field] if field else ["body"])
    assert fragment in detail["message"]


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'{"query_id": 5, "verdict": "helpful"}'])
def test_malformed_feedback_bodies_are_clean_4xx(app_client: TestClient, body: bytes) -> None:
    response = app_client.post("/v1/feedback", content=body, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500 and "error" in response.json()


def test_feedback_survives_a_restart(own_kb: Path) -> None:
    with TestClient(create_app(ServiceSettings(kb_dir=own_kb))) as first:
        query_id = ask(first)["query_id"]
    with TestClient(create_app(ServiceSettings(kb_dir=own_kb))) as second:
        status, stored = feedback(second, query_id=query_id, verdict="not_helpful")
        assert status == 201 and stored["query_id"] == query_id


def test_personal_numbers_reach_no_log_and_no_file(own_kb: Path, caplog: pytest.LogCaptureFixture) -> None:
    question = f"我身份证{ID_NUMBER}，手机+86 {PHONE[:3]} {PHONE[3:7]} {PHONE[7:]}，领取失业保险金期间能看病吗"
    comment = f"卡号{CARD}，邮箱{EMAIL}，回电{PHONE}"
    with caplog.at_level(logging.DEBUG), TestClient(create_app(ServiceSettings(kb_dir=own_kb)),
                                                    headers=analyst_headers(own_kb)) as client:
        answer = ask(client, question)
        assert answer["hits"], "a question with personal numbers is still answered"
        status, stored = feedback(client, query_id=answer["query_id"], verdict="not_helpful", comment=comment)
        assert status == 201 and stored["comment"] == "卡号[银行卡号]，邮箱[邮箱]，回电[手机号]"
        logged = client.get("/v1/analytics/queries", params={"limit": 500}).json()["queries"]
    entry = next(q for q in logged if q["query_id"] == answer["query_id"])
    assert entry["question"] == "我身份证[身份证号]，手机[手机号]，领取失业保险金期间能看病吗"
    secrets = [ID_NUMBER, PHONE, CARD, EMAIL, f"{PHONE[3:7]} {PHONE[7:]}"]
    records = "\n".join(record.getMessage() for record in caplog.records)
    stored_bytes = b"".join(path.read_bytes() for path in own_kb.glob("activity.sqlite*"))
    for secret in secrets:
        assert secret not in records
        assert secret.encode() not in stored_bytes


def test_an_unwritable_activity_file_never_holds_an_answer_back(kb_dir: Path, tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    broken = copy_kb(kb_dir, tmp_path / "kb")
    (broken / "activity.sqlite").mkdir()  # SQLite cannot open a directory, whoever runs the test
    with caplog.at_level(logging.WARNING), TestClient(create_app(ServiceSettings(kb_dir=broken)),
                                                      headers=analyst_headers(broken)) as client:
        answer = ask(client, f"手机{PHONE}，{QUESTION}")
        assert answer["hits"][0]["segment_id"] == SOCIAL_A54 and answer["query_id"]
        status, error = feedback(client, query_id=answer["query_id"], verdict="helpful")
        assert status == 503 and error["error"]["code"] == "activity_unavailable"
        response = client.get("/v1/analytics/summary")
        assert response.status_code == 503 and response.json()["error"]["code"] == "activity_unavailable"
    assert "not logged" in caplog.text and PHONE not in caplog.text
    assert sqlite3.connect(broken / "kb.sqlite").execute("SELECT count(*) FROM documents").fetchone()[0] == 6


def test_the_service_keeps_the_log_as_long_as_configured(kb_dir: Path, tmp_path: Path) -> None:
    """POLICYKB_RETENTION_DAYS reaches the log: a question older than it is gone after a restart."""
    own = copy_kb(kb_dir, tmp_path / "kb")
    headers = analyst_headers(own)
    settings = ServiceSettings(kb_dir=own, retention_days=7)
    with TestClient(create_app(settings), headers=headers) as client:
        old = ask(client, QUESTION)["query_id"]
    with sqlite3.connect(own / "activity.sqlite") as db:  # as if asked eight days ago
        db.execute("UPDATE queries SET asked_at = '2000-01-01T00:00:00.000000Z' WHERE query_id = ?", [old])
    with TestClient(create_app(settings), headers=headers) as client:
        recent = ask(client, QUESTION)["query_id"]
        logged = [q["query_id"] for q in client.get("/v1/analytics/queries", params={"days": 180}).json()["queries"]]
    assert logged == [recent]
    assert ServiceSettings.from_env({"POLICYKB_KB_DIR": "kb", "POLICYKB_RETENTION_DAYS": "30"}).retention_days == 30
    with pytest.raises(ValueError, match="retention_days"):
        ServiceSettings(kb_dir=own, retention_days=0)
