"""What the pages promise a browser, checked without one: a strict Content-Security-Policy on
every page, nosniff and no referrer everywhere, the widget frame embeddable only by the
configured sites, CORS only for them, and page sources that the policy can run (no inline
script, no style attribute, no event-handler attribute, no HTML built from strings)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service import ServiceSettings, create_app
from tests.pages.conftest import EMBEDDING_ORIGIN

REPO = Path(__file__).resolve().parents[2]
STATIC = REPO / "service" / "static"
PAGES = ["/", "/passage", "/widget/frame", "/widget-demo", "/docs"]
OTHER = ["/widget.js", "/static/console/console.js", "/static/widget/frame.css", "/healthz", "/openapi.json",
         "/v1/documents", "/no-such-page"]
#: Sinks that turn a string into markup or code (OWASP XSS prevention: use safe sinks only).
UNSAFE_SINKS = re.compile(r"\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|"
                          r"setAttribute\(\s*[\"']on|setAttribute\(\s*[\"']style|\.cssText")


@pytest.fixture(scope="module")
def client(pages_kb_dir: Path) -> Iterator[TestClient]:
    settings = ServiceSettings(kb_dir=pages_kb_dir, cors_origins=(EMBEDDING_ORIGIN,), hotline="0512-12345")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def policy(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_strict_content_security_policy(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    header = response.headers["content-security-policy"]
    assert "unsafe-inline" not in header and "unsafe-eval" not in header and "unsafe-hashes" not in header
    directives = policy(header)
    assert directives["default-src"] == ["'none'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["base-uri"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize("path", OTHER)
def test_every_other_response_is_not_a_page_and_not_sniffed(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert policy(response.headers["content-security-policy"])["default-src"] == ["'none'"]


def test_only_the_widget_frame_may_be_embedded_and_only_by_configured_sites(client: TestClient) -> None:
    assert policy(client.get("/widget/frame").headers["content-security-policy"])["frame-ancestors"] == [
        "'self'", EMBEDDING_ORIGIN]
    for path in ("/", "/passage", "/docs"):
        assert policy(client.get(path).headers["content-security-policy"])["frame-ancestors"] == ["'none'"]
    assert policy(client.get("/widget-demo").headers["content-security-policy"])["frame-src"] == ["'self'"]


def test_the_widget_frame_offers_the_configured_hotline(client: TestClient) -> None:
    assert '<meta name="policykb-hotline" content="0512-12345">' in client.get("/widget/frame").text


def test_cors_is_granted_to_configured_origins_only(client: TestClient) -> None:
    def preflight(origin: str) -> dict[str, str]:
        return dict(client.options("/v1/ask", headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                                      "Access-Control-Request-Headers": "content-type"}).headers)

    assert preflight(EMBEDDING_ORIGIN).get("access-control-allow-origin") == EMBEDDING_ORIGIN
    assert "access-control-allow-origin" not in preflight("https://evil.example.com")
    answer = client.post("/v1/ask", json={"question": "社会保险"}, headers={"Origin": "https://evil.example.com"})
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers


def test_without_configured_origins_no_site_may_embed_the_widget(pages_kb_dir: Path) -> None:
    with TestClient(create_app(ServiceSettings(kb_dir=pages_kb_dir))) as client:
        assert policy(client.get("/widget/frame").headers["content-security-policy"])["frame-ancestors"] == ["'self'"]
        assert '<meta name="policykb-hotline" content="12345">' in client.get("/widget/frame").text


def test_the_docs_page_is_absent_when_docs_are_off(pages_kb_dir: Path) -> None:
    with TestClient(create_app(ServiceSettings(kb_dir=pages_kb_dir, docs=False))) as client:
        assert client.get("/docs").status_code == 404
        assert client.get("/static/swagger-ui/swagger-ui.css").status_code == 404


class _Markup(HTMLParser):
    """Collects what a strict policy would block in a page's own markup."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.blocked.append("inline <script>")
        if tag == "style":
            self.blocked.append("<style> element")
        self.blocked += [f"{tag} {name}=" for name in names if name == "style" or name.startswith("on")]
        if tag in ("script", "link", "img", "iframe") and any(
                (value or "").startswith(("http:", "https:", "//")) for name, value in attrs if name in ("src", "href")):
            self.blocked.append(f"{tag} from another origin")


@pytest.mark.parametrize("path", sorted(STATIC.glob("*/*.html")), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_page_markup_has_no_inline_script_style_or_handler(path: Path) -> None:
    parser = _Markup()
    parser.feed(path.read_text(encoding="utf-8"))
    assert parser.blocked == []


@pytest.mark.parametrize("path", sorted(STATIC.glob("*/*.js")), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_page_scripts_use_only_safe_sinks(path: Path) -> None:
    assert UNSAFE_SINKS.findall(path.read_text(encoding="utf-8")) == []


def test_every_static_file_is_package_data() -> None:
    """pyproject's package-data glob for the service must cover every file the pages load."""
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert '"service" = ["static/*/*"]' in pyproject
    assert all(len(path.relative_to(STATIC).parts) == 2 for path in STATIC.rglob("*") if path.is_file())
