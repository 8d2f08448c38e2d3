"""The analyst view over a real log: questions asked through the API, then /v1/analytics/… and
the /analytics page (its own files, a strict policy, nothing inline, text written as text)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service import ServiceSettings, create_app
from service.gaps import cluster_questions, topic_text
from tests.service.conftest import analyst_headers
from tests.service.test_feedback import copy_kb

ELDERLY = "常熟市-2021-高龄津贴"
HOUSING_FUND_OLD = "suzhou-2015-gongjijin-tiqu"
STARTUP = "changshu-2022-chuangye-butie"
WEATHER = ["今天天气怎么样", "今天天气如何啊", "明天天气怎么样"]


@pytest.fixture(scope="module")
def client(kb_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """An app whose log holds: two answered questions about 尊老金 (one judged helpful, one
    not), one answered from an expired document, three unanswered questions about the weather,
    one about restaurants and one of punctuation only."""
    own = copy_kb(kb_dir, tmp_path_factory.mktemp("analytics") / "kb")
    with TestClient(create_app(ServiceSettings(kb_dir=own)), raise_server_exceptions=False,
                    headers=analyst_headers(own)) as test_client:
        def ask(question: str, **options: object) -> str:
            response = test_client.post("/v1/ask", json={"question": question, **options})
            assert response.status_code == 200, response.text
            return str(response.json()["query_id"])

        first = ask("高龄老人尊老金怎么发放", channel="console", top_k=2)
        second = ask("尊老金谁负责审核发放", channel="widget", top_k=2)
        ask("住房公积金提取需要什么材料", filters={"include_expired": True}, channel="console", top_k=2)
        for question in [*WEATHER, "附近有什么好吃的饭店", "？？？"]:
            ask(question, channel="widget")
        for query_id, verdict in [(first, "helpful"), (second, "not_helpful")]:
            assert test_client.post("/v1/feedback", json={"query_id": query_id, "verdict": verdict}).status_code == 201
        assert test_client.post("/v1/feedback", json={"query_id": first, "verdict": "correct_passage",
                                                       "segment_id": f"{ELDERLY}#a2"}).status_code == 201
        yield test_client


def get(client: TestClient, path: str, **params: object) -> dict:
    response = client.get(f"/v1/analytics/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_summary_counts_questions_channels_and_verdicts(client: TestClient) -> None:
    summary = get(client, "summary", days=7)
    assert (summary["queries"], summary["unanswered"], summary["no_answer"]) == (8, 5, 4)
    assert summary["channels"] == {"console": 2, "widget": 6}
    assert summary["feedback"] == {"helpful": 1, "not_helpful": 1, "correct_passage": 1}
    assert summary["latency_ms"]["p50"] > 0


def test_the_query_log_pages_newest_first_and_filters(client: TestClient) -> None:
    whole = get(client, "queries", limit=500)
    assert whole["total"] == 8 and len(whole["queries"]) == 8
    stamps = [q["asked_at"] for q in whole["queries"]]
    assert stamps == sorted(stamps, reverse=True)
    pages = [get(client, "queries", limit=3, offset=offset)["queries"] for offset in (0, 3, 6)]
    assert [q["query_id"] for page in pages for q in page] == [q["query_id"] for q in whole["queries"]]
    unanswered = get(client, "queries", unanswered="true")["queries"]
    assert {q["question"] for q in unanswered} == {*WEATHER, "附近有什么好吃的饭店", "？？？"}
    assert {q["reason"] for q in unanswered} == {"no_answer", "no_searchable_terms"}
    console = get(client, "queries", channel="console")["queries"]
    assert {q["channel"] for q in console} == {"console"} and len(console) == 2


def test_knowledge_gaps_group_similar_unanswered_questions(client: TestClient) -> None:
    gaps = get(client, "gaps")
    assert gaps["questions"] == 5
    top = gaps["gaps"][0]
    assert top["count"] == 3 and sorted(top["examples"]) == sorted(WEATHER)
    assert top["reasons"] == {"no_answer": 3}
    assert sorted(g["count"] for g in gaps["gaps"]) == [1, 1, 3]


def test_most_and_never_cited_documents(client: TestClient) -> None:
    documents = get(client, "documents", limit=50)
    assert documents["documents"] == 6
    most = documents["most_cited"][0]
    assert most["doc_id"] == ELDERLY and most["title"] == "常熟市高龄老人尊老金发放办法"
    assert (most["citations"], most["first"], most["queries"]) == (4, 2, 2)
    assert [(d["doc_id"], d["citations"]) for d in documents["most_cited"]] == [(ELDERLY, 4), (HOUSING_FUND_OLD, 2)]
    never = documents["never_cited"]
    assert never["total"] == 4 and STARTUP in {d["doc_id"] for d in never["documents"]}
    assert get(client, "documents", limit=3, offset=3)["never_cited"]["documents"] == never["documents"][3:]


def test_citations_of_expired_documents_are_counted(client: TestClient) -> None:
    outdated = get(client, "outdated")
    assert [d["doc_id"] for d in outdated["documents"]] == [HOUSING_FUND_OLD]
    entry = outdated["documents"][0]
    assert entry["status"] == "expired" and entry["status_now"] == "expired" and entry["first"] == 1
    assert outdated["outdated_citations"] == entry["citations"] >= 1
    assert 0 < outdated["share"] < 1


def test_feedback_rates_per_day(client: TestClient) -> None:
    (today,) = get(client, "feedback")["per_day"]
    assert today["queries"] == 8 and today["answers_with_feedback"] == 2
    assert (today["helpful"], today["not_helpful"], today["correct_passage"]) == (1, 1, 1)
    assert today["helpful_rate"] == 0.5 and today["feedback_rate"] == 0.25


@pytest.mark.parametrize(("path", "params", "code"), [
    ("summary", {"days": 0}, "invalid_request"),
    ("summary", {"days": 181}, "invalid_request"),
    ("queries", {"limit": 0}, "pagination_invalid"),
    ("queries", {"offset": -1}, "pagination_invalid"),
    ("queries", {"channel": "fax"}, "invalid_request"),
    ("gaps", {"threshold": 2}, "invalid_request"),
    ("documents", {"days": "many"}, "invalid_request"),
])
def test_bad_parameters_are_422(client: TestClient, path: str, params: dict, code: str) -> None:
    response = client.get(f"/v1/analytics/{path}", params=params)
    assert response.status_code == 422 and response.json()["error"]["code"] == code


class PageAudit(HTMLParser):
    """What a strict Content-Security-Policy would block: inline scripts, handlers, styles."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        for name, _ in attrs:
            if name.startswith("on") or name == "style":
                self.problems.append(f"<{tag} {name}>")
        if tag == "script":
            self._in_script = True
            if not names.get("src"):
                self.problems.append("inline <script>")
            else:
                self.scripts.append(str(names["src"]))
        if tag == "link" and names.get("rel") == "stylesheet":
            self.styles.append(str(names["href"]))
        if tag == "style":
            self.problems.append("inline <style>")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.problems.append("inline script text")


