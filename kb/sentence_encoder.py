"""RoFormer-Sim, a pretrained Chinese sentence-similarity encoder, run with onnxruntime.

The model (see :mod:`kb.pretrained`) takes BERT-style token ids over a character
vocabulary ([CLS] text [SEP], lower-cased, CJK characters split one by one) and zero
segment ids, both as float32 [batch, length], and returns a 384-dimensional vector per
text whose cosine says how alike two sentences are ("公积金怎么提取？" / "职工离职后可以
提取住房公积金吗" .79; / "今天天气怎么样" .38). The ``tokenizers`` WordPiece
implementation gives the package's own ids (checked in ``tests/kb/test_pretrained.py``).

It costs about 10 ms per question on one core and far more per passage, so policykb uses it
where the count is small: a question and its first few candidates (:mod:`kb.rerank`).
Loading the ONNX session takes a moment, so one encoder per set of files is kept
(:func:`load_sentence_encoder`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from kb.pretrained import PretrainedFiles

#: Longer texts are cut: the cost grows with length and a passage's head says what it is about.
MAX_TOKENS = 128


class SentenceEncoder:
    """Unit-length RoFormer-Sim vectors for short texts."""

    def __init__(self, files: PretrainedFiles, *, threads: int = 2, max_tokens: int = MAX_TOKENS) -> None:
        import onnxruntime
        from tokenizers import BertWordPieceTokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(str(files.encoder), options,
                                                     providers=["CPUExecutionProvider"])
        self._tokenizer = BertWordPieceTokenizer(str(files.encoder_vocabulary), lowercase=True,
                                                 strip_accents=None, handle_chinese_chars=True)
        self._tokenizer.enable_truncation(max_tokens)
        self.dim = int(self._session.get_outputs()[0].shape[-1])

    def token_ids(self, text: str) -> list[int]:
        return self._tokenizer.encode(text).ids

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> np.ndarray:
        """One unit-length float32 row per text (texts of similar length are batched together)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encoded = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encoded[i].ids))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            length = max(len(encoded[i].ids) for i in rows)
            ids = np.zeros((len(rows), length), dtype=np.float32)
            for r, i in enumerate(rows):
                ids[r, : len(encoded[i].ids)] = encoded[i].ids
            vectors = self._session.run(None, {"Input-Token": ids, "Input-Segment": np.zeros_like(ids)})[0]
            out[rows] = vectors
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1
        return out / norms


@lru_cache(maxsize=1)
def load_sentence_encoder(files: PretrainedFiles) -> SentenceEncoder:
    """The encoder for ``files``, loaded once per process (a new searcher after an index
    switch or a settings change reuses it; other files, e.g. a reinstalled package, load anew)."""
    return SentenceEncoder(files)
