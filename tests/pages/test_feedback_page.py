"""Feedback given in the console is stored: the verdict, the comment (masked), the confirmed
passage, all under the answer's query id, as the activity log's API shows it."""

from __future__ import annotations

import json
import secrets
from typing import Any

from service.keys import KeyRing

from tests.pages.conftest import Server, http, wait_until
from tests.pages.test_console_page import search


def logged_query(server: Server, query_id: str) -> dict[str, Any]:
    key = KeyRing.beside(server.kb_dir).create(f"analyst-{secrets.token_hex(4)}", "analytics:read")
    status, _, body = http(f"{server.base}/v1/analytics/queries?channel=console&limit=500",
                           headers={"Authorization": f"Bearer {key}"})
    assert status == 200
    return next(query for query in json.loads(body)["queries"] if query["query_id"] == query_id)


def test_feedback_on_an_answer_and_a_passage_is_stored(page: Any, server: Server) -> None:
    search(page, "政务公开目录在哪里公开 我的电话13912345678")
    query_id = page.locator("#feedback").get_attribute("data-query-id")
    assert query_id
    page.locator("#fb-comment").fill("答得准确，联系人邮箱 someone@example.com")
    page.locator("#fb-helpful").click()
    wait_until(page, "document.getElementById('fb-state').textContent.includes('已记录')")
    first = page.locator("#hits .hit").first
    segment_id = first.get_attribute("data-segment-id")
    first.locator("button.correct").click()
    wait_until(page, "document.getElementById('fb-state').textContent.includes('正确段落')")
    assert "sent" in first.locator("button.correct").get_attribute("class")

    logged = logged_query(server, query_id)
    assert logged["channel"] == "console"
    assert "13912345678" not in logged["question"]
    verdicts = {item["verdict"]: item for item in logged["feedback"]}
    assert set(verdicts) == {"helpful", "correct_passage"}
    assert verdicts["correct_passage"]["segment_id"] == segment_id
    assert "someone@example.com" not in verdicts["helpful"]["comment"]
    assert verdicts["helpful"]["comment"].startswith("答得准确")