def test_the_page_is_served_whole_under_a_strict_policy(client: TestClient) -> None:
    page = client.get("/analytics")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "default-src 'none'" in policy
    audit = PageAudit()
    audit.feed(page.text)
    assert audit.problems == []
    assert audit.scripts == ["/static/analytics/analytics.js"]
    assert audit.styles == ["/static/analytics/analytics.css"]
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text), "nothing from another origin"
    script = client.get(audit.scripts[0])
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert client.get(audit.styles[0]).headers["content-type"].startswith("text/css")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script.text, f"{sink} in analytics.js"
    for endpoint in re.findall(r'api\("([a-z]+)"', script.text):
        assert client.get(f"/v1/analytics/{endpoint}").status_code == 200
    assert "@import" not in client.get(audit.styles[0]).text and "url(" not in client.get(audit.styles[0]).text


def test_clustering_reads_past_filler_and_masked_numbers() -> None:
    assert topic_text("请问[手机号]公积金怎么提取？") == "公积金提取"
    groups = cluster_questions([
        {"question": "公积金怎么提取", "reason": "no_answer", "asked_at": "2026-12-01T01:00:00Z"},
        {"question": "请问公积金如何提取啊", "reason": "no_answer", "asked_at": "2026-12-02T01:00:00Z"},
        {"question": "公积金怎么提取", "reason": None, "asked_at": "2026-12-03T01:00:00Z"},
        {"question": "护照在哪办", "reason": "no_answer", "asked_at": "2026-12-01T01:00:00Z"},
    ])
    assert [(g["count"], g["distinct"], g["example"]) for g in groups] == [(3, 2, "公积金怎么提取"), (1, 1, "护照在哪办")]
    assert groups[0]["reasons"] == {"no_answer": 2, "no_hits": 1}
    assert groups[0]["last_asked"] == "2026-12-03T01:00:00Z"


def test_the_json_routes_are_sync_so_sqlite_work_runs_in_the_thread_pool() -> None:
    from fastapi.routing import APIRoute

    from service.analytics import router as analytics_router
    from service.feedback_routes import router as feedback_router

    routes = [r for r in [*analytics_router.routes, *feedback_router.routes] if isinstance(r, APIRoute)]
    assert len(routes) == 7
    assert not any(inspect.iscoroutinefunction(route.endpoint) for route in routes)
