"""Real pages in a real browser: a uvicorn server on loopback over a small real knowledge base,
driven by Playwright through Debian's chromium.

The knowledge base holds the service tests' six documents plus one whose title, text, 文号
and department carry ``<script>`` and ``<img onerror>``: every page must show those
characters and run nothing. Browser tests skip, saying why, where chromium or Playwright is
absent (CI installs both; see ``.ci/run``); the header tests need no browser.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kb import Document, KnowledgeBase
from tests.service.conftest import Part, make_document, service_documents

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("POLICYKB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
SHOTS = Path(os.environ.get("POLICYKB_SHOTS", "/tmp/shots"))
START_TIMEOUT_S = 90
VIEWPORT = {"width": 1366, "height": 768}
SERVER = "from service import ServiceSettings, serve; serve(ServiceSettings.from_env())"
#: A site allowed to embed the widget and call the API from a browser.
EMBEDDING_ORIGIN = "https://www.changshu.gov.cn"

XSS_DOC = "xss-垃圾分类"
XSS_SEGMENT = f"{XSS_DOC}#a1"
#: Markup that would run if any page rendered text as HTML; each sets window.__pwned or opens a dialog.
XSS_TITLE = "关于<script>window.__pwned='title'</script>垃圾分类的通知<img src=x onerror=\"window.__pwned='title-img'\">"
XSS_TEXT = ("居民应当按照<script>window.__pwned='text';alert('text')</script>要求进行垃圾分类投放"
            "<img src=x onerror=\"alert('img')\">，厨余垃圾应当单独投放。")


def page_documents() -> list[Document]:
    """The service tests' documents and one carrying markup in every field a page shows."""
    hostile = make_document(XSS_DOC, XSS_TITLE, [
        Part("a1", "第一条", ("第一条<b onmouseover=alert(1)>",), XSS_TEXT, ("市城管局<img src=x onerror=alert(3)>",)),
        Part("a2", "第二条", ("第二条",), "可回收物投放到蓝色收集容器，有害垃圾投放到红色收集容器<svg onload=alert(4)>。"),
    ], doc_number="常城管〔2023〕<i>1</i>号", issuer="常熟市城市管理局<script>alert(5)</script>", date="2023-03-01")
    return [*service_documents(), hostile, *dog_rules()]


DOGS_OLD = "changshu-2016-yangquan"
DOGS_NEW = "changshu-2023-yangquan"


def dog_rules() -> list[Document]:
    """Two versions of one rule: the 2023 one repeals the 2016 one by its 文号."""
    return [
        make_document(DOGS_OLD, "常熟市养犬管理规定", [
            Part("a5", "第五条", ("第五条",), "养犬人应当在取得犬只后三十日内到公安机关办理养犬登记。", ("市公安局",)),
        ], doc_number="常政规〔2016〕5号", issuer="常熟市人民政府", date="2016-07-01"),
        make_document(DOGS_NEW, "常熟市养犬管理办法", [
            Part("a6", "第六条", ("第六条",), "养犬人应当在取得犬只后十五日内通过政务服务平台办理养犬登记。",
                 ("市公安局",)),
        ], doc_number="常政规〔2023〕2号", issuer="常熟市人民政府", date="2023-05-01",
            metadata={"repeals": ["常政规〔2016〕5号"]}),
    ]


