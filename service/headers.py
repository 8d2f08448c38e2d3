"""Security headers on every response: what a browser may do with what the service sends.

Pages (the agent console, the passage page, the widget and its demo, ``/docs``) set their own
Content-Security-Policy (:func:`page_policy`): scripts, styles and connections from
the service's own origin only, never ``'unsafe-inline'`` or ``'unsafe-eval'``, so even a
passage that smuggled markup past the safe rendering could not run. Every other response (JSON,
scripts, style sheets) gets the strictest policy, which forbids a browser from rendering it as
a page at all. ``nosniff`` stops a browser from reading JSON as HTML or script; no referrer is
sent, so the address of a page the service is embedded in, or a question in one, never leaves
with a request (OWASP CSP and XSS cheat sheets, RELIABILITY I8).

A pure ASGI middleware rather than ``BaseHTTPMiddleware``: it adds headers to the response
start message and costs nothing on the body.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: For anything that is not a page: nothing may load, and nothing may frame it.
DEFAULT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"


def page_policy(*, frame_ancestors: tuple[str, ...] = ("'none'",), frames: bool = False) -> str:
    """A strict Content-Security-Policy for a page of the service.

    Only the service's own scripts, style sheets, images and API; ``data:`` images for the
    tab icon; no plugins, no ``<base>``, no form posts elsewhere. ``frame_ancestors``
    names who may embed the page; ``frames`` lets the page itself embed the service's frames
    (the widget demo).
    """
    directives = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        f"frame-ancestors {' '.join(frame_ancestors)}",
    ]
    if frames:
        directives.append("frame-src 'self'")
    return "; ".join(directives)


HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class SecurityHeaders:
    """Add nosniff, a referrer policy and (unless the response set one) the default CSP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if "content-security-policy" not in headers:
                    headers["Content-Security-Policy"] = DEFAULT_POLICY
            await send(message)

        await self.app(scope, receive, send_with_headers)
