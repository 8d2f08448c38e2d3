"""``/docs`` from files the service serves itself, so the API explorer works offline.

FastAPI's default ``/docs`` page loads Swagger UI from a CDN and starts it with an inline
script: offline it is blank, and under a strict Content-Security-Policy it could not start.
Here Swagger UI comes from the ``fastapi-offline`` package (Swagger UI 5's release files,
shipped in its wheel; version 4 cannot read the OpenAPI 3.1 that FastAPI writes) and is
started by ``static/docs/docs.js``, a file of our own, so the page runs under the same policy
as the other pages. Only the package's files are used, not its app class, whose page starts
Swagger UI with an inline script.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from service.headers import page_policy

DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>policykb API</title>
<link rel="icon" href="/static/swagger-ui/favicon.png" type="image/png">
<link rel="stylesheet" href="/static/swagger-ui/swagger-ui.css">
<script src="/static/swagger-ui/swagger-ui-bundle.js" defer></script>
<script src="/static/docs/docs.js" defer></script>
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` (Swagger UI over ``/openapi.json``) and its assets from this process."""
    app.mount("/static/swagger-ui", StaticFiles(packages=[("fastapi_offline", "static")]), name="static-swagger-ui")
    app.mount("/static/docs", StaticFiles(packages=[("service", "static/docs")]), name="static-docs")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE, headers={"Content-Security-Policy": page_policy(),
                                                "Cache-Control": "no-cache"})
