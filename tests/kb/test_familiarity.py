"""Fusion weights that follow how close a question is to the confirmed ones."""

from __future__ import annotations

import numpy as np
import pytest

from kb.familiarity import HIGH, LOW, fusion_weights
from kb.search import SUPERVISED_WEIGHTS, UNSUPERVISED_WEIGHTS

UNSUPERVISED, SUPERVISED = (0.5, 0.5), (0.4, 0.6)


@pytest.mark.parametrize("familiarity,expected", [
    (0.0, UNSUPERVISED), (LOW, UNSUPERVISED), (HIGH, SUPERVISED), (1.0, SUPERVISED),
    ((LOW + HIGH) / 2, (0.45, 0.55)),
])
def test_weights_move_from_unsupervised_to_supervised(familiarity: float, expected: tuple[float, float]) -> None:
    assert fusion_weights(familiarity, UNSUPERVISED, SUPERVISED) == pytest.approx(expected)


def test_a_trained_knowledge_base_trusts_its_model_more_on_familiar_questions(tmp_path, policy_documents) -> None:
    from kb import KnowledgeBase

    knowledge_base = KnowledgeBase(tmp_path / "kb", create=True)
    knowledge_base.add_documents(policy_documents)
    knowledge_base.add_training_pairs([("离职了公积金怎么取出来", "housing-fund#a1"),
                                       ("失业金在哪里申请领取", "unemployment#a1")], source="test")
    knowledge_base.build()
    searcher = knowledge_base.searcher
    model = searcher.index.model
    assert model is not None and model.supervised
    familiar = model.encode([model.prepare_query("离职了公积金怎么取出来", searcher.tokenizer.tokenize_query("离职了公积金怎么取出来"))])[0]
    assert searcher._weights_for(familiar) == pytest.approx(SUPERVISED_WEIGHTS)  # a confirmed question itself
    assert searcher._weights_for(np.zeros_like(familiar)) == pytest.approx(UNSUPERVISED_WEIGHTS)
    fixed = knowledge_base.configure_search(bm25_weight=0.3, dense_weight=0.7)
    assert fixed.bm25_weight == 0.3 and knowledge_base.searcher._weights_for(familiar) == (0.3, 0.7)
    knowledge_base.close()


def test_warm_up_fits_what_the_first_question_would(built_kb) -> None:
    assert built_kb.warm_up() == built_kb.searcher.index.generation
    assert built_kb.searcher._off_topic is not None
