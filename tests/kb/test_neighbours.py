"""The first candidates bring their neighbouring passages to the ranker."""

from __future__ import annotations

import numpy as np

from kb import KnowledgeBase
from kb.search import NEIGHBOUR_SPAN
from tests.conftest import make_document, pretrained_files_or_skip

QUESTION = "政府信息公开申请多长时间答复"


def _reading(knowledge_base: KnowledgeBase, segment_id: str) -> list[str]:
    """The passages of ``segment_id``'s document in their order, from the store."""
    doc_id = knowledge_base.searcher.index.doc_ids[knowledge_base.searcher.index.segment_ids.index(segment_id)]
    return [segment["segment_id"] for segment in knowledge_base.segments_of(doc_id)]


def _around(knowledge_base: KnowledgeBase, segment_id: str) -> set[str]:
    """The passages within NEIGHBOUR_SPAN of ``segment_id`` in its document's order."""
    reading = _reading(knowledge_base, segment_id)
    at = reading.index(segment_id)
    return {reading[j] for j in range(max(at - NEIGHBOUR_SPAN, 0), at + NEIGHBOUR_SPAN + 1)
            if j < len(reading) and j != at}


def test_the_first_candidates_bring_their_neighbours_in_their_document(own_kb: KnowledgeBase) -> None:
    pretrained_files_or_skip()
    own_kb.configure_search(rerank=2, head_candidates=0, neighbour_candidates=1)
    candidates = own_kb.searcher.candidates(QUESTION)
    assert candidates is not None
    first, second = candidates.segment_ids[:2]
    added = set(candidates.segment_ids[2:])
    expected = _around(own_kb, first) - {second}
    assert expected, "the first candidate has neighbours in its document"
    assert added == expected
    # each joins with its fused score, below none of the rules: ordered hits keep their scale
    scores = [hit.score for hit in own_kb.search(QUESTION, top_k=10).hits]
    assert scores == sorted(scores, reverse=True)

    own_kb.configure_search(neighbour_candidates=0)
    assert len(own_kb.searcher.candidates(QUESTION).segment_ids) == 2


def test_neighbours_follow_the_documents_order_keep_to_the_filter_and_come_once(own_kb: KnowledgeBase) -> None:
    # twelve articles: in id order "#a10" sorts before "#a2", in the document it comes after "#a9"
    own_kb.add_documents([make_document("long-rules", "物业管理办法", [f"物业服务事项之{i}。" for i in range(12)])])
    own_kb.build()
    searcher = own_kb.searcher
    ids = searcher.index.segment_ids
    position = {segment_id: i for i, segment_id in enumerate(ids)}
    reading = [segment["segment_id"] for segment in own_kb.segments_of("long-rules")]
    assert reading[9:11] == ["long-rules#a10", "long-rules#a11"]
    assert [ids[j] for j in searcher.neighbours(["long-rules#a10"], set(), np.ones(len(ids)))] == \
        ["long-rules#a9", "long-rules#a11", "long-rules#a8", "long-rules#a12"]
    middle = reading[5]
    everything = np.ones(len(ids))
    found = [ids[j] for j in searcher.neighbours([middle], set(), everything)]
    assert found == [reading[4], reading[6], reading[3], reading[7]]  # nearest first
    assert searcher.neighbours([middle], {reading[4]}, everything) == [position[s] for s in (reading[6], reading[3], reading[7])]
    only_after = everything.copy()
    only_after[[position[s] for s in reading[:6]]] = 0
    assert searcher.neighbours([middle], set(), only_after) == [position[reading[6]], position[reading[7]]]
    # the first passage of a document has none before it; a passage comes once, and not where listed
    assert [ids[j] for j in searcher.neighbours([reading[0], reading[1]], {reading[0], reading[1]}, everything)] == \
        [reading[2], reading[3]]
    assert searcher.neighbours(["not-indexed#1"], set(), everything) == []
    own_kb.configure_search(neighbour_candidates=0)
    assert own_kb.searcher.neighbours([middle], set(), everything) == []


def test_a_document_deleted_since_the_build_offers_no_neighbours_and_breaks_nothing(own_kb: KnowledgeBase) -> None:
    own_kb.add_documents([make_document("old-rules", "旧办法", [f"旧办法事项之{i}。" for i in range(5)])])
    own_kb.build()
    own_kb.delete_document("old-rules")  # it leaves search at the next build; the index still lists it
    searcher = own_kb.searcher
    ids = searcher.index.segment_ids
    assert "old-rules#a3" in ids
    assert searcher.neighbours(["old-rules#a3"], set(), np.ones(len(ids))) == []
    scores = [hit.score for hit in own_kb.search("旧办法事项之三", top_k=10).hits]  # answers, in order
    assert scores == sorted(scores, reverse=True)
