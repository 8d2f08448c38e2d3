"""The learned ranker: what it reads of each candidate, the bundled model, and its place in search."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from evaluation.fit_ranker import fit, training_rows
import kb.ranker as ranker_module
from kb import KnowledgeBase
from kb.lightgbm_native import ModelError, NativeModel
from kb.pretrained import ENVIRONMENT
from kb.ranker import ABSENT_RANK, FEATURES, Candidates, LearnedRanker, bundled_ranker, candidate_features
from kb.search import SearchSettings
from tests.conftest import pretrained_files_or_skip

QUESTION = "老板三个月没发工资了我能直接走人吗"


def _needs_encoder() -> None:
    pretrained_files_or_skip()


def _candidates(**changes) -> Candidates:
    base = dict(
        question="拖欠工资怎么办", terms=["拖欠", "工资", "怎么办"], expansion=[],
        segment_ids=["law#a1", "law#a2", "notice#1"], fused=np.array([2.0, 1.0, 0.5]),
        bm25=np.array([1.0, 0.2, 0.0]), bm25_rank=np.array([0.0, 1.0, ABSENT_RANK]),
        dense=np.array([0.3, 0.6, 0.1]), dense_rank=np.array([1.0, 0.0, 2.0]),
        head_cosine=np.array([0.5, 0.8, 0.4]), doc_ids=["law", "law", "notice"],
        texts=["用人单位不得克扣或者无故拖欠劳动者的工资。", "劳动合同期限三个月以上的。", "疫情期间的通知。"],
        titles=["劳动法", "劳动法", "关于工资支付的通知"], ordinals=[0, 9, 0])
    return Candidates(**{**base, **changes})


def column(rows: np.ndarray, name: str) -> np.ndarray:
    return rows[:, FEATURES.index(name)]


def test_each_candidate_gets_every_feature_relative_to_the_question() -> None:
    c = _candidates()
    rows = candidate_features(c)
    assert rows.shape == (3, len(FEATURES))
    assert column(rows, "fused").tolist() == [1.0, 0.5, 0.25]
    # 拖欠 and 工资 (2 of 3 terms) in the first passage, the title 劳动法 has none
    assert column(rows, "passage_terms")[0] == pytest.approx(2 / 3)
    assert column(rows, "title_terms")[2] == pytest.approx(1 / 3)
    # bigrams of 拖欠工资怎么办: 拖欠 欠工 工资 资怎 怎么 么办; the first passage has 拖欠 and 工资
    assert column(rows, "passage_bigrams")[0] == pytest.approx(2 / 6)
    assert column(rows, "document_candidates").tolist() == [2, 2, 1]
    assert column(rows, "head_cosine_gap").tolist() == pytest.approx([-0.3, 0.0, -0.4])
    assert column(rows, "document_cosine_lead").tolist() == pytest.approx([-0.3, 0.0, 0.0])
    assert column(rows, "head_cosine_rank").tolist() == pytest.approx(np.log1p([1, 0, 2]).tolist())
    assert column(rows, "documents_top10").tolist() == [2, 2, 2]
    assert column(rows, "expansion_terms").tolist() == [-1, -1, -1]  # no expansion: not "none found"
    expanded = _candidates(expansion=["劳动者"])
    assert column(candidate_features(expanded), "expansion_terms").tolist() == [1, 0, 0]

    assert column(rows, "place").tolist() == [1, 1, 1]  # unknown: neither the place served nor another
    assert column(rows, "passage_answers").tolist() == [0, 0, 0]
    counted = candidate_features(_candidates(places=np.array([1.5, 1.5, 0.5]), passage_answers=np.array([3.0, 0, 0])))
    assert column(counted, "place").tolist() == [1.5, 1.5, 0.5]
    assert column(counted, "passage_answers").tolist() == pytest.approx([np.log(4), 0, 0])

    # without an adapter the adapted cosine is the plain one; with one, its own gap and rank
    assert column(rows, "adapted_cosine").tolist() == pytest.approx([0.5, 0.8, 0.4])
    adapted = candidate_features(_candidates(adapted_cosine=np.array([0.9, 0.2, 0.3])))
    assert column(adapted, "adapted_cosine_gap").tolist() == pytest.approx([0.0, -0.7, -0.6])
    assert column(adapted, "adapted_cosine_rank").tolist() == pytest.approx(np.log1p([0, 2, 1]).tolist())
    assert column(adapted, "head_cosine").tolist() == pytest.approx([0.5, 0.8, 0.4])


def test_the_ranker_counts_the_stored_pairs_that_point_to_each_candidate(own_kb: KnowledgeBase) -> None:
    _needs_encoder()
    before = own_kb.searcher.candidates(QUESTION)
    assert before is not None and not before.passage_answers.any()
    answer = before.segment_ids[3]
    own_kb.add_training_pairs([("工资拖了三个月能辞职吗", answer), ("欠薪三个月可以走人吗", answer)], source="test")
    own_kb.configure_search(rerank=100)  # a new searcher reads the store again
    after = own_kb.searcher.candidates(QUESTION)
    assert after is not None
    counts = dict(zip(after.segment_ids, after.passage_answers.tolist()))
    assert counts[answer] == 2
    assert sum(counts.values()) == 2


@pytest.mark.parametrize("trained", [False, True])
def test_the_bundled_models_read_these_features_and_order_keeping_the_scores_scale(trained: bool) -> None:
    ranker = bundled_ranker(trained=trained)
    assert ranker is not None
    c = _candidates()
    ordered = ranker.order(c)
    assert sorted(sid for sid, _ in ordered) == sorted(c.segment_ids)
    assert [score for _, score in ordered] == [2.0, 1.0, 0.5]


def test_a_knowledge_base_gets_the_ranker_fitted_for_its_kind_of_model(own_kb: KnowledgeBase) -> None:
    searcher = own_kb.searcher
    supervised = bool((searcher.index.manifest.get("embedding") or {}).get("supervised"))
    assert searcher.learned_ranker is bundled_ranker(trained=supervised)
    assert bundled_ranker(trained=True) is not bundled_ranker(trained=False)


def test_a_model_fitted_on_other_features_is_refused(tmp_path) -> None:
    import lightgbm

    rng = np.random.default_rng(0)
    other = lightgbm.LGBMRanker(n_estimators=2, min_child_samples=1, verbose=-1)
    other.fit(rng.random((20, 3)), np.tile([1, 0, 0, 0, 0], 4), group=[5] * 4, feature_name=["a", "b", "c"])
    path = tmp_path / "other.txt"
    other.booster_.save_model(str(path))
    with pytest.raises(ValueError, match="other features"):
        LearnedRanker(path)
    path.write_text("tree\nnot a model\n", encoding="utf-8")
    with pytest.raises(ModelError, match="other.txt"):
        LearnedRanker(path)


@pytest.mark.parametrize("trained", [False, True])
def test_the_c_library_scores_as_lightgbms_python_package_does(trained: bool) -> None:
    import lightgbm

    from kb.ranker import MODEL_FILE, TRAINED_MODEL_FILE

    path = Path(str(resources.files("kb.resources") / (TRAINED_MODEL_FILE if trained else MODEL_FILE)))
    rows = np.random.default_rng(5).random((300, len(FEATURES)))
    rows[:, FEATURES.index("bm25_weight")] = 0.8
    rows[::7] = 0.0  # zeros, which LightGBM can treat apart
    assert NativeModel(path).feature_names == FEATURES
    assert np.allclose(NativeModel(path).predict(rows), lightgbm.Booster(model_file=str(path)).predict(rows),
                       rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="features"):
        NativeModel(path).predict(rows[:, :3])


def test_search_orders_its_first_candidates_as_the_learned_ranker_does(own_kb: KnowledgeBase) -> None:
    _needs_encoder()
    assert SearchSettings().ranker == "learned"
    candidates = own_kb.searcher.candidates(QUESTION)
    assert candidates is not None and len(candidates.segment_ids) >= 5
    expected = [sid for sid, _ in own_kb.searcher.learned_ranker.order(candidates)]
    result = own_kb.search(QUESTION, top_k=5)
    assert result.degraded is None
    assert [h.segment_id for h in result.hits] == expected[:5]


def test_the_cosine_mix_stays_selectable(own_kb: KnowledgeBase) -> None:
    _needs_encoder()
    own_kb.configure_search(rerank=0)
    plain = [h.segment_id for h in own_kb.search(QUESTION, top_k=10).hits]
    own_kb.configure_search(rerank=10, ranker="cosine")
    assert own_kb.search_settings.ranker == "cosine"
    mixed = own_kb.search(QUESTION, top_k=10)
    assert mixed.degraded is None and sorted(h.segment_id for h in mixed.hits) == sorted(plain)
    with pytest.raises(ValueError, match="ranker must be one of"):
        own_kb.configure_search(ranker="random")


def test_without_the_encoder_there_are_no_candidates_to_rank(own_kb: KnowledgeBase, monkeypatch) -> None:
    monkeypatch.setenv(ENVIRONMENT, "off")
    fresh = KnowledgeBase(own_kb.kb_dir)
    assert fresh.searcher.candidates(QUESTION) is None
    assert fresh.search(QUESTION).degraded == "pretrained_encoder_unavailable"
    fresh.close()


def test_fitting_reads_the_candidates_search_makes_and_learns_from_the_gold(own_kb: KnowledgeBase, tmp_path) -> None:
    _needs_encoder()
    candidates = own_kb.searcher.candidates(QUESTION)
    assert candidates is not None
    gold = candidates.segment_ids[-1]  # the last candidate: a ranker must learn to lift it
    sets = tmp_path / "set"
    sets.mkdir()
    (sets / "queries.jsonl").write_text(json.dumps({"_id": "q1", "text": QUESTION}, ensure_ascii=False) + "\n"
                                        + json.dumps({"_id": "q2", "text": "今天天气怎么样"}, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
    (sets / "qrels.tsv").write_text(f"query-id\tcorpus-id\tscore\nq1\t{gold}\t1\nq2\t{gold}\t1\n", encoding="utf-8")
    features, labels, groups = training_rows(own_kb, [str(sets)])
    assert groups == [len(candidates.segment_ids)]  # the off-topic question is refused: it teaches nothing
    assert labels.sum() == 1 and labels[-1] == 1
    assert features.shape == (len(labels), len(FEATURES))
    model = fit(np.vstack([features] * 300), np.concatenate([labels] * 300), groups * 300)
    assert int(np.argmax(model.booster_.predict(features))) == len(labels) - 1


def test_without_the_rankers_file_the_cosine_mix_answers_and_says_so(own_kb: KnowledgeBase, monkeypatch) -> None:
    _needs_encoder()
    own_kb.configure_search(ranker="cosine")
    mixed = [h.segment_id for h in own_kb.search(QUESTION, top_k=10).hits]
    own_kb.configure_search(ranker="learned")
    monkeypatch.setattr(ranker_module, "MODEL_FILE", "not-shipped.txt")
    monkeypatch.setattr(ranker_module, "TRAINED_MODEL_FILE", "not-shipped-either.txt")
    ranker_module.bundled_ranker.cache_clear()
    try:
        result = own_kb.search(QUESTION, top_k=10)
        assert result.degraded == "learned_ranker_unavailable"
        assert [h.segment_id for h in result.hits] == mixed
    finally:
        monkeypatch.undo()
        ranker_module.bundled_ranker.cache_clear()
    assert own_kb.search(QUESTION, top_k=10).degraded is None


def test_questions_answered_at_once_get_the_order_each_would_get_alone() -> None:
    from concurrent.futures import ThreadPoolExecutor

    ranker = bundled_ranker()
    assert ranker is not None
    rng = np.random.default_rng(3)
    batches = [rng.random((100, len(FEATURES))).astype(np.float32) for _ in range(16)]
    alone = [ranker.scores(batch) for batch in batches]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(ranker.scores, batches * 4))
    for i, scores in enumerate(together):
        assert np.array_equal(scores, alone[i % len(batches)])


def test_a_word_in_several_groups_counts_in_each_and_recurring_titles_read_alike() -> None:
    # 工资 is a question term, one of its bigrams and an expansion term at once
    rows = candidate_features(_candidates(expansion=["工资", "劳动者"]))
    assert column(rows, "passage_terms")[0] == pytest.approx(2 / 3)
    assert column(rows, "passage_bigrams")[0] == pytest.approx(2 / 6)
    assert column(rows, "expansion_terms").tolist() == pytest.approx([1.0, 0.0, 0.0])
    # both 劳动法 candidates share one title; the notice's title holds 工资 (a term and a bigram)
    assert column(rows, "title_terms").tolist() == pytest.approx([0.0, 0.0, 1 / 3])
    assert column(rows, "title_bigrams").tolist() == pytest.approx([0.0, 0.0, 1 / 6])
