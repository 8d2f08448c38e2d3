"""/metrics: requests by route template and status, latency, the index served, refusals."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from service import ServiceSettings, create_app
from service.keys import KeyRing
from tests.service.test_feedback import copy_kb


def test_metrics_count_routes_by_template_and_tell_the_index_served(kb_dir: Path, tmp_path: Path) -> None:
    own = copy_kb(kb_dir, tmp_path / "kb")
    key = KeyRing.beside(own).create("prometheus", "analytics:read")
    with TestClient(create_app(ServiceSettings(kb_dir=own, rate_limit=2)), raise_server_exceptions=False) as client:
        generation = client.get("/readyz").json()["generation"]
        for _ in range(3):  # the third is over the budget
            client.post("/v1/ask", json={"question": "领取失业保险金期间能享受医疗保险待遇吗"})
        client.get("/v1/documents/no-such-document")
        client.get("/wp-admin/secret-scan-path")
        assert client.get("/metrics").status_code == 401
        response = client.get("/metrics", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'policykb_http_requests_total{method="POST",route="/v1/ask",status="200"} 2.0' in text
    assert 'policykb_http_requests_total{method="POST",route="/v1/ask",status="429"} 1.0' in text
    assert 'route="/v1/documents/{doc_id:path}",status="404"' in text
    assert 'route="unmatched",status="404"' in text and "secret-scan-path" not in text  # no raw paths
    assert 'policykb_refused_requests_total{reason="rate_limited"} 1.0' in text
    assert 'policykb_http_request_duration_seconds_bucket{le="0.5",route="/v1/ask"}' in text
    assert f'policykb_index_generation_info{{generation="{generation}"}} 1.0' in text
    assert "policykb_index_segments " in text and "policykb_degraded 0.0" in text
