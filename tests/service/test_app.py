"""The app as a whole: start-up, readiness, index generations, OpenAPI, CORS, architecture."""

from __future__ import annotations

import ast
import inspect
import json
import shutil
import sys
import time
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from kb import Document, KnowledgeBase, KnowledgeBaseNotFound, Segment
from service import ServiceSettings, create_app
from service.routes import router

SERVICE = Path(__file__).resolve().parents[2] / "service"
ROUTES = {("/v1/ask", "post"), ("/v1/documents", "get"), ("/v1/documents/{doc_id}", "get"),
          ("/v1/segments/{segment_id}", "get"), ("/healthz", "get"), ("/readyz", "get")}
#: The feedback and analytics routes (service.feedback_routes, service.analytics).
ACTIVITY_ROUTES = {("/v1/feedback", "post"), *((f"/v1/analytics/{name}", "get") for name in (
    "summary", "queries", "gaps", "documents", "outdated", "feedback"))}
#: The administration routes (service.admin_routes).
ADMIN_ROUTES = {("/v1/documents", "post"), ("/v1/documents/{doc_id}", "delete"), ("/v1/admin/rebuild", "post"),
                ("/v1/jobs/{job_id}", "get")}


def test_readyz_reports_counts_and_generation(client: TestClient, documents: list[Document]) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    health = response.json()
    assert health == {"status": "ok", "documents": len(documents),
                      "segments": sum(len(d.segments) for d in documents),
                      "generation": health["generation"]}
    assert health["generation"].startswith("generation-")


def test_healthz_says_alive_and_what_is_loaded_without_waiting_on_a_search(
        client: TestClient, documents: list[Document]) -> None:
    ready = client.get("/readyz").json()
    state = client.app.state.kb
    with state.lock:  # a search holds the lock: liveness still answers
        alive = client.get("/healthz")
    assert alive.status_code == 200
    assert alive.json() == {"status": "ok", "ready": True, "generation": ready["generation"],
                            "documents": len(documents), "segments": ready["segments"], "degraded": None}


def test_create_app_returns_independent_apps(settings: ServiceSettings) -> None:
    first, second = create_app(settings), create_app(settings)
    assert isinstance(first, FastAPI) and first is not second
    assert first.state.settings is settings


def test_an_unbuilt_knowledge_base_answers_503_until_built(unbuilt_kb_dir: Path) -> None:
    with TestClient(create_app(ServiceSettings(kb_dir=unbuilt_kb_dir))) as client:
        alive = client.get("/healthz")
        assert alive.status_code == 200 and alive.json()["ready"] is False and alive.json()["generation"] is None
        health = client.get("/readyz")
        assert health.status_code == 503
        assert health.json()["error"]["code"] == "index_not_built"
        asked = client.post("/v1/ask", json={"question": "社会保险"})
        assert asked.status_code == 503
        assert asked.json()["error"]["code"] == "index_not_built"
        assert str(unbuilt_kb_dir) not in asked.text + health.text
        # Documents are readable from SQLite alone.
        assert client.get("/v1/documents").json()["total"] == 2
        # Once an index is built (by another process, e.g. `policykb build`), it is served.
        builder = KnowledgeBase(unbuilt_kb_dir)
        try:
            builder.build()
        finally:
            builder.close()
        assert client.get("/readyz").status_code == 200
        assert client.post("/v1/ask", json={"question": "社会保险"}).json()["hits"]
        assert client.get("/healthz").json()["ready"] is True


