"""``/docs`` works offline: Swagger UI comes from the service itself, under the strict policy."""

from __future__ import annotations

from typing import Any

from tests.pages.conftest import shot


def test_the_api_docs_render_from_local_files_only(page: Any) -> None:
    page.goto("/docs")
    title = page.locator(".swagger-ui .info .title")
    title.wait_for()
    assert title.inner_text().startswith("policykb")
    page.locator(".opblock-summary-path", has_text="/v1/ask").first.wait_for()
    shot(page, "docs")
    # The page fixture fails the test on any request outside the service or any CSP violation.
