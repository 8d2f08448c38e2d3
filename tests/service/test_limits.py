"""Requests in flight are bounded; beyond the bound a JSON 503 with Retry-After, never for /healthz."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx

from service.limits import InFlightLimit


def run(coroutine_function):
    """Run a scenario on its own event loop in its own thread: another test's loop (the browser
    tests' Playwright) may still be running on this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_function())).result()


def _slow_app(release: asyncio.Event):
    async def app(scope, receive, send) -> None:
        if scope["path"] != "/healthz":
            await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
    return app


def test_requests_beyond_the_limit_are_told_to_retry_and_health_is_always_answered() -> None:
    async def scenario() -> None:
        release = asyncio.Event()
        limited = InFlightLimit(_slow_app(release), limit=2)
        transport = httpx.ASGITransport(app=limited)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            held = [asyncio.create_task(client.get("/v1/ask")) for _ in range(2)]
            await asyncio.sleep(0.05)
            refused = await client.get("/v1/ask")
            health = await client.get("/healthz")
            release.set()
            answered = await asyncio.gather(*held)
            after = await client.get("/v1/ask")
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert refused.json()["error"]["code"] == "overloaded"
        assert health.status_code == 200
        assert [r.status_code for r in answered] == [200, 200] and after.status_code == 200
        assert limited.in_flight == 0

    run(scenario)


def test_no_limit_means_none() -> None:
    async def scenario() -> list[int]:
        release = asyncio.Event()
        release.set()
        transport = httpx.ASGITransport(app=InFlightLimit(_slow_app(release), limit=None))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return [r.status_code for r in await asyncio.gather(*(client.get("/x") for _ in range(20)))]

    assert run(scenario) == [200] * 20
