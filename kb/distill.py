"""Pretrained starting vectors for the knowledge-base model's terms (model2vec-style).

The knowledge-base model is one vector per jieba term. Trained from the passages alone
(latent semantic analysis, then inverse-cloze pairs) it only relates words that share
passages, so a caller's 老板 never meets the statute's 用人单位. Here every vocabulary term
is also read by the pretrained RoFormer-Sim sentence encoder (:mod:`kb.sentence_encoder`),
and by the general word vectors where the word is known (:mod:`kb.word_vectors`); the
encoder's vectors are centred and reduced by PCA. The model then starts from
[LSA | pretrained] and is trained on the knowledge base as before.

Encoding ~120k short terms costs a few minutes on two cores once; the vectors are cached in
the store by term, so rebuilds and retraining reuse them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence

import numpy as np

from kb.pretrained import PretrainedFiles
from kb.store import Store

log = logging.getLogger(__name__)

#: Cache key space for term vectors in the store's embedding cache.
TERM_CACHE_PREFIX = "roformer-sim-term"

TermVectors = Callable[[Sequence[str]], np.ndarray]


def _key(term: str) -> str:
    return hashlib.sha1(term.encode("utf-8")).hexdigest()


def encoded_terms(terms: Sequence[str], files: PretrainedFiles, store: Store | None,
                  progress: Callable[[str], None] | None = None) -> np.ndarray:
    """RoFormer-Sim vectors of ``terms`` (rows in order), from the store's cache where present."""
    from kb.sentence_encoder import SentenceEncoder

    model_id = f"{TERM_CACHE_PREFIX}-{hashlib.sha1(files.fingerprint.encode()).hexdigest()[:12]}"
    keys = [_key(t) for t in terms]
    cached = store.cached_vectors(model_id, keys, 384) if store is not None else {}
    missing = [i for i, k in enumerate(keys) if k not in cached]
    if missing:
        if progress:
            progress(f"reading {len(missing):,} terms with the pretrained encoder ({len(terms) - len(missing):,} cached)")
        encoder = SentenceEncoder(files)
        fresh = encoder.encode([terms[i] for i in missing], batch_size=256)
        new = {keys[i]: fresh[j] for j, i in enumerate(missing)}
        if store is not None:
            for start in range(0, len(missing), 20_000):
                chunk = dict(list(new.items())[start : start + 20_000])
                store.cache_vectors(model_id, chunk)
        cached.update(new)
    return np.vstack([cached[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, 384), np.float32)


def pca(matrix: np.ndarray, dim: int, seed: int) -> np.ndarray:
    """Centred rows projected on their ``dim`` leading principal components."""
    centred = matrix - matrix.mean(axis=0, keepdims=True)
    dim = max(1, min(dim, *centred.shape))
    rng = np.random.default_rng(seed)
    # randomised range finder: exact enough for an initialisation, seconds instead of minutes
    probe = centred @ rng.standard_normal((centred.shape[1], min(centred.shape[1], dim + 16))).astype(np.float32)
    basis, _ = np.linalg.qr(probe)
    _u, _s, vt = np.linalg.svd(basis.T @ centred, full_matrices=False)
    return (centred @ vt[:dim].T).astype(np.float32)


def pretrained_term_vectors(files: PretrainedFiles, store: Store | None, *, dim: int, seed: int,
                            progress: Callable[[str], None] | None = None) -> TermVectors:
    """A function giving ``dim``-wide pretrained vectors for a vocabulary (unit rows, zeros where unknown)."""
    from kb.word_vectors import DIMENSION, WordVectors

    words = WordVectors(files)

    def vectors(vocabulary: Sequence[str]) -> np.ndarray:
        sentence = encoded_terms(vocabulary, files, store, progress)
        word_part = min(DIMENSION, dim // 3)
        reduced = pca(sentence, dim - word_part, seed)
        reduced /= np.linalg.norm(reduced, axis=1, keepdims=True).clip(1e-6)
        general = np.zeros((len(vocabulary), DIMENSION), dtype=np.float32)
        for i, term in enumerate(vocabulary):
            vector = words.vector(term)
            if vector is not None:
                general[i] = vector
        general = pca(general, word_part, seed) if word_part < DIMENSION else general
        general /= np.linalg.norm(general, axis=1, keepdims=True).clip(1e-6)
        return np.hstack([reduced * 0.8, general * 0.6]).astype(np.float32)

    return vectors
