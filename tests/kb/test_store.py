"""The SQLite store: atomic documents, no duplicates, deletion, and the index that follows it."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from kb import DocumentNotFound, IndexNotBuilt, KnowledgeBase, KnowledgeBaseNotFound, SegmentNotFound
from tests.conftest import make_document


def test_opening_a_missing_kb_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(KnowledgeBaseNotFound, match="ingest"):
        KnowledgeBase(tmp_path / "nothing")


def test_search_before_build_is_a_clear_error(tmp_path, policy_documents) -> None:
    knowledge_base = KnowledgeBase(tmp_path, create=True)
    knowledge_base.add_documents(policy_documents[:2])
    with pytest.raises(IndexNotBuilt, match="policykb build"):
        knowledge_base.search("公积金")


def test_re_adding_is_idempotent_and_copies_are_duplicates(tmp_path, policy_documents) -> None:
    knowledge_base = KnowledgeBase(tmp_path, create=True)
    first = knowledge_base.add_documents(policy_documents)
    assert {r.outcome for r in first} == {"added"}
    counts = knowledge_base.store.counts()
    again = knowledge_base.add_documents(policy_documents)
    assert {r.outcome for r in again} == {"unchanged"}
    copy = replace(policy_documents[0], doc_id="copy-under-another-name")
    [result] = knowledge_base.add_documents([copy])
    assert result.outcome == "duplicate" and result.same_as == policy_documents[0].doc_id
    assert knowledge_base.store.counts() == counts
    # the duplicate's id still finds the document it duplicates
    assert knowledge_base.canonical_id("copy-under-another-name") == policy_documents[0].doc_id
    assert knowledge_base.document("copy-under-another-name")["doc_id"] == policy_documents[0].doc_id


def test_a_changed_document_replaces_its_segments(tmp_path) -> None:
    knowledge_base = KnowledgeBase(tmp_path, create=True)
    knowledge_base.add_documents([make_document("d", "办法", ["第一段内容。", "第二段内容。", "第三段内容。"])])
    [result] = knowledge_base.add_documents([make_document("d", "办法", ["只剩一条新的内容。"])])
    assert result.outcome == "updated"
    assert [s["locator"] for s in knowledge_base.segments_of("d")] == ["第一条"]
    assert knowledge_base.store.counts() == {"documents": 1, "segments": 1}


def test_a_failing_document_leaves_nothing_behind(tmp_path, policy_documents) -> None:
    knowledge_base = KnowledgeBase(tmp_path, create=True)
    knowledge_base.add_documents(policy_documents[:1])
    before = knowledge_base.store.counts()
    doc = policy_documents[1]
    broken = replace(doc, segments=(doc.segments[0], doc.segments[0]))  # same segment id twice
    with pytest.raises(sqlite3.IntegrityError):
        knowledge_base.add_documents([broken])
    assert knowledge_base.store.counts() == before
    with pytest.raises(DocumentNotFound):
        knowledge_base.document(doc.doc_id)


def test_deleted_documents_leave_search_after_build(tmp_path, policy_documents) -> None:
    knowledge_base = KnowledgeBase(tmp_path, create=True)
    knowledge_base.add_documents(policy_documents)
    knowledge_base.build()
    assert knowledge_base.search("公积金提取").hits[0].doc_id == "housing-fund"
    knowledge_base.delete_document("housing-fund")
    assert knowledge_base.is_stale()
    knowledge_base.build()
    assert all(h.doc_id != "housing-fund" for h in knowledge_base.search("公积金提取", top_k=10).hits)
    with pytest.raises(SegmentNotFound):
        knowledge_base.segment("housing-fund#a1")
    with pytest.raises(DocumentNotFound):
        knowledge_base.delete_document("housing-fund")


def test_a_changed_tokenizer_retokenises_stored_terms_on_build(tmp_path, policy_documents) -> None:
    knowledge_base = KnowledgeBase(tmp_path, create=True)
    knowledge_base.add_documents(policy_documents)
    knowledge_base.build()
    knowledge_base.store.set_meta("terms_fingerprint", "an-older-tokenizer")
    knowledge_base.store.update_terms([("housing-fund#a1", "")])  # as if tokenised differently
    knowledge_base.build()
    assert knowledge_base.store.meta("terms_fingerprint") == knowledge_base.tokenizer.fingerprint
    assert knowledge_base.search("公积金提取", mode="bm25").hits[0].segment_id == "housing-fund#a1"


def test_a_missing_embedding_model_degrades_to_bm25_instead_of_failing(tmp_path, policy_documents) -> None:
    import shutil

    knowledge_base = KnowledgeBase(tmp_path, create=True)
    knowledge_base.add_documents(policy_documents)
    manifest = knowledge_base.build()
    shutil.rmtree(tmp_path / manifest["embedding"]["model"])  # the generation's own snapshot
    shutil.rmtree(tmp_path / "models" / "kb-static")
    reopened = KnowledgeBase(tmp_path)
    result = reopened.search("公积金提取")
    assert result.degraded == "embedding_model_unavailable" and result.mode == "bm25"
    assert result.hits[0].doc_id == "housing-fund"
    reopened.build()  # a rebuild trains the model again and leaves degraded mode
    assert reopened.search("公积金提取").degraded is None


def test_the_same_text_cut_differently_is_stored_again(tmp_path) -> None:
    from dataclasses import replace as change

    knowledge_base = KnowledgeBase(tmp_path, create=True)
    document = make_document("d", "办法", ["第一段内容。", "第二段内容。"])
    knowledge_base.add_documents([document])
    merged = change(document, segments=(change(document.segments[0], end=document.segments[1].end,
                                                text=document.text[: document.segments[1].end]),))
    [result] = knowledge_base.add_documents([merged])
    assert result.outcome == "updated" and len(knowledge_base.segments_of("d")) == 1
    [again] = knowledge_base.add_documents([merged])
    assert again.outcome == "unchanged"
