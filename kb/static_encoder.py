"""The knowledge-base model read with numpy alone, for answering questions.

The model trained on the knowledge base (``kb.embedding``) is a sentence-transformers
``StaticEmbedding``: a word-level tokenizer and one vector per term, a sentence being the
mean of its terms' vectors (``EmbeddingBag`` in mean mode), then scaled to unit length.
Loading it through sentence-transformers imports torch and transformers (about 5 s) for what
is a row lookup and a mean; ``policykb ask`` from a shell and the service's start-up paid that
every time. This reads the same two files (``tokenizer.json``, ``model.safetensors``) and gives
the same vectors (``tests/kb/test_static_encoder.py`` compares them). Training still uses
sentence-transformers and torch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

WEIGHTS_KEY = "embedding.weight"


def is_static_embedding(path: Path) -> bool:
    """Whether ``path`` holds a model that is one StaticEmbedding module and nothing else."""
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (len(modules) == 1 and str(modules[0].get("type", "")).endswith("StaticEmbedding")
            and (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file())


class StaticEncoder:
    """``encode`` and the tokenizer of a StaticEmbedding model, as sentence-transformers offers them."""

    def __init__(self, path: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        self.weights = np.ascontiguousarray(load_file(str(path / "model.safetensors"))[WEIGHTS_KEY], dtype=np.float32)
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self.tokenizer.no_padding()

    def get_sentence_embedding_dimension(self) -> int:
        return int(self.weights.shape[1])

    def encode(self, inputs: Sequence[str], *, batch_size: int = 512, normalize_embeddings: bool = True,
               **_ignored: object) -> np.ndarray:
        """One row per input: the mean of its terms' vectors (zeros for none), unit length."""
        out = np.zeros((len(inputs), self.weights.shape[1]), dtype=np.float32)
        for start in range(0, len(inputs), batch_size):
            encodings = self.tokenizer.encode_batch(list(inputs[start:start + batch_size]), add_special_tokens=False)
            for row, encoding in enumerate(encodings, start=start):
                if encoding.ids:
                    out[row] = self.weights[encoding.ids].mean(axis=0)
        if normalize_embeddings:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            out /= np.maximum(norms, 1e-12)
        return out
