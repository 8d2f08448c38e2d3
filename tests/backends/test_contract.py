"""The backend contract: the same questions, filters and citations on SQLite and on Milvus.

Every test named ``..._each_backend`` runs once per backend; the ``..._same_...`` tests put
the two side by side. Both knowledge bases are one: SQLite answers from its index
generation, Milvus from the collection that generation was published to.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from typing import Any

import pytest

from kb import SearchFilters
from kb.milvus import bm25_score, filter_expression, term_for_analyzer, terms_text

QUESTIONS = [
    "退休以后怎么领取基本养老金",
    "什么情况下可以提取住房公积金",
    "失业保险金怎么申请",
    "个体工商户怎么登记",
    "公司不和我签劳动合同怎么办",
    "灵活就业人员的社会保险补贴",
]
#: The passage each question is about, whatever the backend.
EXPECTED_TOP = {
    "退休以后怎么领取基本养老金": "social-insurance",
    "什么情况下可以提取住房公积金": "housing-fund",
    "失业保险金怎么申请": "unemployment",
    "个体工商户怎么登记": "business",
    "公司不和我签劳动合同怎么办": "labour",
    "灵活就业人员的社会保险补贴": "subsidy-2022",
}
FILTERS = {
    "today": SearchFilters(),
    "as_of_2020": SearchFilters(as_of="2020-06-01"),
    "superseded": SearchFilters.from_options(include_superseded=True),
    "expired": SearchFilters.from_options(include_expired=True),
    "everything": SearchFilters.from_options(include_expired=True, include_superseded=True),
    "documents": SearchFilters(doc_ids=("housing-fund", "old-housing-fund", "subsidy-2018")),
    "only_superseded": SearchFilters(statuses=("superseded",)),
    "department": SearchFilters(departments=("住房公积金管理中心", "不存在的部门")),
    "place": SearchFilters.from_options(places=["常熟市"], include_superseded=True),
    "place_and_document": SearchFilters(places=("常熟市",), doc_ids=("subsidy-2022", "housing-fund")),
}
#: Fields that only say how a backend scored (BM25's IDF differs, see test_bm25_scores...).
SCORE_FIELDS = {"score", "scores"}


def _search(searcher: Any, question: str, **options: Any) -> Any:
    return searcher.search(question, abstain=False, **options)


def _ids(result: Any, count: int | None = None) -> list[str]:
    return [hit.segment_id for hit in result.hits[:count]]


@pytest.mark.parametrize("question", QUESTIONS)
@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_the_expected_document_answers_first_on_each_backend(backend: Any, question: str, mode: str) -> None:
    result = _search(backend, question, mode=mode, top_k=3)
    assert result.mode == mode
    if mode == "dense" and question == "灵活就业人员的社会保险补贴":
        # the embedding model learns on 15 passages here; the dense half alone may pick the
        # other regulation about 社会保险 - the contract is only that both backends agree
        return
    assert result.hits and result.hits[0].doc_id == EXPECTED_TOP[question]


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_the_same_top_three_on_both_backends(sqlite_searcher: Any, milvus_searcher: Any, mode: str) -> None:
    for question in QUESTIONS:
        sqlite = _search(sqlite_searcher, question, mode=mode, top_k=3)
        milvus = _search(milvus_searcher, question, mode=mode, top_k=3)
        assert _ids(milvus) == _ids(sqlite), question


def test_bm25_alone_gives_the_same_top_three_and_scores(sqlite_searcher: Any, milvus_searcher: Any) -> None:
    # Milvus finds the candidates with its own BM25 (Lucene's IDF, no term weights); policykb
    # scores them with the generation's statistics, so the order and the scores are SQLite's
    for question in QUESTIONS:
        sqlite = _search(sqlite_searcher, question, mode="bm25", top_k=3)
        milvus = _search(milvus_searcher, question, mode="bm25", top_k=3)
        assert _ids(milvus) == _ids(sqlite), question
        for ours, theirs in zip(sqlite.hits, milvus.hits):
            assert theirs.scores["bm25"] == pytest.approx(ours.scores["bm25"], rel=1e-5), question
            assert theirs.score == pytest.approx(ours.score, rel=1e-5), question


def _lucene_bm25(documents: dict[str, list[str]], query: list[str], k1: float = 1.2, b: float = 0.75) -> dict[str, float]:
    """BM25 with Lucene's IDF over ``documents`` (id -> terms): what a Milvus server computes, with
    policykb's k1 and b (Milvus Lite's own default k1 is 1.5: this also checks the index kept ours)."""
    count = len(documents)
    average = sum(len(terms) for terms in documents.values()) / count
    frequency = Counter(term for terms in documents.values() for term in set(terms))
    scores = {}
    for segment_id, terms in documents.items():
        tf = Counter(terms)
        score = 0.0
        for term in query:
            if tf[term]:
                idf = math.log(1 + (count - frequency[term] + 0.5) / (frequency[term] + 0.5))
                score += idf * tf[term] * (k1 + 1) / (tf[term] + k1 * (1 - b + b * len(terms) / average))
        scores[segment_id] = score
    return scores


def test_milvus_bm25_is_lucene_bm25_over_policykb_terms(contract_kb: Any, milvus_searcher: Any) -> None:
    # what orders the server's candidates: Lucene's BM25 over policykb's own terms, with
    # policykb's k1 and b (Milvus Lite 3.2 kept its own k1 = 1.5 unless the index said otherwise)
    documents = {row.segment_id: row.terms.split() for row in contract_kb.store.index_rows()}
    for question in QUESTIONS:
        terms = contract_kb.tokenizer.tokenize_query(question)
        expected = _lucene_bm25(documents, terms)
        raw = milvus_searcher.client.search(milvus_searcher.collection, data=[terms_text(terms)], anns_field="sparse",
                                            limit=10, output_fields=["segment_id"],
                                            search_params={"metric_type": "BM25"})[0]
        assert raw
        for hit in raw:
            segment_id = hit["entity"]["segment_id"]
            assert bm25_score(hit["distance"]) == pytest.approx(expected[segment_id], rel=1e-4), (question, segment_id)


def test_rrf_fusion_gives_the_same_top_three(sqlite_searcher: Any, milvus_searcher: Any) -> None:
    for question in QUESTIONS:
        sqlite = _search(sqlite_searcher, question, fusion="rrf", top_k=3)
        milvus = _search(milvus_searcher, question, fusion="rrf", top_k=3)
        assert _ids(milvus) == _ids(sqlite), question


@pytest.mark.parametrize("question", ["今天天气怎么样", "你好", "给我讲个笑话吧", "！！！"])
def test_off_topic_questions_get_no_answer_on_each_backend(backend: Any, question: str) -> None:
    result = backend.search(question, top_k=5)
    assert result.hits == [] and result.reason in ("no_answer", "no_searchable_terms")


def test_a_place_named_and_the_place_served_weigh_the_same_on_both_backends(sqlite_searcher: Any,
                                                                          milvus_searcher: Any) -> None:
    for question in ["常熟市灵活就业 社会保险补贴", "苏州 住房公积金提取"]:
        sqlite = _search(sqlite_searcher, question, top_k=5)
        milvus = _search(milvus_searcher, question, top_k=5)
        assert _ids(milvus) == _ids(sqlite), question
        assert [h.score for h in milvus.hits] == pytest.approx([h.score for h in sqlite.hits], rel=1e-5)


@pytest.mark.parametrize("name", sorted(FILTERS))
@pytest.mark.parametrize("mode", ["bm25", "dense"])
def test_filters_keep_the_same_passages_on_both_backends(sqlite_searcher: Any, milvus_searcher: Any, name: str,
                                                         mode: str) -> None:
    for question in ("住房公积金 社会保险 补贴 申请", "劳动关系"):
        sqlite = _search(sqlite_searcher, question, mode=mode, top_k=100, filters=FILTERS[name])
        milvus = _search(milvus_searcher, question, mode=mode, top_k=100, filters=FILTERS[name])
        assert set(_ids(milvus)) == set(_ids(sqlite)), question


def test_validity_filters_mean_what_they_say_on_each_backend(backend: Any) -> None:
    def documents(filters: SearchFilters) -> set[str]:
        result = _search(backend, "住房公积金 社会保险 补贴", mode="bm25", top_k=100, filters=filters)
        return {hit.doc_id for hit in result.hits}

    today = documents(FILTERS["today"])
    assert "subsidy-2022" in today and not today & {"subsidy-2018", "old-housing-fund"}
    assert "subsidy-2018" in documents(FILTERS["as_of_2020"])
    assert "subsidy-2018" in documents(FILTERS["superseded"])
    assert "old-housing-fund" in documents(FILTERS["expired"])
    assert documents(FILTERS["documents"]) == {"housing-fund"}
    assert documents(FILTERS["only_superseded"]) == {"subsidy-2018"}
    assert documents(FILTERS["department"]) == {"housing-fund"}
    assert documents(FILTERS["place"]) == {"subsidy-2018", "subsidy-2022"}
    assert documents(FILTERS["place_and_document"]) == {"subsidy-2022"}
    assert documents(SearchFilters(places=("全国",))) == set()  # no national law in this knowledge base


@pytest.mark.parametrize("mode", ["bm25", "hybrid"])
def test_every_citation_field_is_the_same_on_both_backends(sqlite_searcher: Any, milvus_searcher: Any, mode: str) -> None:
    filters = FILTERS["everything"]
    for question in QUESTIONS:
        sqlite = _search(sqlite_searcher, question, mode=mode, top_k=5, filters=filters)
        milvus = _search(milvus_searcher, question, mode=mode, top_k=5, filters=filters)
        by_id = {hit.segment_id: hit.as_dict() for hit in milvus.hits}
        for hit in sqlite.hits:
            if hit.segment_id not in by_id:
                continue  # ranked differently (the top three are compared above)
            other = by_id[hit.segment_id]
            for field, value in hit.as_dict().items():
                if field not in SCORE_FIELDS and field not in ("rank", "same_text_as"):
                    assert other[field] == value, (question, hit.segment_id, field)
            if hit.scores["dense"] is not None:
                assert other["scores"]["dense"] == pytest.approx(hit.scores["dense"], abs=1e-5)
        assert milvus.terms == sqlite.terms
        assert milvus.generation == sqlite.generation


def test_bm25_scores_are_positive_whatever_sign_the_server_gives(milvus_searcher: Any) -> None:
    # Milvus Lite 3.x returns BM25 distances negated, a server positive: both read as the score
    raw = milvus_searcher.client.search(milvus_searcher.collection, data=[terms_text(["住房公积金"])], anns_field="sparse",
                                        limit=3, search_params={"metric_type": "BM25"})[0]
    assert raw and all(bm25_score(hit["distance"]) == abs(hit["distance"]) > 0 for hit in raw)
    assert bm25_score(-2.5) == bm25_score(2.5) == 2.5
    result = _search(milvus_searcher, "住房公积金", mode="bm25", top_k=5)
    scores = [hit.scores["bm25"] for hit in result.hits]
    assert all(score > 0 for score in scores) and scores == sorted(scores, reverse=True)


def test_bm25_statistics_do_not_follow_the_filter(milvus_searcher: Any) -> None:
    # rows left in Milvus Lite's memtable get IDF over the filtered rows only; publishing
    # flushes, so a passage scores the same whatever else the filter keeps
    wide = _search(milvus_searcher, "住房公积金", mode="bm25", top_k=5, filters=FILTERS["everything"])
    narrow = _search(milvus_searcher, "住房公积金", mode="bm25", top_k=5,
                     filters=SearchFilters.from_options(doc_ids=["housing-fund"], include_expired=True))
    scores = {hit.segment_id: hit.scores["bm25"] for hit in wide.hits}
    assert narrow.hits and all(hit.scores["bm25"] == pytest.approx(scores[hit.segment_id])
                               for hit in narrow.hits if hit.segment_id in scores)


@pytest.mark.parametrize("term", ["住房公积金", "COVID-19", "a_b", "〔2019〕", "Ⅱ类", "e\u0301", "ÄÖ", "x y"[0]])
def test_a_term_is_one_unchanged_token_for_the_whitespace_and_the_standard_analyzer(term: str) -> None:
    text = term_for_analyzer(term)
    assert text.split() == [text]
    assert re.findall(r"\w+", text.lower(), re.UNICODE) == [text]  # Milvus Lite's standard analyzer


def test_escaping_never_merges_two_terms() -> None:
    terms = ["a_b", "a-b", "ab", "AB", "a_2d_b", "_"]
    assert len({term_for_analyzer(term) for term in terms}) == len(terms)


def test_department_and_place_filters_are_expressions_over_their_fields() -> None:
    expression = filter_expression(SearchFilters(departments=("住房公积金管理中心",), places=("全国", "常熟市")), 20200101)
    assert expression.endswith(' and jurisdiction in ["national", "常熟市"] '
                               'and array_contains_any(department_list, ["住房公积金管理中心"])')


def test_filter_expression_reads_like_the_sqlite_mask() -> None:
    expression = filter_expression(SearchFilters(doc_ids=('a"b',), statuses=("in_force", "expired")), 20200101,
                                   ["江苏省"])
    assert expression == ('((effective <= 20200101 and expires >= 20200101 and superseded_from > 20200101) '
                          'or status in ["expired"]) and doc_id in ["a\\"b"] and jurisdiction not in ["江苏省"]')


def test_a_reader_sees_the_old_or_the_new_collection_during_a_publication(tmp_path: Any, policy_documents: Any,
                                                                         milvus_uri: str) -> None:
    from kb.milvus import open_searcher, publish
    from tests.backends.conftest import contract_documents, new_kb

    knowledge_base = new_kb(tmp_path / "kb", contract_documents(policy_documents))
    first = publish(knowledge_base, milvus_uri)
    searcher = open_searcher(knowledge_base, first.backend_record())
    before = _ids(_search(searcher, "住房公积金", mode="bm25", top_k=3))
    seen: list[tuple[str, list[str]]] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                result = _search(searcher, "住房公积金", mode="bm25", top_k=3)
                seen.append((result.generation, _ids(result)))
            except BaseException as error:  # noqa: B036 - reported below
                errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        second = publish(knowledge_base, milvus_uri)
    finally:
        done.set()
        reader.join()
    assert not errors
    assert seen and all(ids == before for _, ids in seen)  # same generation: the same answer, never empty
    assert second.dropped == (first.collection,)
    names = [n for n in searcher.client.list_collections() if n.startswith(second.alias + "__")]
    assert names == [second.collection]


def test_a_deleted_document_leaves_milvus_at_the_next_publication(tmp_path: Any, policy_documents: Any,
                                                                 milvus_uri: str) -> None:
    from kb.milvus import open_searcher, publish

    from tests.backends.conftest import contract_documents, new_kb

    knowledge_base = new_kb(tmp_path / "kb", contract_documents(policy_documents))
    record = publish(knowledge_base, milvus_uri).backend_record()
    searcher = open_searcher(knowledge_base, record)
    assert "business" in {h.doc_id for h in _search(searcher, "个体工商户 登记", mode="bm25", top_k=10).hits}
    knowledge_base.delete_document("business")
    knowledge_base.build()
    publication = publish(knowledge_base, milvus_uri)
    assert publication.backend_record() == record  # the same alias, now naming the new collection
    # a searcher opened before the publication reads the new collection through the alias
    result = _search(searcher, "个体工商户 登记", mode="hybrid", top_k=10)
    assert "business" not in {h.doc_id for h in result.hits}
    # and one opened after it names the generation that answered
    fresh = _search(open_searcher(knowledge_base, record), "个体工商户 登记", mode="hybrid", top_k=10)
    assert _ids(fresh) == _ids(result)
    assert fresh.generation == publication.generation == knowledge_base.searcher.index.generation
