"""The analyst view in a real browser, over questions and feedback that reached the service:
it renders under the strict policy, and a question nobody could answer shows as a gap."""

from __future__ import annotations

import json
from typing import Any

from tests.pages.conftest import Server, http, shot, wait_until


def test_the_analytics_page_shows_questions_feedback_and_gaps(page: Any, server: Server) -> None:
    for question in ("周末去哪里看电影好", "周末去哪看电影", "政务公开目录在哪里公开"):
        status, _, body = http(f"{server.base}/v1/ask", data={"question": question, "channel": "widget"})
        assert status == 200
    status, _, _ = http(f"{server.base}/v1/feedback",
                        data={"query_id": json.loads(body)["query_id"], "verdict": "helpful"})
    assert status == 201
    page.goto("/analytics")
    wait_until(page, "document.querySelectorAll('#summary dt').length > 0")
    wait_until(page, "[...document.querySelectorAll('#gaps tbody tr')].some((row) => row.textContent.includes('电影'))")
    shot(page, "analytics", full_page=True)