@pytest.fixture(scope="session")
def pages_kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("pages-kb")
    knowledge_base = KnowledgeBase(directory, create=True)
    try:
        knowledge_base.add_documents(page_documents())
        knowledge_base.build()
    finally:
        knowledge_base.close()
    return directory


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http(url: str, *, data: Any = None, headers: dict[str, str] | None = None,
         method: str | None = None, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Status, lower-cased headers and body of one request (JSON-encodes ``data``)."""
    body = json.dumps(data, ensure_ascii=False).encode("utf-8") if data is not None else None
    all_headers = {"Content-Type": "application/json"} if body is not None else {}
    all_headers.update(headers or {})
    request = urllib.request.Request(url, data=body, headers=all_headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


@dataclass
class Server:
    """A running service: its base URL and knowledge base directory."""

    base: str
    kb_dir: Path
    log_path: Path


def start_server(kb_dir: Path, log_dir: Path, **env: str) -> Iterator[Server]:
    """Run ``service.serve`` in its own process until the generator is closed."""
    port = free_port()
    # Every page test asks from 127.0.0.1: no per-client budget here (budgets are tested in
    # tests/service/test_ratelimit.py), or a fast run would meet the citizens' 60 a minute.
    environment = {**os.environ, "POLICYKB_KB_DIR": str(kb_dir), "POLICYKB_PORT": str(port),
                   "POLICYKB_HOST": "127.0.0.1", "POLICYKB_LOG_LEVEL": "warning", "POLICYKB_RATE_LIMIT": "0",
                   **env}
    log_path = log_dir / "server.log"
    log = log_path.open("wb")
    process = subprocess.Popen([sys.executable, "-c", SERVER], cwd=REPO, env=environment, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            if process.poll() is not None:
                pytest.fail(f"server exited with {process.returncode}:\n{log_path.read_text(errors='replace')}")
            try:
                if http(f"{base}/healthz", timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"server did not answer /healthz within {START_TIMEOUT_S} s")
            time.sleep(0.2)
        yield Server(base, kb_dir, log_path)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)
        log.close()


@pytest.fixture(scope="session")
def listed_site_port() -> int:
    """The port of a stand-in government site (on loopback) that the service lists."""
    return free_port()


@pytest.fixture(scope="session")
def server(pages_kb_dir: Path, tmp_path_factory: pytest.TempPathFactory, listed_site_port: int) -> Iterator[Server]:
    """The service over the pages' knowledge base; two sites may embed it."""
    yield from start_server(pages_kb_dir, tmp_path_factory.mktemp("pages-server"),
                            POLICYKB_CORS_ORIGINS=f"{EMBEDDING_ORIGIN},http://127.0.0.1:{listed_site_port}")


HOST_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>政府网站</title>
<link rel="icon" href="data:,"></head>
<body><h1>某政府网站</h1><script src="{base}/widget.js" data-hotline="0512-52712345"></script></body></html>"""


def host_site(port: int, service_base: str) -> Iterator[str]:
    """Serve a page of another site that includes the widget, on ``port``; yields its origin."""
    body = HOST_PAGE.format(base=service_base).encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        site.shutdown()
        site.server_close()


@pytest.fixture(scope="session")
def listed_site(server: Server, listed_site_port: int) -> Iterator[str]:
    """A site in the service's list, on another origin, with the widget on its page."""
    yield from host_site(listed_site_port, server.base)


@pytest.fixture(scope="session")
def unlisted_site(server: Server) -> Iterator[str]:
    """A site the service does not list, with the widget on its page."""
    yield from host_site(free_port(), server.base)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's chromium under Playwright, or a skip that says what is missing."""
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip(f"no chromium at {CHROMIUM}: install it with `apt-get install -y chromium fonts-noto-cjk`")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')")
    executable = str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium"))
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


#: Installed in every frame before any page script: CSP violations are collected, not just logged.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@dataclass
class Watch:
    """What went wrong in a page: dialogs opened, script errors, requests outside the service."""

    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    #: Origins of stand-in host sites that the tests themselves serve on loopback.
    host_origins: list[str] = field(default_factory=list)


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def page(browser: Any, server: Server, watch: Watch) -> Iterator[Any]:
    """A fresh browser context at 1366×768 with clipboard access; after the test, no dialog may
    have opened, no script error or CSP violation may have happened, and no request may have
    left the service's origin."""
    context = browser.new_context(viewport=VIEWPORT, base_url=server.base, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base)
    context.add_init_script(WATCH_CSP)
    tab = context.new_page()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_request(request: Any) -> None:
        if not request.url.startswith((server.base, "data:", "about:", *watch.host_origins)):
            watch.foreign_requests.append(request.url)

    context.on("dialog", on_dialog)
    context.on("request", on_request)
    tab.on("pageerror", lambda error: watch.errors.append(str(error)))
    tab.on("console", lambda message: watch.errors.append(message.text) if message.type == "error" else None)
    try:
        yield tab
        violations = [v for frame in tab.frames for v in frame.evaluate("window.__cspViolations || []")]
        pwned = [frame.evaluate("window.__pwned || null") for frame in tab.frames]
        assert watch.dialogs == [], f"a dialog opened: {watch.dialogs}"
        assert violations == [], f"Content-Security-Policy violations: {violations}"
        assert watch.errors == [], f"script errors: {watch.errors}"
        assert watch.foreign_requests == [], f"requests outside the service: {watch.foreign_requests}"
        assert pwned == [None] * len(pwned), "markup from a document ran as script"
    finally:
        context.close()


def shot(tab: Any, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot for people to look at (``/tmp/shots`` unless ``POLICYKB_SHOTS``)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    tab.screenshot(path=str(path), full_page=full_page)
    return path


def wait_until(target: Any, expression: str, timeout_s: float = 15) -> Any:
    """Poll a JavaScript expression in a page or frame until it is truthy; return its value.

    Playwright's own ``wait_for_function`` evaluates its predicate with ``eval`` inside the
    page, which the pages' Content-Security-Policy rightly forbids; ``evaluate`` goes through
    the DevTools protocol and is not subject to it.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = target.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout_s} s: {expression}")
        time.sleep(0.05)
