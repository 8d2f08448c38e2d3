"""The analyst view in a real browser, over questions and feedback that reached the service:
it asks for an analytics key first, renders under the strict policy, and a question nobody
could answer shows as a gap."""

from __future__ import annotations

import json
import secrets
from typing import Any

from service.keys import KeyRing

from tests.pages.conftest import Server, http, shot, wait_until


def test_the_analytics_page_shows_questions_feedback_and_gaps(page: Any, server: Server) -> None:
    for question in ("周末去哪里看电影好", "周末去哪看电影", "政务公开目录在哪里公开"):
        status, _, body = http(f"{server.base}/v1/ask", data={"question": question, "channel": "widget"})
        assert status == 200
    status, _, _ = http(f"{server.base}/v1/feedback",
                        data={"query_id": json.loads(body)["query_id"], "verdict": "helpful"})
    assert status == 201
    page.goto("/analytics")
    # without a key the page shows nothing of the log and asks for one
    wait_until(page, "!document.getElementById('key-form').hidden")
    assert page.locator("#summary dt").count() == 0
    key = KeyRing.beside(server.kb_dir).create(f"analyst-{secrets.token_hex(4)}", "analytics:read")
    page.locator("#key").fill(key)
    page.locator("#key-form button").click()
    wait_until(page, "document.querySelectorAll('#summary dt').length > 0")
    # the form is hidden once the whole view (the log too, loaded after the summary) has loaded
    wait_until(page, "document.getElementById('key-form').hidden")
    assert page.locator("#key-form").is_hidden()
    wait_until(page, "[...document.querySelectorAll('#gaps tbody tr')].some((row) => row.textContent.includes('电影'))")
    shot(page, "analytics", full_page=True)
