"""Re-ordering the first candidates by the pretrained sentence encoder (on by default)."""

from __future__ import annotations


import numpy as np
import pytest

from kb import KnowledgeBase
from kb.pretrained import ENVIRONMENT
from kb.rerank import DEFAULT_RERANK, PASSAGE_HEAD, encoder_name, passage_head
from kb.search import SearchSettings
from kb.sentence_encoder import load_sentence_encoder
from tests.conftest import make_document, pretrained_files_or_skip

QUESTION = "老板三个月没发工资了我能直接走人吗"


def _encoder_or_skip():
    files = pretrained_files_or_skip()
    return load_sentence_encoder(files), encoder_name(files)


def test_reranking_is_on_by_default() -> None:
    assert SearchSettings().rerank == DEFAULT_RERANK > 0


def test_reranking_reorders_only_the_head_and_keeps_it_above_the_tail(own_kb: KnowledgeBase) -> None:
    _encoder_or_skip()
    own_kb.configure_search(rerank=0)
    plain = own_kb.search(QUESTION, top_k=10)
    own_kb.configure_search(rerank=4, head_candidates=0, neighbour_candidates=0)
    reranked = own_kb.search(QUESTION, top_k=10)
    assert reranked.degraded is None
    assert {h.segment_id for h in reranked.hits[:4]} == {h.segment_id for h in plain.hits[:4]}
    assert [h.segment_id for h in reranked.hits[4:]] == [h.segment_id for h in plain.hits[4:]]
    scores = [h.score for h in reranked.hits]
    assert scores == sorted(scores, reverse=True)
    # with the head scan (kb.head_scan) the ranker also orders the passages the scan adds: the
    # first four come from the head and those; the rest keep the fused order without them
    own_kb.configure_search(head_candidates=3)
    candidates = own_kb.searcher.candidates(QUESTION)
    assert candidates is not None
    scanned = set(candidates.segment_ids[4:])
    with_scan = own_kb.search(QUESTION, top_k=10)
    assert {h.segment_id for h in with_scan.hits[:4]} <= {h.segment_id for h in plain.hits[:4]} | scanned
    rest = [h.segment_id for h in with_scan.hits if h.segment_id not in set(candidates.segment_ids)]
    assert rest == [h.segment_id for h in plain.hits if h.segment_id not in set(candidates.segment_ids)][:len(rest)]
    scores = [h.score for h in with_scan.hits]
    assert scores == sorted(scores, reverse=True)


def test_the_build_stores_every_passage_heads_vector_as_the_encoder_makes_it(own_kb: KnowledgeBase) -> None:
    encoder, name = _encoder_or_skip()
    store = own_kb.store
    assert store.segments_without_head_vector(name, PASSAGE_HEAD) == []
    segments = list(store.segments_by_ids(list(own_kb.searcher.index.segment_ids)).values())
    stored = store.head_vectors(name, [seg["segment_id"] for seg in segments], encoder.dim)
    assert set(stored) == {seg["segment_id"] for seg in segments}
    sample = segments[:3]
    titles = {doc["doc_id"]: doc["title"] for doc in store.documents_by_ids(s["doc_id"] for s in sample).values()}
    fresh = encoder.encode([passage_head(titles[s["doc_id"]], s["text"]) for s in sample])
    for seg, vector in zip(sample, fresh):
        assert float(np.dot(stored[seg["segment_id"]], vector)) > 0.999


def test_a_rebuild_encodes_only_the_passages_that_changed(own_kb: KnowledgeBase) -> None:
    _encoder_or_skip()
    assert own_kb.prepare_reranking()["encoded"] == 0
    own_kb.add_documents([make_document("leave", "职工带薪年休假条例", [
        "职工连续工作1年以上的，享受带薪年休假。", "单位确因工作需要不能安排职工休年休假的，应当支付年休假工资报酬。"])])
    manifest = own_kb.build(incremental=True)
    assert manifest["head_vectors"]["encoded"] == 2
    assert own_kb.prepare_reranking()["encoded"] == 0


def test_a_search_reads_stored_vectors_instead_of_encoding_passages(own_kb: KnowledgeBase, monkeypatch) -> None:
    encoder, _name = _encoder_or_skip()
    searcher = own_kb.searcher
    reranker = searcher.reranker
    assert reranker is not None
    encoded: list[int] = []
    original = type(encoder).encode

    def counting(self, texts, **kwargs):
        encoded.append(len(texts))
        return original(self, texts, **kwargs)

    monkeypatch.setattr(type(encoder), "encode", counting)
    result = own_kb.search(QUESTION, top_k=5)
    assert result.hits and result.degraded is None
    assert encoded == [1]  # the question alone


def test_reranking_without_the_encoder_answers_and_says_it_is_degraded(own_kb: KnowledgeBase, monkeypatch) -> None:
    own_kb.configure_search(rerank=0)
    plain = own_kb.search(QUESTION, top_k=5)
    monkeypatch.setenv(ENVIRONMENT, "off")
    own_kb.configure_search(rerank=4)
    result = own_kb.search(QUESTION, top_k=5)
    assert result.degraded == "pretrained_encoder_unavailable"
    assert [h.segment_id for h in result.hits] == [h.segment_id for h in plain.hits]
    assert "unavailable" in own_kb.prepare_reranking()


def test_settings_never_set_follow_the_running_versions_defaults(own_kb: KnowledgeBase) -> None:
    import json

    from kb.knowledge_base import SEARCH_SETTINGS_KEY

    own_kb.configure_search(place=("常熟市",), rerank=5)
    own_kb.configure_search(foreign_weight=0.3)
    assert json.loads(own_kb.store.meta(SEARCH_SETTINGS_KEY)) == {"place": ["常熟市"], "rerank": 5,
                                                                   "foreign_weight": 0.3}
    own_kb.configure_search(rerank=DEFAULT_RERANK)
    assert own_kb.search_settings == SearchSettings(place=("常熟市",), foreign_weight=0.3)
    with pytest.raises(ValueError, match="unknown search setting"):
        own_kb.configure_search(colour="red")


def test_reciprocal_rank_fusion_is_left_as_it_is(own_kb: KnowledgeBase) -> None:
    _encoder_or_skip()
    own_kb.configure_search(rerank=0)
    plain = own_kb.search(QUESTION, top_k=10, fusion="rrf")
    own_kb.configure_search(rerank=10)
    assert [h.segment_id for h in own_kb.search(QUESTION, top_k=10, fusion="rrf").hits] == \
        [h.segment_id for h in plain.hits]
    weighted = own_kb.search(QUESTION, top_k=10)
    assert weighted.degraded is None
