"""The top right singular vectors agree with scipy's ``svds`` (values equal, vectors up to sign)."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import svds

from kb.truncated_svd import top_right_singular_vectors


def _check(matrix: sparse.csr_matrix, k: int) -> None:
    s, vt = top_right_singular_vectors(matrix, k, seed=13)
    _u, expected_s, expected_vt = svds(matrix, k=k, random_state=13)
    assert s.shape == (k,) and vt.shape == (k, matrix.shape[1])
    assert np.all(np.diff(s) >= 0)  # ascending, as svds returns them
    np.testing.assert_allclose(s, expected_s, rtol=1e-9)
    cosines = np.abs(np.sum(vt * expected_vt, axis=1))
    np.testing.assert_allclose(cosines, 1.0, atol=1e-8)
    np.testing.assert_allclose(vt @ vt.T, np.eye(k), atol=1e-10)


def test_tall_matrix_matches_svds() -> None:
    rng = np.random.default_rng(0)
    matrix = sparse.random(3000, 400, density=0.02, random_state=rng, format="csr")
    matrix.data = rng.random(matrix.nnz) * (1 + np.arange(matrix.nnz) % 7)
    _check(matrix, 32)


def test_wide_matrix_goes_to_svds() -> None:
    matrix = sparse.random(120, 500, density=0.05, random_state=1, format="csr")
    _check(matrix, 16)