def test_a_damaged_index_answers_503_without_details(kb_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "damaged"
    shutil.copytree(kb_dir, copy)
    generation = (copy / "index" / "CURRENT").read_text().strip()
    manifest = json.loads((copy / "index" / generation / "manifest.json").read_text())
    damaged = copy / "index" / generation / min(manifest["files"])
    damaged.write_bytes(b"not the file the manifest describes")
    with TestClient(create_app(ServiceSettings(kb_dir=copy))) as client:
        assert client.get("/healthz").json()["ready"] is False
        for response in (client.get("/readyz"), client.post("/v1/ask", json={"question": "政务公开"})):
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "index_unavailable"
            assert str(copy) not in response.text and damaged.name not in response.text


def test_a_missing_knowledge_base_fails_start_up(tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    with pytest.raises(KnowledgeBaseNotFound), TestClient(create_app(ServiceSettings(kb_dir=absent))):
        pass
    assert not absent.exists()


def test_a_new_generation_is_served_without_restart(kb_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "growing"
    shutil.copytree(kb_dir, copy)
    with TestClient(create_app(ServiceSettings(kb_dir=copy))) as client:
        before = client.post("/v1/ask", json={"question": "垃圾分类投放"})
        assert all(hit["doc_id"] != "changshu-2023-laji-fenlei" for hit in before.json()["hits"])
        text = "常熟市生活垃圾分类管理办法\n\n居民应当将生活垃圾分类投放至相应收集容器。"
        start = text.index("居民")
        writer = KnowledgeBase(copy)
        try:
            writer.add_documents([Document(
                doc_id="changshu-2023-laji-fenlei", title="常熟市生活垃圾分类管理办法", text=text,
                segments=(Segment("a3", "第三条", ("第三条",), start, len(text), text[start:]),))])
            writer.build()
        finally:
            writer.close()
        # The new generation is loaded beside the served one, then swapped in: within moments.
        deadline = time.monotonic() + 30
        while (after := client.post("/v1/ask", json={"question": "垃圾分类投放"})).headers["X-Index-Generation"] \
                == before.headers["X-Index-Generation"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert after.headers["X-Index-Generation"] != before.headers["X-Index-Generation"]
        assert after.json()["hits"][0]["segment_id"] == "changshu-2023-laji-fenlei#a3"
        assert client.get("/healthz").json()["generation"] == after.headers["X-Index-Generation"]


def test_openapi_lists_every_route_with_the_error_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    listed = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert listed == ROUTES | ACTIVITY_ROUTES | ADMIN_ROUTES | {("/metrics", "get")}
    ask = spec["paths"]["/v1/ask"]["post"]
    for status in ("400", "413", "415", "422", "503"):
        schema = ask["responses"][status]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/ErrorResponse"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    request = spec["components"]["schemas"]["AskRequest"]
    assert request["required"] == ["question"]
    assert request["properties"]["top_k"]["maximum"] == 100
    assert "X-Index-Generation" in ask["responses"]["200"]["headers"]


def test_docs_page_is_served(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower() and "/openapi.json" in response.text


def test_docs_can_be_turned_off(settings: ServiceSettings) -> None:
    client = TestClient(create_app(settings.with_changes(docs=False)))  # no lifespan needed
    assert client.get("/docs").status_code == 404
    assert client.get("/openapi.json").json()["error"]["code"] == "not_found"


def test_cors_allows_only_the_configured_origin(settings: ServiceSettings) -> None:
    allowed = "https://www.changshu.gov.cn"
    with TestClient(create_app(settings.with_changes(cors_origins=(allowed,)))) as client:
        good = client.post("/v1/ask", json={"question": "政务公开"}, headers={"Origin": allowed})
        assert good.headers["access-control-allow-origin"] == allowed
        assert "x-index-generation" in good.headers["access-control-expose-headers"].lower()
        assert "access-control-allow-credentials" not in good.headers
        other = client.post("/v1/ask", json={"question": "政务公开"}, headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        error = client.post("/v1/ask", json={"question": ""}, headers={"Origin": allowed})
        assert error.status_code == 422 and error.headers["access-control-allow-origin"] == allowed
        preflight = client.options("/v1/ask", headers={"Origin": allowed, "Access-Control-Request-Method": "POST",
                                                       "Access-Control-Request-Headers": "content-type"})
        assert preflight.status_code == 200


def test_no_cors_headers_by_default(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": "政务公开"}, headers={"Origin": "https://x.example"})
    assert "access-control-allow-origin" not in response.headers


def _service_modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(SERVICE.glob("*.py"))]


def test_service_imports_only_kb_exports_and_its_web_stack() -> None:
    allowed = {"kb", "service", "fastapi", "pydantic", "starlette", "uvicorn", "h11", "prometheus_client",
               "__future__"}
    for path, tree in _service_modules():
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top in allowed or top in sys.stdlib_module_names, f"{path.name} imports {name}"
                if top == "kb":
                    assert name == "kb", f"{path.name} imports {name}; only kb's exports are allowed"


def test_only_the_settings_read_the_environment() -> None:
    for path, tree in _service_modules():
        reads = [node for node in ast.walk(tree)
                 if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv", "environb"}]
        assert not reads or path.name == "settings.py", f"{path.name} reads the environment"


def test_no_module_global_app() -> None:
    for path, tree in _service_modules():
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
                func = node.value.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                assert name not in {"FastAPI", "create_app"}, f"{path.name} builds an app at import"


def test_routes_are_sync_so_search_runs_in_the_thread_pool() -> None:
    routes = [route for route in router.routes if isinstance(route, APIRoute)]
    assert {(route.path_format, next(iter(route.methods)).lower()) for route in routes} == ROUTES
    for route in routes:
        # /healthz only reads what is loaded (no search, no lock, no disk): async, so a liveness
        # probe never queues behind searches for a thread
        assert inspect.iscoroutinefunction(route.endpoint) == (route.path == "/healthz"), route.path


def test_an_app_served_without_its_lifespan_answers_503(settings: ServiceSettings) -> None:
    client = TestClient(create_app(settings))  # not entered: the knowledge base is never opened
    response = client.post("/v1/ask", json={"question": "政务公开"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "kb_unavailable"
