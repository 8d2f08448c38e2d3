"""Every client fault is a 4xx JSON error with a stable code; nothing leaks; never a 500."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.errors import MESSAGES

#: A value no response may repeat: errors must not echo the caller's input.
MARKER = "QZXJMARK"
JSON = {"content-type": "application/json"}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The response is the documented error shape with this status and code."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, body
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"code", "message", "details"}
    for detail in error.get("details") or []:
        assert set(detail) == {"loc", "type", "message"}
    text = response.text
    assert "Traceback" not in text and 'File "' not in text
    assert '"input"' not in text and '"detail"' not in text  # what FastAPI's default handler sends
    return error


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"question": ""}, 422, "question_empty"),
    ({"question": "   "}, 422, "question_empty"),
    ({"question": "\u3000\u3000"}, 422, "question_empty"),
    ({"question": "\t\n"}, 422, "question_empty"),
    ({"question": "\u200b\ufeff"}, 422, "question_empty"),
    ({"question": "社" * 2001}, 422, "question_too_long"),
    ({"question": "a" * 100_000}, 422, "question_too_long"),
    ({}, 422, "question_invalid"),
    ({"question": None}, 422, "question_invalid"),
    ({"question": 5}, 422, "question_invalid"),
    ({"question": ["社保"]}, 422, "question_invalid"),
    ({"question": "社保", "top_k": 0}, 422, "top_k_invalid"),
    ({"question": "社保", "top_k": -1}, 422, "top_k_invalid"),
    ({"question": "社保", "top_k": 101}, 422, "top_k_invalid"),
    ({"question": "社保", "top_k": 10**9}, 422, "top_k_invalid"),
    ({"question": "社保", "top_k": 10**30}, 422, "top_k_invalid"),
    ({"question": "社保", "top_k": "abc"}, 422, "top_k_invalid"),
    ({"question": "社保", "top_k": "5"}, 422, "top_k_invalid"),
    ({"question": "社保", "top_k": True}, 422, "top_k_invalid"),
    ({"question": "社保", "top_k": 2.5}, 422, "top_k_invalid"),
    ({"question": "社保", "top_k": None}, 422, "top_k_invalid"),
    ({"question": "社保", "filters": {"statuses": ["repealed"]}}, 422, "invalid_filter"),
    ({"question": "社保", "filters": {"statuses": "expired"}}, 422, "invalid_filter"),
    ({"question": "社保", "filters": {"doc_ids": "abc"}}, 422, "invalid_filter"),
    ({"question": "社保", "filters": {"doc_ids": [1, 2]}}, 422, "invalid_filter"),
    ({"question": "社保", "filters": {"include_expired": "yes"}}, 422, "invalid_filter"),
    ({"question": "社保", "filters": {"colour": "red"}}, 422, "invalid_filter"),
    ({"question": "社保", "filters": ["expired"]}, 422, "invalid_filter"),
    ({"question": "社保", "filters": {"as_of": "2019-13-45"}}, 422, "invalid_filter"),
    ({"question": "社保", "filters": {"as_of": "2021-02-29"}}, 422, "invalid_filter"),
    ({"question": "社保", "filters": {"as_of": 20200301}}, 422, "invalid_filter"),
    ({"question": "社保", "mode": "semantic"}, 422, "mode_invalid"),
    ({"question": "社保", "mode": "BM25"}, 422, "mode_invalid"),
    ({"question": "社保", "mode": None}, 422, "mode_invalid"),
    ({"question": "社保", "topk": 3}, 422, "invalid_request"),
])
def test_bad_ask_bodies(client: TestClient, body: dict[str, Any], status: int, code: str) -> None:
    error = assert_error(client.post("/v1/ask", json=body), status, code)
    assert error["message"] == MESSAGES[code]


def test_several_faults_report_the_first_field_and_every_location(client: TestClient) -> None:
    error = assert_error(client.post("/v1/ask", json={"question": 1, "top_k": 0, "mode": "x"}),
                         422, "question_invalid")
    assert [d["loc"] for d in error["details"]] == [["body", "question"], ["body", "top_k"], ["body", "mode"]]


@pytest.mark.parametrize(("content", "headers", "status", "code"), [
    (b'{"question": "\xc9\xe7\xb1\xa3"}', JSON, 400, "invalid_utf8"),  # 社保 in GBK
    (b'{"question": "\xff\xfe"}', JSON, 400, "invalid_utf8"),
    (b'{"question": "\xc0\xaf"}', JSON, 400, "invalid_utf8"),  # an overlong encoding of "/"
    (b'{"question": "\\ud800"}', JSON, 422, "question_invalid"),  # a lone surrogate
    (b'{"question": ', JSON, 400, "invalid_json"),
    (b"{'question': 'x'}", JSON, 400, "invalid_json"),
    (b'{"question": "x",}', JSON, 400, "invalid_json"),
    (b"[" * 10_000 + b"]" * 10_000, JSON, 400, "invalid_json"),
    (b'"just a string"', JSON, 422, "invalid_request"),
    (b"[1, 2]", JSON, 422, "invalid_request"),
    (b"", JSON, 422, "body_missing"),
    (b"null", JSON, 422, "invalid_request"),
    ('{"question": "社保"}'.encode(), {"content-type": "text/plain"}, 415, "unsupported_media_type"),
    ('{"question": "社保"}'.encode(), {"content-type": "application/x-www-form-urlencoded"}, 415,
     "unsupported_media_type"),
    (b"question=x", {"content-type": "multipart/form-data; boundary=xyz"}, 415, "unsupported_media_type"),
    ('{"question": "社保"}'.encode(), {}, 415, "unsupported_media_type"),  # no content type at all
    (b"", {}, 422, "body_missing"),
])
def test_bad_ask_transport(client: TestClient, content: bytes, headers: dict[str, str], status: int,
                           code: str) -> None:
    assert_error(client.post("/v1/ask", content=content, headers=headers), status, code)


def test_json_with_a_charset_is_accepted(client: TestClient) -> None:
    response = client.post("/v1/ask", content='{"question": "社保"}'.encode(),
                           headers={"content-type": "application/json; charset=utf-8"})
    assert response.status_code == 200, response.text


def test_a_declared_oversized_body_is_refused_before_reading(client: TestClient) -> None:
    limit = client.app.state.settings.max_body_bytes
    body = b'{"question": "' + b"a" * limit + b'"}'
    assert_error(client.post("/v1/ask", content=body, headers=JSON), 413, "request_too_large")


def test_a_chunked_oversized_body_is_refused(client: TestClient) -> None:
    limit = client.app.state.settings.max_body_bytes

    def chunks():  # a generator body is sent without Content-Length
        yield b'{"question": "'
        for _ in range(limit // 65536 + 2):
            yield b"a" * 65536
        yield b'"}'

    assert_error(client.post("/v1/ask", content=chunks(), headers=JSON), 413, "request_too_large")


def test_a_chunked_body_under_the_limit_is_answered(client: TestClient) -> None:
    def chunks():
        yield '{"question": "异地'.encode()
        yield '就医备案"}'.encode()

    response = client.post("/v1/ask", content=chunks(), headers=JSON)
    assert response.status_code == 200, response.text
    assert response.json()["hits"]


def test_errors_do_not_echo_the_input(client: TestClient, kb_dir: Path) -> None:
    bodies = [
        {"question": MARKER * 1000},
        {"question": "社保", "top_k": MARKER},
        {"question": "社保", "mode": MARKER},
        {"question": "社保", "filters": {"statuses": [MARKER]}},
        {"question": "社保", "filters": {MARKER: True}},
        {"question": "社保", MARKER: 1},
        {MARKER: "社保"},
    ]
    responses = [client.post("/v1/ask", json=body) for body in bodies]
    responses += [
        client.post("/v1/ask", content=b'{"question": "' + MARKER.encode() + b'\xff"}', headers=JSON),
        client.post("/v1/ask", content=b'{"question": "' + MARKER.encode(), headers=JSON),
        client.get(f"/v1/documents/{MARKER}"),
        client.get(f"/v1/segments/{MARKER}%23a1"),
        client.get(f"/v1/documents?limit={MARKER}"),
        client.get(f"/v1/{MARKER}"),
    ]
    for response in responses:
        assert 400 <= response.status_code < 500, response.text
        assert response.json()["error"]["code"]
        assert MARKER not in response.text
        assert str(kb_dir) not in response.text
    masked = responses[5].json()["error"]["details"][0]["loc"]
    assert masked == ["body", "<unknown>"]


def test_unknown_routes_and_methods_are_json_errors(client: TestClient) -> None:
    assert_error(client.get("/v1/nothing-here"), 404, "not_found")
    assert_error(client.get("/v1/ask"), 405, "method_not_allowed")
    assert_error(client.delete("/v1/documents"), 405, "method_not_allowed")
    assert_error(client.post("/healthz", json={}), 405, "method_not_allowed")


def test_an_unexpected_exception_is_a_generic_500_logged_once(
        client: TestClient, kb_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    secret = f"boom in {kb_dir}/kb.sqlite: SELECT * FROM segments WHERE x = '{MARKER}'"

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError(secret)

    monkeypatch.setattr(client.app.state.kb, "search", explode)
    with caplog.at_level(logging.ERROR, logger="service.errors"):
        response = client.post("/v1/ask", json={"question": "社保"})
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": MESSAGES["internal_error"]}}
    for leak in (MARKER, str(kb_dir), "SELECT", "RuntimeError", "Traceback"):
        assert leak not in response.text
    records = [r for r in caplog.records if r.name == "service.errors"]
    assert len(records) == 1
    assert records[0].exc_info is not None and "POST /v1/ask" in records[0].getMessage()
    assert MARKER not in records[0].getMessage()
