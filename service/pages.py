"""The pages people open: the agent console, the passage page, the citizens' widget and its demo.

Everything a page needs is served from here, from files shipped inside the package
(``service/static/``, package data, so an installed wheel serves them too): no CDN, no web
font (the pages name system fonts such as Noto Sans CJK SC). The pages are plain files plus
ES modules that call the public JSON API; nothing is rendered on the server except two facts
put into ``<meta>`` tags (the default hotline number), escaped.

Each page carries its own Content-Security-Policy without ``'unsafe-inline'`` or
``'unsafe-eval'``: the scripts and styles are separate files, and the scripts build the page
with DOM nodes and ``textContent``, never HTML strings.

The widget is two parts. ``/widget.js`` runs on the host page (a government site): it adds a
button and, when opened, an iframe, both inside a shadow root so the host's CSS cannot reach
them. The conversation itself runs in that iframe, ``/widget/frame``, served from this origin
under this origin's strict policy; it asks ``/v1/ask`` as a same-origin request, so the host
page can neither read nor restyle the answers, and no CORS grant is needed for the widget.
Which sites may frame it is the CORS list (``ServiceSettings.cors_origins``).
"""

from __future__ import annotations

import html
from importlib import resources

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from service.headers import page_policy
from service.settings import ServiceSettings

STATIC_PACKAGE = "service"
#: Static folders served under /static/<name>, each a directory of service/static/.
STATIC_FOLDERS = ("console", "widget")
#: Pages may be cached but must be revalidated, so a new release is seen at once.
PAGE_CACHE = "no-cache"
WIDGET_SCRIPT_CACHE = "public, max-age=300"


def _static_text(*parts: str) -> str:
    return resources.files(STATIC_PACKAGE).joinpath("static", *parts).read_text(encoding="utf-8")


def _page(body: str, policy: str) -> HTMLResponse:
    return HTMLResponse(body, headers={"Content-Security-Policy": policy, "Cache-Control": PAGE_CACHE})


def pages_router(settings: ServiceSettings) -> APIRouter:
    """The page routes, with their files read once (they are part of the installed package)."""
    console = _static_text("console", "console.html")
    passage = _static_text("console", "passage.html")
    widget_script = _static_text("widget", "widget.js")
    demo = _static_text("widget", "demo.html")
    frame = _static_text("widget", "frame.html").replace("{{hotline}}", html.escape(settings.hotline, quote=True))
    frame_ancestors = ("*",) if "*" in settings.cors_origins else ("'self'", *settings.cors_origins)

    router = APIRouter(include_in_schema=False)

    @router.get("/")
    async def agent_console() -> HTMLResponse:
        """The agent console: search as you type, cite, open the document, give feedback."""
        return _page(console, page_policy())

    @router.get("/passage")
    async def passage_page() -> HTMLResponse:
        """One passage in its whole document (``/passage?segment=ID``), linked from the widget."""
        return _page(passage, page_policy())

    @router.get("/widget.js")
    async def widget_loader() -> Response:
        """The script a host page includes to get the chat button."""
        return Response(widget_script, media_type="text/javascript; charset=utf-8",
                        headers={"Cache-Control": WIDGET_SCRIPT_CACHE})

    @router.get("/widget/frame")
    async def widget_frame() -> HTMLResponse:
        """The conversation, inside the iframe the widget script opens."""
        return _page(frame, page_policy(frame_ancestors=frame_ancestors))

    @router.get("/widget-demo")
    async def widget_demo() -> HTMLResponse:
        """A stand-in host page with hostile CSS, to see the widget as a citizen would."""
        return _page(demo, page_policy(frames=True))

    return router


def install_pages(app: FastAPI, settings: ServiceSettings) -> None:
    """Add the page routes and their static files to ``app``."""
    app.include_router(pages_router(settings))
    for folder in STATIC_FOLDERS:
        app.mount(f"/static/{folder}", StaticFiles(packages=[(STATIC_PACKAGE, f"static/{folder}")]),
                  name=f"static-{folder}")
