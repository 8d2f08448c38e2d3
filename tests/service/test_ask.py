"""POST /v1/ask: the right passages, in the engine's exact shape, with filters and modes."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import kb
from service.schemas import AskResponse, HitModel

# The ids of tests/service/conftest.py's documents (conftest is not importable by name).
ZHENGWU = "changshu-2019-zhengwu-gongkai-yaodian"
ZHENGWU_S34 = f"{ZHENGWU}#s3.4"
SOCIAL_INSURANCE = "lawrefbook:24e933d71ff9"
SOCIAL_A54 = f"{SOCIAL_INSURANCE}#a54"
HOUSING_FUND_OLD = "suzhou-2015-gongjijin-tiqu"
ELDERLY = "常熟市-2021-高龄津贴"
STARTUP = "changshu-2022-chuangye-butie"
MEDICAL = "jiangsu-2020-yibao-jiesuan"


def ask(client: TestClient, question: str, **options: object) -> dict:
    response = client.post("/v1/ask", json={"question": question, **options})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(("question", "segment_id"), [
    ("政务公开目录在哪里集中公开", ZHENGWU_S34),
    ("领取失业保险金期间能享受医疗保险待遇吗", SOCIAL_A54),
    ("高龄老人尊老金怎么发放", f"{ELDERLY}#a2"),
    ("异地就医怎么备案", f"{MEDICAL}#a6"),
])
def test_a_good_question_finds_its_passage_first(client: TestClient, question: str, segment_id: str) -> None:
    result = ask(client, question)
    assert result["hits"], result
    assert result["hits"][0]["segment_id"] == segment_id
    assert result["reason"] is None
    assert result["mode"] == "hybrid"
    assert result["terms"]


def test_hits_are_exactly_the_engines_hits(client: TestClient, kb_dir: Path) -> None:
    question = "创业补贴需要哪些申请材料"
    served = ask(client, question, top_k=3)
    engine = kb.KnowledgeBase(kb_dir)
    try:
        expected = json.loads(json.dumps(engine.search(question, top_k=3).as_dict(), ensure_ascii=False))
    finally:
        engine.close()
    assert served == {**expected, "query_id": served["query_id"]}  # the engine's answer, plus its log id
    assert served["hits"][0]["doc_id"] == STARTUP
    hit_fields = [field.name for field in dataclasses.fields(kb.Hit)]
    for hit in served["hits"]:
        assert list(hit) == hit_fields


def test_hit_offsets_point_into_the_document_text(client: TestClient) -> None:
    hit = ask(client, "政务公开目录", top_k=1)["hits"][0]
    document = client.get(f"/v1/documents/{hit['doc_id']}").json()
    assert document["text"][hit["start"]:hit["end"]] == hit["text"]
    assert hit["highlights"], hit
    for start, end in hit["highlights"]:
        assert hit["start"] <= start < end <= hit["end"]
    assert hit["departments"] == ["市政务办", "各镇人民政府"]
    assert hit["section_path"] == ["三、重点任务", "（四）"]


def test_response_models_match_the_engine() -> None:
    """The OpenAPI schema documents the engine's Hit and SearchResult, field for field."""
    assert list(HitModel.model_fields) == [field.name for field in dataclasses.fields(kb.Hit)]
    assert list(AskResponse.model_fields) == [field.name for field in dataclasses.fields(kb.SearchResult)]


