"""Confirmed (question, passage) pairs teach the knowledge-base embedding model."""

from __future__ import annotations

import pytest

from kb import KnowledgeBase


def test_pairs_are_stored_and_the_model_is_retrained_on_them(tmp_path, policy_documents) -> None:
    knowledge_base = KnowledgeBase(tmp_path, create=True)
    knowledge_base.add_documents(policy_documents)
    first = knowledge_base.build()
    assert first["embedding"]["supervised"] == 0
    counts = knowledge_base.add_training_pairs(
        [("退休金要交几年社保才能拿", "social-insurance#a1"),
         ("辞职了每个月能领多少钱", "unemployment#a1"),
         ("开小店要去哪里办手续", "business#a2"),
         ("问题", "no-such#a9"),
         ("   ", "business#a1")],
        source="analyst-feedback",
    )
    assert counts == {"added": 3, "unknown_segment": 1, "invalid": 1}
    second = knowledge_base.build()
    assert second["embedding"]["supervised"] == 3
    assert second["embedding"]["model_id"] != first["embedding"]["model_id"]
    third = knowledge_base.build()  # nothing changed: the model is reused, vectors come from the cache
    assert third["embedding"]["model_id"] == second["embedding"]["model_id"]
    hits = knowledge_base.search("退休金要交几年社保才能拿", top_k=3).hits
    assert hits[0].segment_id == "social-insurance#a1"


def test_documents_with_confirmed_answers_get_a_small_prior(tmp_path, policy_documents) -> None:
    import math

    knowledge_base = KnowledgeBase(tmp_path, create=True)
    knowledge_base.add_documents(policy_documents)
    knowledge_base.add_training_pairs([("辞职了每个月能领多少钱", "unemployment#a1"),
                                       ("失业金怎么领", "unemployment#a2")], source="test")
    knowledge_base.build()
    searcher = knowledge_base.searcher
    prior = dict(zip(searcher.index.segment_ids, searcher._prior.tolist()))
    assert prior["unemployment#a1"] / prior["labour#a1"] == pytest.approx(1 + 0.1 * math.log1p(2), rel=1e-5)


def test_a_kept_generation_keeps_its_own_model_and_can_be_served_again(tmp_path, policy_documents) -> None:
    """After a retrain, pointing CURRENT back at the kept generation must serve it whole:
    its vectors with the model that made them, not BM25 alone."""
    from kb.index import POINTER

    knowledge_base = KnowledgeBase(tmp_path, create=True)
    knowledge_base.add_documents(policy_documents)
    first = knowledge_base.build()
    knowledge_base.add_training_pairs([("退休金要交几年社保才能拿", "social-insurance#a1"),
                                       ("辞职了每个月能领多少钱", "unemployment#a1")], source="feedback")
    second = knowledge_base.build()
    assert second["embedding"]["model_id"] != first["embedding"]["model_id"]
    assert first["embedding"]["model"] != second["embedding"]["model"]

    (tmp_path / "index" / POINTER).write_text(first["generation"], encoding="utf-8")  # an operator's rollback
    rolled_back = KnowledgeBase(tmp_path)
    result = rolled_back.search("退休金要交几年社保才能拿", mode="dense")
    assert result.generation == first["generation"] and result.mode == "dense" and result.degraded is None
    assert rolled_back.searcher.index.model.model_id == first["embedding"]["model_id"]

    (tmp_path / "index" / POINTER).write_text(second["generation"], encoding="utf-8")
    knowledge_base.add_training_pairs([("开小店要去哪里办手续", "business#a2")], source="feedback")
    third = KnowledgeBase(tmp_path).build()  # the first generation is pruned, and its model with it
    snapshots = sorted(p.name for p in (tmp_path / "models").iterdir() if p.name.startswith("kb-static-"))
    assert snapshots == sorted({second["embedding"]["model_id"], third["embedding"]["model_id"]})
