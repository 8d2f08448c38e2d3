"""Keys and scopes on every route: no key, a key without the scope, a key with it.

The public door (asking, feedback) is open to anonymous callers; a key sent there must still
be valid and hold the scope. The analyst view needs ``analytics:read``: its query log is
about citizens, even masked. Keys travel only as ``Authorization: Bearer KEY``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from policykb.cli import cli
from policykb.uploads import ingest_upload
from service import ServiceSettings, create_app
from service.keys import KeyRing
from tests.service.conftest import SOCIAL_A54
from tests.service.test_feedback import copy_kb

ANALYTICS = ["summary", "queries", "gaps", "documents", "outdated", "feedback"]
#: Everything an analyst's key reads (the analyst view and the operator's metrics).
ANALYST_READS = [*(f"/v1/analytics/{p}" for p in ANALYTICS), "/metrics"]
#: Routes anyone may read: public policy documents, health, the pages.
PUBLIC_READS = ["/v1/documents", f"/v1/documents/{SOCIAL_A54.split('#')[0]}", "/v1/segments/" + SOCIAL_A54.replace("#", "%23"),
                "/healthz", "/readyz", "/", "/widget-demo", "/analytics"]


@pytest.fixture(scope="module")
def keyed(kb_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    own = copy_kb(kb_dir, tmp_path_factory.mktemp("auth") / "kb")
    ring = KeyRing.beside(own)
    keys = {scope: ring.create(scope.replace(":", "-"), scope)
            for scope in ("ask", "feedback", "analytics:read", "documents:write", "admin")}
    keys["revoked"] = ring.create("revoked", "ask,feedback,analytics:read")
    assert ring.revoke("revoked")
    with TestClient(create_app(ServiceSettings(kb_dir=own), ingest=ingest_upload),
                    raise_server_exceptions=False) as client:
        yield client, keys


def all_routes(routes: list) -> Iterator:
    """Every route, those of included routers too (FastAPI keeps an included router whole, so
    ``app.routes`` alone does not list its routes)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from all_routes(included.routes) if included is not None else [route]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def ask(client: TestClient, headers: dict[str, str] | None = None):
    return client.post("/v1/ask", json={"question": "领取失业保险金期间能享受医疗保险待遇吗"}, headers=headers or {})


def test_asking_is_open_to_anonymous_callers_and_checked_for_keys(keyed) -> None:
    client, keys = keyed
    assert ask(client).status_code == 200
    assert ask(client, bearer(keys["ask"])).status_code == 200
    assert ask(client, bearer(keys["admin"])).status_code == 200
    refused = ask(client, bearer(keys["analytics:read"]))
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    for bad in (bearer(keys["revoked"]), bearer("pkb_" + "x" * 43), {"Authorization": "Basic abc"},
                {"Authorization": "Bearer"}):
        response = ask(client, bad)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


def test_feedback_is_open_to_anonymous_callers_and_checked_for_keys(keyed) -> None:
    client, keys = keyed
    query_id = ask(client).json()["query_id"]

    def give(headers: dict[str, str] | None = None) -> int:
        return client.post("/v1/feedback", json={"query_id": query_id, "verdict": "helpful"},
                           headers=headers or {}).status_code

    assert (give(), give(bearer(keys["feedback"])), give(bearer(keys["admin"]))) == (201, 201, 201)
    assert give(bearer(keys["ask"])) == 403
    assert give(bearer(keys["revoked"])) == 401


@pytest.mark.parametrize("url", ANALYST_READS)
def test_the_analyst_view_needs_analytics_read(keyed, url: str) -> None:
    client, keys = keyed
    none = client.get(url)
    assert none.status_code == 401 and none.json()["error"]["code"] == "unauthorized"
    assert "question" not in none.text
    assert client.get(url, headers=bearer(keys["ask"])).status_code == 403
    assert client.get(url, headers=bearer(keys["revoked"])).status_code == 401
    assert client.get(url, params={"key": keys["analytics:read"]}).status_code == 401  # never from the URL
    assert client.get(url, headers=bearer(keys["analytics:read"])).status_code == 200
    assert client.get(url, headers=bearer(keys["admin"])).status_code == 200


@pytest.mark.parametrize("path", PUBLIC_READS)
def test_public_reads_need_no_key(keyed, path: str) -> None:
    client, keys = keyed
    assert client.get(path).status_code == 200
    assert client.get(path, headers=bearer(keys["analytics:read"])).status_code == 200


def test_every_route_is_classified_here(keyed) -> None:
    """A new route must take a side in this file: public, public door or keyed."""
    client, _ = keyed
    classified = {"/v1/ask", "/v1/feedback", *(f"/v1/analytics/{p}" for p in ANALYTICS), "/v1/documents",
                  "/v1/documents/{doc_id:path}", "/v1/segments/{segment_id:path}", "/healthz", "/readyz", "/metrics", "/", "/widget-demo",
                  "/analytics", "/passage", "/widget.js", "/widget/frame", "/docs", "/openapi.json",
                  "/v1/admin/rebuild", "/v1/jobs/{job_id}"}
    paths = {getattr(route, "path", "") for route in all_routes(client.app.routes)}
    unknown = {p for p in paths if p and not p.startswith("/static") and p not in classified}
    assert unknown == set()