def test_generation_header_names_the_served_index(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": "政务公开"})
    generation = client.get("/healthz").json()["generation"]
    assert response.headers["X-Index-Generation"] == generation == response.json()["generation"]


def test_top_k_bounds_the_number_of_hits(client: TestClient) -> None:
    assert len(ask(client, "保险", top_k=1)["hits"]) == 1
    many = ask(client, "保险", top_k=50)["hits"]
    assert 1 < len(many) <= 50
    assert [hit["rank"] for hit in many] == list(range(1, len(many) + 1))


@pytest.mark.parametrize("question", ["？？？！！。。", "。。。", "!!!???"])
def test_a_question_without_terms_gets_no_hits_and_a_reason(client: TestClient, question: str) -> None:
    result = ask(client, question)
    assert result["hits"] == []
    assert result["reason"] == "no_searchable_terms"


def test_expired_documents_are_hidden_by_default(client: TestClient) -> None:
    question = "购房提取住房公积金需要什么材料"
    default = ask(client, question, top_k=10)
    assert all(hit["doc_id"] != HOUSING_FUND_OLD for hit in default["hits"])
    assert all(hit["status"] == "in_force" for hit in default["hits"])
    shown = ask(client, question, top_k=10, filters={"include_expired": True})
    assert shown["hits"][0]["doc_id"] == HOUSING_FUND_OLD
    assert shown["hits"][0]["status"] == "expired"
    by_status = ask(client, question, filters={"statuses": ["expired"]})
    assert {hit["doc_id"] for hit in by_status["hits"]} == {HOUSING_FUND_OLD}


def test_doc_ids_filter_limits_the_documents(client: TestClient) -> None:
    result = ask(client, "保险", top_k=20, filters={"doc_ids": [SOCIAL_INSURANCE, ELDERLY]})
    assert result["hits"]
    assert {hit["doc_id"] for hit in result["hits"]} <= {SOCIAL_INSURANCE, ELDERLY}
    assert SOCIAL_INSURANCE in {hit["doc_id"] for hit in result["hits"]}
    # An expired document named in doc_ids still needs include_expired.
    hidden = ask(client, "住房公积金", filters={"doc_ids": [HOUSING_FUND_OLD]})
    assert hidden["hits"] == []
    shown = ask(client, "住房公积金", filters={"doc_ids": [HOUSING_FUND_OLD], "include_expired": True})
    assert {hit["doc_id"] for hit in shown["hits"]} == {HOUSING_FUND_OLD}


def test_department_filter_keeps_passages_naming_that_department(client: TestClient) -> None:
    result = ask(client, "政务公开 民政 发放", top_k=20, filters={"departments": ["市政务办"]})
    assert result["hits"] and all("市政务办" in hit["departments"] for hit in result["hits"])
    assert {hit["segment_id"] for hit in result["hits"]} == {ZHENGWU_S34, f"{ZHENGWU}#s4"}
    both = ask(client, "政务公开 尊老金 发放", top_k=20, filters={"departments": ["市政务办", "市民政局"]})
    assert {hit["doc_id"] for hit in both["hits"]} == {ZHENGWU, ELDERLY}


def test_place_filter_keeps_documents_of_that_jurisdiction(client: TestClient) -> None:
    question = "保险 医疗 补贴"
    national = ask(client, question, top_k=20, filters={"places": ["全国"]})
    assert national["hits"] and {hit["doc_id"] for hit in national["hits"]} == {SOCIAL_INSURANCE}
    province = ask(client, question, top_k=20, filters={"places": ["江苏省"]})
    assert {hit["doc_id"] for hit in province["hits"]} == {MEDICAL}
    city = ask(client, question, top_k=20, filters={"places": ["常熟市"], "doc_ids": [STARTUP, MEDICAL]})
    assert {hit["doc_id"] for hit in city["hits"]} == {STARTUP}


@pytest.mark.parametrize("filters", [{"departments": [""]}, {"places": ["   "]}, {"departments": ["部" * 101]},
                                     {"places": ["常熟市"] * 21}, {"departments": "市政务办"}, {"places": [1]}])
def test_bad_department_or_place_filters_are_refused_with_a_code(client: TestClient, filters: dict) -> None:
    response = client.post("/v1/ask", json={"question": "政务公开", "filters": filters})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_filter"


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_each_mode_answers_and_says_which_it_used(client: TestClient, mode: str) -> None:
    result = ask(client, "政务公开目录集中公开", mode=mode)
    assert result["mode"] == mode
    assert result["hits"][0]["doc_id"] == ZHENGWU
    scores = result["hits"][0]["scores"]
    if mode == "bm25":
        assert scores["bm25"] is not None and scores["dense"] is None
    if mode == "dense":
        assert scores["dense"] is not None and scores["bm25"] is None


def test_question_is_answered_as_cleaned_text(client: TestClient) -> None:
    """Surrounding space and zero-width characters do not change the answer."""
    clean = ask(client, "异地就医备案")
    noisy = ask(client, "\u3000 异地\u200b就医备案 \n")
    assert noisy["question"] == "异地就医备案"
    assert [h["segment_id"] for h in noisy["hits"]] == [h["segment_id"] for h in clean["hits"]]


def test_markup_in_a_question_is_plain_text(client: TestClient) -> None:
    response = client.post("/v1/ask", json={"question": "<script>alert(1)</script>创业补贴"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["question"] == "<script>alert(1)</script>创业补贴"


def test_concurrent_questions_get_the_same_answers_as_sequential_ones(client: TestClient) -> None:
    """Routes run in a thread pool; the shared SQLite connection and model must not race."""
    questions = ["政务公开目录", "失业保险金", "尊老金", "异地就医", "创业补贴", "社会保险"]
    expected = {q: [h["segment_id"] for h in ask(client, q)["hits"]] for q in questions}
    failures: list[str] = []

    def worker(offset: int) -> None:
        for i in range(12):
            question = questions[(offset + i) % len(questions)]
            try:
                response = client.post("/v1/ask", json={"question": question})
                got = [h["segment_id"] for h in response.json()["hits"]]
                if response.status_code != 200 or got != expected[question]:
                    failures.append(f"{question}: {response.status_code} {got}")
            except Exception as error:  # noqa: BLE001 - any crash in a thread must fail the test
                failures.append(repr(error))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []


def test_the_engine_is_never_entered_by_two_requests_at_once(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Requests run in parallel threads, but calls into the knowledge base are serialised."""
    engine = client.app.state.kb.kb
    real_search = engine.search
    inside, most, guard = 0, 0, threading.Lock()

    def observed_search(*args: object, **kwargs: object) -> object:
        nonlocal inside, most
        with guard:
            inside += 1
            most = max(most, inside)
        try:
            time.sleep(0.02)  # long enough for another thread to arrive if it could
            return real_search(*args, **kwargs)
        finally:
            with guard:
                inside -= 1

    monkeypatch.setattr(engine, "search", observed_search)
    statuses: list[int] = []

    def worker() -> None:
        statuses.append(client.post("/v1/ask", json={"question": "异地就医"}).status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [200] * 8
    assert most == 1


@pytest.mark.parametrize("question", [
    "社保😀怎么交", "👨‍👩‍👧异地就医", "社\u200b保", "\u202e异地就医\u2066", "异地\x00就医", "ＡＢＣ１２３社保（一）",
    "社會保險怎麼繳納", "' OR 1=1 --", '社保"; DROP TABLE segments;--', '"社保" NEAR/2 *', "(a+)+$", "\\",
    "身份证110105194912310021 手机13812345678 能办吗", "社" * 2000, "<img src=x onerror=alert(1)>",
])
def test_odd_but_valid_questions_are_answered(client: TestClient, question: str) -> None:
    response = client.post("/v1/ask", json={"question": question})
    assert response.status_code == 200, response.text
    result = response.json()
    assert isinstance(result["hits"], list)
    assert result["reason"] in (None, "no_match", "no_searchable_terms", "no_answer")


@pytest.mark.parametrize("question", ["😀😀😀", "\u200b？\u200b", "？！", "你好"])
def test_questions_without_words_get_no_random_passages(client: TestClient, question: str) -> None:
    result = ask(client, question)
    assert result["hits"] == []
    assert result["reason"] == "no_searchable_terms"


def test_emoji_inside_a_question_does_not_change_its_hits(client: TestClient) -> None:
    plain = ask(client, "异地就医备案")["hits"]
    noisy = ask(client, "异地就医😀备案")["hits"]
    assert [h["segment_id"] for h in noisy] == [h["segment_id"] for h in plain]
