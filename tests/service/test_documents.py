"""GET /v1/documents, /v1/documents/{doc_id}, /v1/segments/{segment_id}: listing and lookups
with ids that hold ``#``, ``:`` and Chinese, sent URL-encoded."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from kb import Document

ZHENGWU = "changshu-2019-zhengwu-gongkai-yaodian"
SOCIAL_INSURANCE = "lawrefbook:24e933d71ff9"
ELDERLY = "常熟市-2021-高龄津贴"


def test_listing_returns_every_document_sorted_with_a_total(client: TestClient, documents: list[Document]) -> None:
    page = client.get("/v1/documents").json()
    assert page["limit"] == 100 and page["offset"] == 0
    assert page["total"] == len(documents)
    assert [d["doc_id"] for d in page["documents"]] == sorted(d.doc_id for d in documents)
    listed = {d["doc_id"]: d for d in page["documents"]}
    source = {d.doc_id: d for d in documents}
    for doc_id, row in listed.items():
        assert set(row) == {"doc_id", "title", "doc_number", "issuer", "date", "status", "source", "segment_count"}
        assert row["title"] == source[doc_id].title
        assert row["status"] == source[doc_id].status
        assert row["segment_count"] == len(source[doc_id].segments)
        assert "text" not in row


def test_pages_cover_the_listing_without_overlap(client: TestClient, documents: list[Document]) -> None:
    everything = [d["doc_id"] for d in client.get("/v1/documents").json()["documents"]]
    pages = []
    for offset in range(0, len(documents), 4):
        page = client.get("/v1/documents", params={"limit": 4, "offset": offset}).json()
        assert page["limit"] == 4 and page["offset"] == offset and page["total"] == len(documents)
        assert len(page["documents"]) <= 4
        pages += [d["doc_id"] for d in page["documents"]]
    assert pages == everything
    beyond = client.get("/v1/documents", params={"offset": 10_000}).json()
    assert beyond["documents"] == [] and beyond["total"] == len(documents)


@pytest.mark.parametrize("query", [
    "limit=0", "limit=-1", "limit=501", "limit=abc", "limit=true", "offset=-1", "offset=abc",
    "offset=1000000000000", "limit=99999999999999999999999",
])
def test_bad_pagination(client: TestClient, query: str) -> None:
    response = client.get(f"/v1/documents?{query}")
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "pagination_invalid"


@pytest.mark.parametrize("doc_id", [ZHENGWU, SOCIAL_INSURANCE, ELDERLY])
def test_a_document_with_its_segments(client: TestClient, documents: list[Document], doc_id: str) -> None:
    response = client.get(f"/v1/documents/{quote(doc_id, safe='')}")
    assert response.status_code == 200, response.text
    detail = response.json()
    source = next(d for d in documents if d.doc_id == doc_id)
    assert detail["doc_id"] == doc_id
    assert detail["title"] == source.title
    assert detail["doc_number"] == source.doc_number
    assert detail["issuer"] == source.issuer
    assert detail["date"] == source.date
    assert detail["status"] == source.status
    assert detail["metadata"] == source.metadata
    assert detail["text"] == source.text
    assert [s["segment_id"] for s in detail["segments"]] == [source.segment_id(s) for s in source.segments]
    for segment, original in zip(detail["segments"], source.segments, strict=True):
        assert set(segment) == {"segment_id", "locator", "section_path", "departments", "start", "end", "text"}
        assert segment["locator"] == original.locator
        assert segment["section_path"] == list(original.section_path)
        assert segment["departments"] == list(original.departments)
        assert detail["text"][segment["start"]:segment["end"]] == segment["text"] == original.text


def test_a_chinese_document_id_unencoded_by_the_client(client: TestClient) -> None:
    """httpx percent-encodes the Chinese itself; the route must decode it back."""
    assert client.get(f"/v1/documents/{ELDERLY}").json()["doc_id"] == ELDERLY


@pytest.mark.parametrize(("path", "segment_id", "doc_id"), [
    (f"/v1/segments/{ZHENGWU}%23s3.4", f"{ZHENGWU}#s3.4", ZHENGWU),
    ("/v1/segments/lawrefbook:24e933d71ff9%23a54", f"{SOCIAL_INSURANCE}#a54", SOCIAL_INSURANCE),
    ("/v1/segments/lawrefbook%3A24e933d71ff9%23a54", f"{SOCIAL_INSURANCE}#a54", SOCIAL_INSURANCE),
    (f"/v1/segments/{quote(ELDERLY + '#a5', safe='')}", f"{ELDERLY}#a5", ELDERLY),
])
def test_a_segment_with_its_citation(client: TestClient, documents: list[Document], path: str, segment_id: str,
                                     doc_id: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text
    segment = response.json()
    source = next(d for d in documents if d.doc_id == doc_id)
    original = next(s for s in source.segments if source.segment_id(s) == segment_id)
    assert segment["segment_id"] == segment_id
    assert segment["doc_id"] == doc_id
    assert segment["text"] == original.text
    assert (segment["start"], segment["end"]) == (original.start, original.end)
    assert segment["locator"] == original.locator
    assert segment["departments"] == list(original.departments)
    assert segment["section_path"] == list(original.section_path)
    assert segment["title"] == source.title
    assert segment["doc_number"] == source.doc_number
    assert segment["status"] == source.status


def test_an_expired_documents_segment_says_so(client: TestClient) -> None:
    segment = client.get("/v1/segments/suzhou-2015-gongjijin-tiqu%23a3").json()
    assert segment["status"] == "expired"
    assert segment["departments"] == ["住房公积金管理中心"]


@pytest.mark.parametrize("path", [
    "/v1/documents/no-such-document",
    "/v1/documents/" + quote("不存在的文件", safe=""),
    f"/v1/documents/{ZHENGWU}%23s3.4",  # a segment id is not a document id
    "/v1/documents/%FF%FE",
    "/v1/documents/" + "x" * 5000,
    f"/v1/segments/{ZHENGWU}%23s9.9",
    f"/v1/segments/{ZHENGWU}",  # a document id is not a segment id
    "/v1/segments/%23",
    "/v1/segments/' OR 1=1 --",
])
def test_unknown_ids_are_404_not_found(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"
    assert "Traceback" not in response.text


def test_an_unencoded_hash_is_cut_off_and_misses_rather_than_finding_another_passage(client: TestClient) -> None:
    """A client that forgets to encode ``#`` sends only the document id (the rest is a URL
    fragment): the answer is a clean 404, not some other segment."""
    response = client.get(f"/v1/segments/{ZHENGWU}#s3.4")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
