"""The application factory and the server entry point.

``create_app(settings)`` builds a fresh app each call (no module-global app, so tests and
the CLI each get their own, configured explicitly). The knowledge base is opened once, in
the lifespan, and its index loaded before the first request is accepted: a half-loaded
index is never served, and the first question does not pay for loading the model.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from kb import (
    BackendUnavailable,
    EmbeddingModelError,
    IndexMismatch,
    IndexNotBuilt,
    KnowledgeBase,
    answer_on_one_blas_thread,
)
from service.access import SerializedKB
from service.access_log import install_on as install_access_log_filter
from service.activity import ActivityLog
from service.admin_routes import install_admin
from service.analytics import install_analytics
from service.auth import PublicLimits, install_auth
from service.apidocs import install_docs
from service.errors import install_error_handlers
from service.feedback_routes import install_feedback
from service.headers import SecurityHeaders
from service.jobs import BuildRunner
from service.keys import KeyRing
from service.limits import InFlightLimit, RequestBodyLimit
from service.metrics import install_metrics
from service.pages import install_pages
from service.protocol import guarded_protocol
from service.ratelimit import parse_networks
from service.routes import GENERATION_HEADER, router
from service.settings import ServiceSettings
from service.uploads import Ingest, UploadDesk

log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return metadata.version("policykb")
    except metadata.PackageNotFoundError:
        return "0"


def create_app(settings: ServiceSettings, *, ingest: Ingest | None = None) -> FastAPI:
    """A FastAPI app serving the knowledge base in ``settings.kb_dir``.

    ``ingest`` reads an uploaded file into the knowledge base (``policykb serve`` passes
    ``policykb.uploads.ingest_upload``; the service may not import ``ingest`` itself); without
    it ``POST /v1/documents`` answers 503 ``uploads_unavailable``.

    Opening happens when the app starts (``with TestClient(app)`` or uvicorn), not here, so
    building an app is cheap. A missing knowledge base fails start-up with
    ``kb.KnowledgeBaseNotFound``; a knowledge base without a usable index starts anyway and
    answers 503 until one is built (``/healthz`` tells a load balancer when it is ready).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        answer_on_one_blas_thread()  # small products; a busy core stalls multi-threaded BLAS (kb.threads)
        kb = SerializedKB(KnowledgeBase(settings.kb_dir, follow_current=False))  # see SerializedKB.follow
        activity = ActivityLog.beside(settings.kb_dir, retention_days=settings.retention_days)
        try:
            try:
                generation = kb.warm_up()
                log.info("serving %s, index %s", settings.kb_dir, generation)
            except (IndexNotBuilt, IndexMismatch, EmbeddingModelError) as error:
                log.warning("no servable index yet (%s); answering 503 until one is built", error)
            except BackendUnavailable as error:  # a replica may start before its Milvus is back
                log.warning("%s; answering 503 until it answers", error)
            activity.available()  # opened now so a problem shows at start-up; answers never wait on it
            app.state.kb = kb
            app.state.activity = activity
            app.state.builds = BuildRunner(settings.kb_dir, kb)
            if ingest is not None:
                app.state.uploads = UploadDesk(settings.kb_dir, ingest,
                                               max_file_bytes=min(settings.max_upload_file_bytes,
                                                                  settings.max_upload_bytes))
            yield
        finally:
            if (builds := getattr(app.state, "builds", None)) is not None:
                builds.close()
            if (uploads := getattr(app.state, "uploads", None)) is not None:
                uploads.close()
            activity.close()
            kb.close()

    app = FastAPI(
        title="policykb",
        summary="Chinese policy-document question answering with cited passages.",
        version=_version(),
        lifespan=lifespan,
        docs_url=None,  # served by service.apidocs from local files, not from a CDN
        openapi_url="/openapi.json" if settings.docs else None,
        redoc_url=None,
    )
    app.state.settings = settings
    install_auth(app, KeyRing.beside(settings.kb_dir),
                 PublicLimits(settings.rate_limit, settings.key_rate_limit, parse_networks(settings.trusted_proxies),
                              settings.admin_rate_limit))
    app.include_router(router)
    install_feedback(app)
    install_analytics(app)
    install_admin(app)
    install_pages(app, settings)
    if settings.docs:
        install_docs(app)
    install_error_handlers(app)
    app.add_middleware(RequestBodyLimit, max_body_bytes=settings.max_body_bytes,
                       larger={("POST", "/v1/documents"): settings.max_upload_bytes})
    app.add_middleware(InFlightLimit, limit=settings.limit_concurrency)
    install_metrics(app, _served)  # outside the in-flight limit, so its refusals are counted
    app.add_middleware(SecurityHeaders)
    if settings.cors_origins:
        # Added last, so it is outermost: error responses carry CORS headers too.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type"],
            expose_headers=[GENERATION_HEADER],
            allow_credentials=False,
        )
    return app


def _served(app: FastAPI) -> tuple[str | None, dict | None, str | None]:
    """What the app serves now, for ``/metrics`` (Nones before the lifespan opened the KB)."""
    kb: SerializedKB | None = getattr(app.state, "kb", None)
    return kb.served() if kb is not None else (None, None, None)


def serve(settings: ServiceSettings, *, ingest: Ingest | None = None, workers: int = 1,
          app_factory: str | None = None) -> None:
    """Run the service with uvicorn on ``settings.host``:``settings.port`` until stopped.

    The knowledge base is checked before uvicorn starts, so a wrong ``kb_dir`` raises
    ``kb.KnowledgeBaseNotFound`` here (one clean line at the CLI) instead of a start-up
    traceback from inside the server.

    With ``workers`` > 1, uvicorn starts that many processes on one socket, each building its
    app by calling ``app_factory`` (an import string such as ``"policykb.served:app"``, whose
    function returns :func:`app_for_worker`'s app): processes start afresh, so each reads its
    settings from the ``POLICYKB_*`` environment, which the caller must hold the same settings.
    Each process loads the index and keeps its own rate-limit buckets and jobs.
    """
    KnowledgeBase(settings.kb_dir).close()
    options: dict[str, Any] = dict(
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        http=guarded_protocol(settings.request_head_seconds),  # head deadlines, JSON for bad requests
        limit_concurrency=None,  # counted idle connections; service.limits.InFlightLimit counts requests
        timeout_keep_alive=5,
        server_header=False,
    )
    if workers > 1:
        if app_factory is None:
            raise ValueError("several workers need app_factory, the import string of a function returning the app")
        uvicorn.run(app_factory, factory=True, workers=workers, **options)  # each worker filters its access log
        return
    config = uvicorn.Config(create_app(settings, ingest=ingest), **options)
    install_access_log_filter()  # uvicorn configured its loggers in Config(): filter them now
    uvicorn.Server(config).run()


def app_for_worker(*, ingest: Ingest | None = None) -> FastAPI:
    """The app of one worker process of ``serve(workers=N)``: settings from the environment.

    Called in the worker after uvicorn configured its logging there, so the access-log filter
    is installed here too.
    """
    install_access_log_filter()
    return create_app(ServiceSettings.from_env(), ingest=ingest)
