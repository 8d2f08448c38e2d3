"""A question's everyday words count less in BM25 than its policy words."""

from __future__ import annotations

import numpy as np

from kb.abstain import DomainSpecificity
from kb.bm25 import BM25Index
from kb.term_weights import FLOOR, term_weights
from kb.tokenize import PolicyTokenizer


def _corpus() -> list[list[str]]:
    """2,000 passages of a statute-like corpus: 公积金 and 缴存 are everywhere, 老板 once."""
    passages = [["住房", "公积金", "缴存", "职工", "单位"] for _ in range(600)]
    passages += [["失业", "保险金", "领取", "期限"] for _ in range(1399)]
    passages.append(["老板", "说", "公积金"])
    return passages


def test_everyday_words_weigh_less_than_policy_words() -> None:
    bm25 = BM25Index.build(_corpus())
    weights = term_weights(["老板", "说", "公积金", "缴存", "从没见过的词"], DomainSpecificity(
        bm25, PolicyTokenizer().background_probability))
    assert weights["公积金"] == weights["缴存"] == 1.0
    assert weights["说"] == FLOOR and FLOOR <= weights["老板"] < 0.7
    assert weights["从没见过的词"] == 1.0  # not in the knowledge base: matches nothing anyway


def test_weights_scale_each_query_term_and_an_expansion_adds_to_it() -> None:
    bm25 = BM25Index.build(_corpus())
    plain = bm25.scores(["老板", "公积金"])
    weighted = bm25.scores(["老板", "公积金"], weights={"老板": 0.5})
    only_boss = bm25.scores(["老板"])
    np.testing.assert_allclose(plain - weighted, 0.5 * only_boss, rtol=1e-5, atol=1e-6)
    # unweighted, the story passage wins on 老板 alone
    assert np.argmax(plain) == 1999
    expanded = bm25.scores(["老板"], {"单位": 0.5}, {"老板": 0.3})
    np.testing.assert_allclose(expanded, 0.3 * only_boss + 0.5 * bm25.scores(["单位"]), rtol=1e-5, atol=1e-6)
