"""Optional re-ordering of the first candidates by the pretrained sentence encoder."""

from __future__ import annotations

import shutil

import pytest

from kb import KnowledgeBase
from kb.pretrained import ENVIRONMENT, find_pretrained

QUESTION = "老板三个月没发工资了我能直接走人吗"


@pytest.fixture()
def own_kb(built_kb: KnowledgeBase, tmp_path):
    """A copy of the shared knowledge base whose search settings this test may change."""
    copy = tmp_path / "kb"
    shutil.copytree(built_kb.kb_dir, copy)
    knowledge_base = KnowledgeBase(copy)
    yield knowledge_base
    knowledge_base.close()


def test_reranking_reorders_only_the_head_and_keeps_it_above_the_tail(own_kb: KnowledgeBase) -> None:
    if find_pretrained().files is None:
        pytest.skip(f"pretrained resources absent: {find_pretrained().reason}")
    plain = own_kb.search(QUESTION, top_k=10)
    own_kb.configure_search(rerank=4)
    reranked = own_kb.search(QUESTION, top_k=10)
    assert reranked.degraded is None
    assert {h.segment_id for h in reranked.hits[:4]} == {h.segment_id for h in plain.hits[:4]}
    assert [h.segment_id for h in reranked.hits[4:]] == [h.segment_id for h in plain.hits[4:]]
    scores = [h.score for h in reranked.hits]
    assert scores == sorted(scores, reverse=True)


def test_reranking_without_the_encoder_answers_and_says_it_is_degraded(own_kb: KnowledgeBase, monkeypatch) -> None:
    monkeypatch.setenv(ENVIRONMENT, "off")
    plain = own_kb.search(QUESTION, top_k=5)
    own_kb.configure_search(rerank=4)
    result = own_kb.search(QUESTION, top_k=5)
    assert result.degraded == "pretrained_encoder_unavailable"
    assert [h.segment_id for h in result.hits] == [h.segment_id for h in plain.hits]
