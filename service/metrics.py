"""``GET /metrics`` in Prometheus' text format, through the maintained client library.

What an operator watches: requests by route and status, their latency, the index generation
being served and its size, whether search is degraded, and how many callers were turned away
by the budgets (429) or the in-flight limit (503). Routes are labelled by their template
(``/v1/documents/{doc_id:path}``), never by the raw path, so a scan of random URLs cannot
multiply the series (unmatched paths share one label). Each app has its own registry, so two
apps in one process (tests) do not count into each other.

Scraping needs a key with ``analytics:read`` (``Authorization: Bearer KEY``, which Prometheus
sends with ``authorization: {credentials: KEY}``): the volume of questions a site gets is not
for everyone.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.auth import require

UNMATCHED = "unmatched"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The service's series, in one registry per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("policykb_http_requests", "HTTP requests answered, by route, method and status",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("policykb_http_request_duration_seconds", "Time to answer, by route",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.refused = Counter("policykb_refused_requests", "Requests turned away: rate_limited (429) or "
                               "overloaded (503)", ["reason"], registry=self.registry)
        self.generation = Gauge("policykb_index_generation_info", "The index generation being served (value 1)",
                                ["generation"], registry=self.registry)
        self.segments = Gauge("policykb_index_segments", "Passages in the generation being served",
                              registry=self.registry)
        self.documents = Gauge("policykb_index_documents", "Documents in the generation being served",
                               registry=self.registry)
        self.degraded = Gauge("policykb_degraded", "1 while search runs degraded (e.g. BM25 only)",
                              registry=self.registry)
        self._generation: str | None = None

    def observe_index(self, generation: str | None, manifest: dict[str, Any] | None, degraded: str | None) -> None:
        """Set the index series from what is being served now."""
        if generation != self._generation:
            if self._generation is not None:
                self.generation.remove(self._generation)
            if generation is not None:
                self.generation.labels(generation).set(1)
            self._generation = generation
        counts = (manifest or {}).get("counts") or {}
        self.segments.set(counts.get("segments", 0))
        self.documents.set(counts.get("documents", 0))
        self.degraded.set(1 if degraded else 0)


class MetricsMiddleware:
    """Count every HTTP request and time it, labelled by the route that answered."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
            if status == 429:
                self.metrics.refused.labels("rate_limited").inc()
            elif status == 503 and route == UNMATCHED:
                self.metrics.refused.labels("overloaded").inc()


def install_metrics(app: FastAPI, served: Any) -> Metrics:
    """Add ``/metrics`` and the counting middleware; ``served(app)`` tells the index being served
    as (generation, manifest, degraded) without waiting on a search."""
    metrics = Metrics()
    router = APIRouter(include_in_schema=True)

    @router.get("/metrics", tags=["operations"], summary="Prometheus metrics",
                dependencies=[require("analytics:read")], response_class=Response)
    async def metrics_route(request: Request) -> Response:
        metrics.observe_index(*served(request.app))
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.state.metrics = metrics
    return metrics
