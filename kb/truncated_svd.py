"""The top right singular vectors of a tall sparse matrix, without its left ones.

The knowledge-base model starts its term vectors from a truncated SVD of the passage x
term TF-IDF matrix (``kb.embedding``). ``scipy.sparse.linalg.svds`` finds the top
eigenvectors of XᵀX with ARPACK and then takes a dense SVD of X·V (passages x k, 157k x
256 over the shared corpus) to return the left vectors too: a third of the whole build's
training time, for vectors nobody uses. The right vectors and singular values follow as
well from the k x k Gram matrix (X·V)ᵀ(X·V), in a second: the same subspace and the same
singular values (equal to 1e-10 on the shared corpus), each vector up to its sign, which
changes no similarity the model computes.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse


def top_right_singular_vectors(matrix: sparse.csr_matrix, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(s, vt)``: the ``k`` largest singular values and right singular vectors, as ``svds`` orders them
    (ascending). A wide matrix (fewer rows than columns) goes to ``svds`` itself."""
    from scipy.sparse.linalg import LinearOperator, eigsh, svds

    matrix = sparse.csr_matrix(matrix)
    rows, columns = matrix.shape
    if rows < columns:
        _u, s, vt = svds(matrix, k=k, random_state=seed)
        return s, vt
    # ARPACK's Lanczos vectors are read and written at every step: in single precision that memory
    # traffic halves (a third less time); the float64 Rayleigh-Ritz step below restores the precision
    # (singular values equal to 1e-10 relative, vectors to a cosine of 1 - 1e-7, on the shared corpus)
    single = matrix.astype(np.float32)
    transposed = single.T.tocsr()  # row-major both ways: two gathers per product, no scatter
    gramian = LinearOperator(shape=(columns, columns), dtype=np.float32,
                             matvec=lambda x: transposed @ (single @ x),
                             matmat=lambda x: transposed @ (single @ x))
    start = np.random.default_rng(seed).standard_normal(columns).astype(np.float32)
    _values, vectors = eigsh(gramian, k=k, v0=start, tol=0)
    vectors, _r = np.linalg.qr(vectors.astype(np.float64))  # not quite orthonormal when clustered
    projected = matrix @ vectors
    squares, rotation = np.linalg.eigh(projected.T @ projected)  # ascending, as svds returns them
    return np.sqrt(np.maximum(squares, 0.0)), (vectors @ rotation).T
