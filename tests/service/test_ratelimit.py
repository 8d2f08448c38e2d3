"""The public door's budgets: per client address (or per key), 429 with Retry-After beyond them."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service import ServiceSettings, create_app
from service.keys import KeyRing
from service.ratelimit import RateLimiter, client_address, parse_networks, retry_after
from tests.service.test_feedback import copy_kb

QUESTION = {"question": "领取失业保险金期间能享受医疗保险待遇吗"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_lets_a_burst_through_then_holds_to_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(60, clock=clock)
    assert [limiter.take("a") for _ in range(60)] == [0.0] * 60
    wait = limiter.take("a")
    assert wait == pytest.approx(1.0) and retry_after(wait) == "1"
    assert limiter.take("b") == 0.0  # another client has its own budget
    clock.now += 1.0
    assert limiter.take("a") == 0.0 and limiter.take("a") > 0
    clock.now += 3600
    assert [limiter.take("a") for _ in range(60)] == [0.0] * 60  # refilled, never beyond the budget
    assert limiter.take("a") > 0


def test_only_so_many_clients_are_remembered() -> None:
    limiter = RateLimiter(1, clock=Clock(), max_clients=3)
    for client in "abcd":
        limiter.take(client)
    assert limiter.take("a") == 0.0  # forgotten first, so counted afresh
    assert len(limiter._buckets) == 3


@pytest.mark.parametrize(("peer", "forwarded", "trusted", "expected"), [
    ("203.0.113.9", "1.2.3.4", [], "203.0.113.9"),                       # no proxy trusted: header ignored
    ("10.0.0.2", "1.2.3.4", ["10.0.0.0/8"], "1.2.3.4"),                  # a trusted proxy names the client
    ("10.0.0.2", "6.6.6.6, 1.2.3.4", ["10.0.0.0/8"], "1.2.3.4"),         # the caller's own entries prove nothing
    ("10.0.0.2", "1.2.3.4, 10.0.0.7", ["10.0.0.0/8"], "1.2.3.4"),        # proxies in a chain are skipped
    ("203.0.113.9", "1.2.3.4", ["10.0.0.0/8"], "203.0.113.9"),           # header from an untrusted peer
    ("10.0.0.2", "not-an-address", ["10.0.0.0/8"], "10.0.0.2"),
    ("10.0.0.2", "", ["10.0.0.0/8"], "10.0.0.2"),
])
def test_the_client_address_trusts_x_forwarded_for_only_from_listed_proxies(
        peer: str, forwarded: str, trusted: list[str], expected: str) -> None:
    assert client_address(peer, forwarded, parse_networks(trusted)) == expected


def test_a_bad_proxy_entry_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="'10.0.0.0/33'"):
        ServiceSettings(kb_dir=Path("x"), trusted_proxies=("10.0.0.0/33",))
    assert parse_networks(["::1"]) == (ipaddress.ip_network("::1"),)


def test_anonymous_callers_get_429_with_retry_after_and_keyed_callers_their_own_budget(
        kb_dir: Path, tmp_path: Path) -> None:
    own = copy_kb(kb_dir, tmp_path / "kb")
    key = KeyRing.beside(own).create("agent", "ask,feedback")
    settings = ServiceSettings(kb_dir=own, rate_limit=3, key_rate_limit=5)
    with TestClient(create_app(settings)) as client:
        statuses = [client.post("/v1/ask", json=QUESTION).status_code for _ in range(3)]
        refused = client.post("/v1/ask", json=QUESTION)
        assert statuses == [200, 200, 200] and refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limited" and int(refused.headers["retry-after"]) >= 1
        # another address claimed in X-Forwarded-For does not escape: no proxy is trusted
        assert client.post("/v1/ask", json=QUESTION, headers={"X-Forwarded-For": "1.2.3.4"}).status_code == 429
        keyed = [client.post("/v1/ask", json=QUESTION, headers={"Authorization": f"Bearer {key}"}).status_code
                 for _ in range(6)]
        assert keyed == [200] * 5 + [429]
        assert client.get("/healthz").status_code == 200  # only the public door is budgeted


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget(kb_dir: Path, tmp_path: Path) -> None:
    import httpx

    own = copy_kb(kb_dir, tmp_path / "kb")
    settings = ServiceSettings(kb_dir=own, rate_limit=1, trusted_proxies=("10.0.0.0/8",))
    app = create_app(settings)
    with TestClient(app):  # runs the lifespan; requests below come "from" the proxy 10.0.0.2
        transport = httpx.ASGITransport(app=app, client=("10.0.0.2", 4000))

        async def scenario() -> list[int]:
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as proxied:
                codes = []
                for forwarded in ("1.1.1.1", "2.2.2.2", "1.1.1.1"):
                    response = await proxied.post("/v1/ask", json=QUESTION, headers={"X-Forwarded-For": forwarded})
                    codes.append(response.status_code)
                return codes

        from tests.service.test_limits import run
        assert run(scenario) == [200, 200, 429]


def test_a_key_has_a_budget_for_changes_apart_from_its_questions(kb_dir: Path, tmp_path: Path) -> None:
    """Uploads, deletes and rebuilds each start long work: 30 a minute per key by default."""
    own = copy_kb(kb_dir, tmp_path / "kb")
    key = KeyRing.beside(own).create("admin", "admin")
    headers = {"Authorization": f"Bearer {key}"}
    assert ServiceSettings(kb_dir=own).admin_rate_limit == 30
    with TestClient(create_app(ServiceSettings(kb_dir=own, admin_rate_limit=2))) as client:
        deletes = [client.delete("/v1/documents/no-such-document", headers=headers).status_code for _ in range(3)]
        assert deletes == [404, 404, 429]
        refused = client.post("/v1/admin/rebuild", headers=headers)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["retry-after"]) >= 1
        assert client.post("/v1/ask", json=QUESTION, headers=headers).status_code == 200  # questions apart