def test_keys_are_created_listed_and_revoked_from_the_cli(kb_dir: Path, tmp_path: Path) -> None:
    own = copy_kb(kb_dir, tmp_path / "kb")
    created = CliRunner().invoke(cli, ["keys", "create", "--kb", str(own), "--name", "analyst-wang",
                                       "--scopes", "analytics:read"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[0]
    assert key.startswith("pkb_") and len(key) > 40
    assert key not in (own / "keys.sqlite").read_bytes().decode("latin-1")  # only its hash is stored
    listing = CliRunner().invoke(cli, ["keys", "list", "--kb", str(own)])
    assert "analyst-wang\tanalytics:read" in listing.output and key not in listing.output
    again = CliRunner().invoke(cli, ["keys", "create", "--kb", str(own), "--name", "analyst-wang", "--scopes", "ask"])
    assert again.exit_code == 1 and "exists already" in again.output
    bad = CliRunner().invoke(cli, ["keys", "create", "--kb", str(own), "--name", "x", "--scopes", "root"])
    assert bad.exit_code == 1 and "unknown scope 'root'" in bad.output
    with TestClient(create_app(ServiceSettings(kb_dir=own))) as client:
        assert client.get("/v1/analytics/summary", headers=bearer(key)).status_code == 200
        assert CliRunner().invoke(cli, ["keys", "revoke", "--kb", str(own), "analyst-wang"]).exit_code == 0
        assert client.get("/v1/analytics/summary", headers=bearer(key)).status_code == 401  # at once
    assert CliRunner().invoke(cli, ["keys", "revoke", "--kb", str(own), "analyst-wang"]).exit_code == 1


#: Every route that changes something, by method: the public door or a keyed route tested below.
PUBLIC_DOOR = {("POST", "/v1/ask"), ("POST", "/v1/feedback")}
ADMINISTRATION = {("POST", "/v1/documents"), ("DELETE", "/v1/documents/{doc_id:path}"),
                  ("POST", "/v1/admin/rebuild"), ("GET", "/v1/jobs/{job_id}")}


def test_every_writing_route_is_the_public_door_or_administration(keyed) -> None:
    """A path may be a public read for GET and keyed for another method: classify by method too."""
    client, _ = keyed
    writing = {(method, route.path) for route in all_routes(client.app.routes)
               for method in getattr(route, "methods", None) or () if method not in ("GET", "HEAD")}
    assert writing == (PUBLIC_DOOR | ADMINISTRATION) - {("GET", "/v1/jobs/{job_id}")}


def _upload(client: TestClient, headers: dict[str, str]):
    text = "常熟市社区养老服务通知\n\n一、社区为八十周岁以上老人提供助餐服务。\n"
    return client.post("/v1/documents", headers=headers, files={"files": ("养老服务.txt", text.encode())})


def test_uploads_and_deletes_need_documents_write(keyed) -> None:
    client, keys = keyed
    assert _upload(client, {}).status_code == 401
    assert _upload(client, bearer(keys["revoked"])).status_code == 401
    for scope in ("ask", "feedback", "analytics:read"):
        refused = _upload(client, bearer(keys[scope]))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    stored = _upload(client, bearer(keys["documents:write"]))
    assert stored.status_code == 202 and stored.json()["files"][0]["status"] == "stored"
    assert _upload(client, bearer(keys["admin"])).json()["files"][0]["status"] == "unchanged"
    path = "/v1/documents/养老服务"
    assert client.delete(path).status_code == 401
    assert client.delete(path, headers=bearer(keys["analytics:read"])).status_code == 403
    assert client.get(path).status_code == 200  # nothing deleted by the refusals
    assert client.delete(path, headers=bearer(keys["documents:write"])).status_code == 202
    assert client.delete(path, headers=bearer(keys["admin"])).status_code == 404


def test_rebuilds_need_admin_and_jobs_documents_write(keyed) -> None:
    client, keys = keyed
    assert client.post("/v1/admin/rebuild").status_code == 401
    for scope in ("ask", "analytics:read", "documents:write"):
        refused = client.post("/v1/admin/rebuild", headers=bearer(keys[scope]))
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    started = client.post("/v1/admin/rebuild", headers=bearer(keys["admin"]))
    assert started.status_code == 202 and started.headers["location"] == f"/v1/jobs/{started.json()['id']}"
    path = started.headers["location"]
    assert client.get(path).status_code == 401
    assert client.get(path, headers=bearer(keys["ask"])).status_code == 403
    assert client.get(path, headers=bearer(keys["analytics:read"])).status_code == 403
    assert client.get(path, headers=bearer(keys["documents:write"])).json()["id"] == started.json()["id"]
    assert client.get(path, headers=bearer(keys["admin"])).status_code == 200
