"""The knowledge-base model read with numpy gives the vectors sentence-transformers gives."""

from __future__ import annotations

import sys

import numpy as np

from kb import KnowledgeBase
from kb.embedding import load_model, train_kb_model
from kb.static_encoder import StaticEncoder, is_static_embedding


def test_numpy_vectors_equal_sentence_transformers_vectors(tmp_path) -> None:
    from sentence_transformers import SentenceTransformer

    corpus = [["住房", "公积金", "提取", "条件"], ["失业", "保险金", "领取"], ["住房", "公积金", "缴存"],
              ["个体", "工商户", "登记"]] * 4
    supervised = [("买房 取 公积金", "住房 公积金 提取 条件", "个体 工商户 登记")] * 8
    path = train_kb_model(corpus, tmp_path / "model", supervised=supervised)
    assert is_static_embedding(path)
    reference = SentenceTransformer(str(path), device="cpu")
    inputs = ["住房 公积金", "公积金 [Q]公积金 住房", "失业 不在词表 保险金", "", "不在词表", "个体 个体 工商户"]
    expected = reference.encode(inputs, convert_to_numpy=True, normalize_embeddings=True)
    got = StaticEncoder(path).encode(inputs)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert not got[3].any() and not got[4].any()  # nothing known: a zero vector, as EmbeddingBag gives
    model = load_model(str(path))
    assert isinstance(model.model, StaticEncoder) and model.offset_terms == {"公积金"}
    assert "[Q]公积金" not in model.vocabulary and "住房" in model.vocabulary


def test_answering_a_question_does_not_import_torch(tmp_path, policy_documents) -> None:
    """``policykb ask`` and the service's start-up paid ~5 s importing torch for a row lookup."""
    import subprocess

    knowledge_base = KnowledgeBase(tmp_path / "kb", create=True)
    knowledge_base.add_documents(policy_documents)
    knowledge_base.build()
    knowledge_base.close()
    script = ("import sys; from kb import KnowledgeBase; "
              f"r = KnowledgeBase({str(tmp_path / 'kb')!r}).search('公积金提取', mode='dense'); "
              "assert r.hits and r.degraded is None, r; print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
