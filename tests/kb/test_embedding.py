"""Embedding models: the offline KB model and any sentence-transformers model given by path."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kb import EmbeddingModelError, IndexSettings, KnowledgeBase
from kb.embedding import load_model, train_kb_model


def _char_level_model(directory) -> None:
    """A tiny sentence-transformers model that reads raw text, like a pretrained model would."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Regex, Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Split

    chars = sorted(set("".join("社会保险住房公积金提取失业个体工商户劳动合同养老登记领取缴费")))
    tokenizer = Tokenizer(WordLevel({"[UNK]": 0, **{c: i + 1 for i, c in enumerate(chars)}}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Split(Regex("."), "isolated")
    rng = np.random.default_rng(0)
    module = StaticEmbedding(tokenizer, embedding_weights=rng.normal(size=(len(chars) + 1, 16)).astype(np.float32))
    SentenceTransformer(modules=[module], device="cpu").save(str(directory))


def test_kb_model_reloads_with_identical_vectors(tmp_path) -> None:
    corpus = [["住房", "公积金", "提取", "条件"], ["失业", "保险金", "领取"], ["住房", "公积金", "缴存"]] * 4
    path = train_kb_model(corpus, tmp_path / "model")
    card = json.loads((path / "policykb_model.json").read_text(encoding="utf-8"))
    first = load_model(str(path))
    second = load_model(str(path))
    assert first.model_id == second.model_id == card["model_id"] and first.input_kind == "terms"
    inputs = [first.prepare("", ["住房", "公积金", "不在词表"]), "失业 保险金"]
    assert inputs[0] == "住房 公积金"
    np.testing.assert_array_equal(first.encode(inputs), second.encode(inputs))
    assert np.allclose(np.linalg.norm(first.encode(inputs), axis=1), 1.0, atol=1e-5)


def test_a_corpus_larger_than_the_dimension_trains_and_saves(tmp_path) -> None:
    """Regression: SVD vectors of a full-rank corpus came out non-contiguous and safetensors refused them."""
    import random

    from kb import TrainingSettings

    rng = random.Random(0)
    vocabulary = [f"词{i}" for i in range(400)]
    corpus = [[rng.choice(vocabulary) for _ in range(20)] for _ in range(120)]
    path = train_kb_model(corpus, tmp_path / "model", TrainingSettings(dim=16, epochs=1))
    assert load_model(str(path)).dim == 16


def test_any_sentence_transformers_model_can_be_named_by_path(tmp_path, policy_documents) -> None:
    _char_level_model(tmp_path / "char-model")
    settings = IndexSettings(model=str(tmp_path / "char-model"))
    knowledge_base = KnowledgeBase(tmp_path / "kb", create=True, settings=settings)
    knowledge_base.add_documents(policy_documents)
    manifest = knowledge_base.build()
    assert manifest["embedding"]["input"] == "text" and manifest["embedding"]["dimension"] == 16
    result = knowledge_base.search("公积金提取", mode="dense")
    assert result.hits and result.mode == "dense"


def test_a_model_that_cannot_be_loaded_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(EmbeddingModelError, match="cannot load embedding model"):
        load_model(str(tmp_path / "no-such-model"))


def test_terms_of_confirmed_questions_get_a_trained_question_offset(tmp_path) -> None:
    corpus = [["住房", "公积金", "提取", "条件"], ["失业", "保险金", "领取"], ["住房", "公积金", "缴存"],
              ["个体", "工商户", "登记"]] * 4
    supervised = [("辞职 每月 领 多少 钱", "失业 保险金 领取", "住房 公积金 缴存"),
                  ("买房 取 公积金", "住房 公积金 提取 条件", "个体 工商户 登记")] * 8
    path = train_kb_model(corpus, tmp_path / "model", supervised=supervised)
    model = load_model(str(path))
    assert json.loads((path / "policykb_model.json").read_text(encoding="utf-8"))["question_offsets"] == 1
    assert model.offset_terms == {"公积金"}  # the only question term the passages also use
    assert "[Q]公积金" not in model.vocabulary
    assert model.prepare("", ["买房", "公积金"]) == "公积金"  # passages never read offsets
    assert model.prepare_query("", ["买房", "公积金", "住房"]) == "公积金 [Q]公积金 住房"
    question, passage = model.encode([model.prepare_query("", ["公积金"]), model.prepare("", ["公积金"])])
    assert not np.allclose(question, passage)  # the offset was trained away from zero
    np.testing.assert_array_equal(load_model(str(path)).encode(["公积金 [Q]公积金"]), model.encode(["公积金 [Q]公积金"]))


def test_a_model_without_question_pairs_reads_questions_like_passages(tmp_path) -> None:
    corpus = [["住房", "公积金", "提取", "条件"], ["失业", "保险金", "领取"]] * 4
    model = load_model(str(train_kb_model(corpus, tmp_path / "model")))
    assert model.offset_terms == frozenset()
    assert model.prepare_query("", ["住房", "公积金"]) == model.prepare("", ["住房", "公积金"]) == "住房 公积金"


def test_training_reports_its_progress_for_each_stage(tmp_path) -> None:
    """Training takes tens of seconds on a real corpus: it says where it is, ending each stage at 100%."""
    import random

    rng = random.Random(0)
    vocabulary = [f"词{i}" for i in range(200)]
    corpus = [[rng.choice(vocabulary) for _ in range(16)] for _ in range(300)]  # long enough for cloze pairs
    supervised = [("词1 词2", " ".join(corpus[0]), " ".join(corpus[1]))] * 8
    heard: list[str] = []
    train_kb_model(corpus, tmp_path / "model", supervised=supervised, progress=heard.append)
    passages = [m for m in heard if m.startswith("passages: ")]
    questions = [m for m in heard if m.startswith("question pairs: ")]
    assert passages and questions, heard
    done, total = passages[-1].rsplit(", ", 1)[1].split(" ")[0].split("/")
    assert done == total  # the last report of the stage is the whole stage
    assert questions[-1].startswith("question pairs: epoch 3/3")
