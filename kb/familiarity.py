"""How much weight the trained embedding model earns on one question.

A model trained on confirmed question pairs learns the questions it was shown and the
passages that answered them: on questions like those it beats BM25, on questions about
other documents it is weaker (RETRIEVAL-NOTES; over the full corpus, a model trained on the
law and epidemic pairs lowered hybrid Recall@5 on hotline questions about the seed 公文). So
the dense weight of weighted fusion follows the question's familiarity: its best cosine to a
confirmed question under the model. At or below ``low`` (0.5: the 10th percentile of
held-out STARD questions, the 25th of held-out epidemic ones) fusion uses the weights of a
model trained on passages alone; from ``high`` (0.7, about the median held-out STARD
question) the supervised weights; in between, a straight line. (Percentiles of the model
before question offsets; with them held-out questions read about 0.04 more familiar, and
moving the bounds to 0.55/0.75 changed nothing beyond noise: STARD test R@10 .589 -> .580,
hotline top-3 .841 -> .856.)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kb.embedding import EmbeddingModel
from kb.tokenize import PolicyTokenizer

LOW = 0.5
HIGH = 0.7


def question_vectors(questions: Sequence[str], model: EmbeddingModel, tokenizer: PolicyTokenizer) -> np.ndarray:
    """The questions as the model embeds a question (one row each)."""
    inputs = [model.prepare_query(q, tokenizer.tokenize_query(q)) for q in questions]
    return model.encode(inputs) if inputs else np.zeros((0, model.dim), dtype=np.float32)


class Familiarity:
    """The confirmed questions of a knowledge base, embedded once.

    The index build embeds them and keeps the vectors with the generation
    (``kb.index``), so a server starting does not tokenise thousands of questions again;
    built from the questions themselves where a generation has no such file.
    """

    def __init__(self, questions: Sequence[str], model: EmbeddingModel, tokenizer: PolicyTokenizer) -> None:
        self._vectors = question_vectors(questions, model, tokenizer)

    @classmethod
    def from_vectors(cls, vectors: np.ndarray) -> Familiarity:
        familiarity = cls.__new__(cls)
        familiarity._vectors = vectors
        return familiarity

    def of(self, query: np.ndarray) -> float:
        """The best cosine of a (unit) question vector to a confirmed question; 0 without any."""
        if not len(self._vectors) or not np.any(query):
            return 0.0
        return float(np.max(self._vectors @ query))


def fusion_weights(familiarity: float, unsupervised: tuple[float, float], supervised: tuple[float, float],
                   *, low: float = LOW, high: float = HIGH) -> tuple[float, float]:
    """(BM25, dense) weights for a question of this familiarity (see the module docstring)."""
    share = min(1.0, max(0.0, (familiarity - low) / (high - low)))
    return (unsupervised[0] + share * (supervised[0] - unsupervised[0]),
            unsupervised[1] + share * (supervised[1] - unsupervised[1]))
