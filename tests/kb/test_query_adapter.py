"""The question-side map of the encoder's vectors that the learned rankers read (kb.query_adapter)."""

from __future__ import annotations

import numpy as np
import pytest

from kb import KnowledgeBase
from kb import query_adapter as adapter_module
from kb.query_adapter import QueryAdapter, bundled_adapter
from kb.rerank import Reranker, encoder_name
from kb.sentence_encoder import load_sentence_encoder
from tests.conftest import pretrained_files_or_skip

QUESTION = "老板三个月没发工资了我能直接走人吗"


def test_an_adapter_maps_to_unit_vectors_and_survives_a_round_trip(tmp_path) -> None:
    rng = np.random.default_rng(3)
    matrix = np.eye(4, dtype=np.float32) + 0.1 * rng.standard_normal((4, 4)).astype(np.float32)
    adapter = QueryAdapter(matrix, "encoder-a")
    vector = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
    mapped = adapter.apply("问题", vector)
    assert np.linalg.norm(mapped) == pytest.approx(1.0)
    assert mapped == pytest.approx(matrix[0] / np.linalg.norm(matrix[0]))
    assert QueryAdapter(np.eye(4), "encoder-a").apply("问题", vector) == pytest.approx(vector)
    adapter.save(tmp_path / "a.npz")
    loaded = QueryAdapter.load(tmp_path / "a.npz")
    assert loaded.encoder == "encoder-a"
    assert loaded.apply("问题", vector) == pytest.approx(mapped, abs=1e-3)  # kept as float16


def test_what_is_not_an_adapter_is_refused(tmp_path) -> None:
    with pytest.raises(ValueError, match="square"):
        QueryAdapter(np.ones((3, 4)), "encoder-a")
    np.savez(tmp_path / "other.npz", weights=np.ones(3))
    with pytest.raises(ValueError, match="not a query adapter"):
        QueryAdapter.load(tmp_path / "other.npz")


def test_the_bundled_adapter_serves_only_the_encoder_it_was_fitted_for() -> None:
    files = pretrained_files_or_skip()
    name = encoder_name(files)
    bundled = bundled_adapter(name)
    assert bundled is not None and bundled.encoder == name  # fitted for the installed package's encoder
    assert bundled_adapter("roformer-sim-000000000000-head120") is None


def test_without_its_file_no_adapter_is_used(monkeypatch) -> None:
    monkeypatch.setattr(adapter_module, "ADAPTER_FILE", "not-shipped.npz")
    adapter_module.bundled_adapter.cache_clear()
    try:
        assert bundled_adapter("any-encoder") is None
    finally:
        monkeypatch.undo()
        adapter_module.bundled_adapter.cache_clear()


def test_the_reranker_gives_plain_and_adapted_cosines_from_one_encoding(own_kb: KnowledgeBase) -> None:
    files = pretrained_files_or_skip()
    encoder = load_sentence_encoder(files)
    candidates = own_kb.searcher.candidates(QUESTION)
    assert candidates is not None
    ids = list(candidates.segment_ids[:5])
    heads = own_kb.searcher._passage_heads
    plain_only = Reranker(encoder)
    plain, same = plain_only.cosine_pair(QUESTION, ids, heads)
    assert plain == pytest.approx(same)
    assert plain == pytest.approx(plain_only.cosines(QUESTION, ids, heads), abs=1e-6)
    adapted = Reranker(encoder, adapter=bundled_adapter(encoder_name(files)))
    plain_again, mapped = adapted.cosine_pair(QUESTION, ids, heads)
    assert plain_again == pytest.approx(plain, abs=1e-6)
    assert not np.allclose(mapped, plain)
    # the knowledge base's own ranker reads the bundled adapter's cosines
    assert candidates.adapted_cosine is not None
    assert not np.allclose(candidates.adapted_cosine, candidates.head_cosine)


def test_fitting_moves_questions_towards_the_passages_that_answer_them(monkeypatch) -> None:
    from evaluation import fit_adapter

    rng = np.random.default_rng(0)
    passages = rng.standard_normal((200, 16)).astype(np.float32)
    passages /= np.linalg.norm(passages, axis=1, keepdims=True)
    questions = rng.standard_normal((40, 16)).astype(np.float32)
    questions /= np.linalg.norm(questions, axis=1, keepdims=True)
    gold = [[int(i)] for i in rng.integers(0, 200, 40)]

    def first(vectors: np.ndarray) -> float:
        return float(np.mean([np.argmax(passages @ v) == g[0] for v, g in zip(vectors, gold)]))

    monkeypatch.setattr(fit_adapter, "EPOCHS", 300)
    monkeypatch.setattr(fit_adapter, "LEARNING_RATE", 1e-2)
    adapter = QueryAdapter(fit_adapter.fit(questions, gold, [0] * 20 + [1] * 20, passages), "test")
    before = first(questions)
    after = first(np.vstack([adapter.apply("", q) for q in questions]))
    assert before < 0.1 and after > 0.8


def test_the_fitting_command_writes_the_adapter_and_its_cross_fitted_folds(own_kb: KnowledgeBase, tmp_path) -> None:
    import json

    from evaluation import fit_adapter

    files = pretrained_files_or_skip()
    candidates = own_kb.searcher.candidates(QUESTION)
    assert candidates is not None
    sets = tmp_path / "set"
    sets.mkdir()
    asked = {"q1": QUESTION, "q2": "工资被拖欠了找谁", "q3": "今天天气怎么样"}
    (sets / "queries.jsonl").write_text("".join(json.dumps({"_id": k, "text": v}, ensure_ascii=False) + "\n"
                                                for k, v in asked.items()), encoding="utf-8")
    (sets / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"{k}\t{candidates.segment_ids[-1]}\t1\n" for k in ("q1", "q2")) + "q3\tnowhere#1\t1\n", encoding="utf-8")
    out = tmp_path / "adapter.npz"
    assert fit_adapter.main(["--kb", str(own_kb.kb_dir), "--set", str(sets), "--out", str(out),
                             "--folds", str(tmp_path / "folds")]) == 0
    fitted = QueryAdapter.load(out)
    assert fitted.encoder == encoder_name(files) and fitted.dim == 384
    folds = fit_adapter.CrossFitted.load(tmp_path / "folds")
    vector = np.ones(384, dtype=np.float32) / np.sqrt(384)
    # a question goes through the adapter fitted without its own fold
    chosen = folds.adapters[fit_adapter.fold_of(QUESTION)]
    assert folds.apply(QUESTION, vector) == pytest.approx(chosen.apply(QUESTION, vector))
