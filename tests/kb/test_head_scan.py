"""The adapted encoder's scan of every passage head adds candidates the retrievers missed."""

from __future__ import annotations

import numpy as np
import pytest

from kb import KnowledgeBase, QueryAdapter, SearchFilters
from kb.head_scan import SCAN_FILE, HeadScan
from kb.query_adapter import bundled_adapter
from kb.rerank import encoder_name
from kb.search import kept_below
from tests.conftest import pretrained_files_or_skip

QUESTION = "老板三个月没发工资了我能直接走人吗"


def _adapter_or_skip() -> QueryAdapter:
    adapter = bundled_adapter(encoder_name(pretrained_files_or_skip()))
    assert adapter is not None and adapter.basis is not None  # shipped with its scan basis
    return adapter


def test_no_later_score_stays_above_the_reordered_head() -> None:
    ranked = [("a", 0.9), ("b", 0.5), ("c", 0.2), ("d", 0.7), ("e", 0.1)]
    assert kept_below(ranked, 3) == [("a", 0.9), ("b", 0.5), ("c", 0.2), ("d", 0.2), ("e", 0.1)]
    assert kept_below(ranked, 0) == ranked and kept_below(ranked, 5) == ranked


def test_the_build_makes_the_scan_and_it_offers_what_the_head_lacks(own_kb: KnowledgeBase) -> None:
    adapter = _adapter_or_skip()
    made = own_kb.prepare_reranking()
    assert made["scanned"] == len(own_kb.searcher.index.segment_ids)
    assert (own_kb.kb_dir / SCAN_FILE).is_file()
    # a head of two: the scan adds up to three passages the fused list ranked lower (the
    # neighbours of the first candidates, which join them too, are left out here)
    own_kb.configure_search(rerank=2, head_candidates=3, neighbour_candidates=0)
    searcher = own_kb.searcher
    candidates = searcher.candidates(QUESTION)
    assert candidates is not None
    added = list(candidates.segment_ids[2:])
    assert 1 <= len(added) <= 3 and not set(added) & set(candidates.segment_ids[:2])
    # they are the passages the adapted encoder rates best outside the head
    vector = adapter.apply(QUESTION, searcher.reranker.question_vectors([QUESTION])[0])
    heads = searcher.reranker.passage_vectors(searcher.index.segment_ids, searcher._passage_heads) @ vector
    order = [searcher.index.segment_ids[i] for i in np.argsort(-heads, kind="stable")]
    best_outside = [sid for sid in order if sid not in candidates.segment_ids[:2]][:3]
    assert set(added) <= set(best_outside)
    hits = own_kb.search(QUESTION, top_k=20).hits
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    own_kb.configure_search(head_candidates=0)
    assert len(own_kb.searcher.candidates(QUESTION).segment_ids) == 2


def test_the_scan_keeps_to_the_filter(own_kb: KnowledgeBase) -> None:
    _adapter_or_skip()
    own_kb.prepare_reranking()
    own_kb.configure_search(rerank=2, head_candidates=5)
    searcher = own_kb.searcher
    documents = sorted(set(searcher.index.doc_ids))[:2]
    allowed = searcher._weight_for(SearchFilters(doc_ids=tuple(documents)), QUESTION)[1]
    positions = searcher.scanned(QUESTION, set(), allowed)
    assert positions and {searcher.index.doc_ids[i] for i in positions} <= set(documents)


def test_the_scan_reads_the_same_rows_in_any_order_of_the_passages(own_kb: KnowledgeBase) -> None:
    adapter = _adapter_or_skip()
    own_kb.prepare_reranking()
    ids = list(own_kb.searcher.index.segment_ids)
    in_order = HeadScan.load(own_kb.kb_dir, ids, adapter)  # the build's own order: read as it is
    reordered = HeadScan.load(own_kb.kb_dir, [*reversed(ids), "not-indexed#1"], adapter)
    assert in_order is not None and reordered is not None
    assert reordered.projected[:-1] == pytest.approx(in_order.projected[::-1])
    assert not reordered.projected[-1].any()  # a passage without a head is never offered


def test_a_scan_made_for_another_basis_or_missing_is_not_read(own_kb: KnowledgeBase) -> None:
    adapter = _adapter_or_skip()
    own_kb.prepare_reranking()
    ids = own_kb.searcher.index.segment_ids
    assert HeadScan.load(own_kb.kb_dir, ids, adapter) is not None
    other = QueryAdapter(adapter.matrix, adapter.encoder, adapter.basis[:, ::-1].copy())
    assert HeadScan.load(own_kb.kb_dir, ids, other) is None
    assert HeadScan.load(own_kb.kb_dir, ids, QueryAdapter(adapter.matrix, adapter.encoder)) is None
    (own_kb.kb_dir / SCAN_FILE).write_bytes(b"not a scan")
    assert HeadScan.load(own_kb.kb_dir, ids, adapter) is None
    (own_kb.kb_dir / SCAN_FILE).unlink()
    assert HeadScan.load(own_kb.kb_dir, ids, adapter) is None
    # without a scan the search answers from the fused list alone (here without its neighbours)
    fresh = KnowledgeBase(own_kb.kb_dir)
    fresh.configure_search(rerank=2, head_candidates=5, neighbour_candidates=0)
    assert len(fresh.searcher.candidates(QUESTION).segment_ids) == 2
    assert fresh.search(QUESTION, top_k=5).hits
    fresh.close()


def test_with_the_scan_off_its_file_is_never_read(own_kb: KnowledgeBase) -> None:
    _adapter_or_skip()
    own_kb.configure_search(head_candidates=0)
    searcher = own_kb.searcher
    searcher.prepare()
    assert own_kb.search(QUESTION, top_k=5).hits
    assert "_head_scan" not in vars(searcher)  # 87 MB over the full corpus, not held for nothing
