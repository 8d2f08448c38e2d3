"""A LightGBM model run through LightGBM's own C library, without its Python package.

Importing the ``lightgbm`` package imports scikit-learn (about 0.7 s of the 1 s it takes),
which a shell ``policykb ask`` and a starting service would pay for one prediction function.
The package ships its C library (``lightgbm/lib/lib_lightgbm.so``); this module finds it
without importing the package and calls the two entry points the package itself calls to
load a model file and predict a matrix (``LGBM_BoosterCreateFromModelfile``,
``LGBM_BoosterPredictForMat``). Fitting stays with the package (``evaluation/fit_ranker.py``);
tests check that both give the same scores.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import sys
from pathlib import Path

import numpy as np

#: Constants of LightGBM's C API (c_api.h).
_DTYPE_FLOAT64 = 1
_ROW_MAJOR = 1
_PREDICT_NORMAL = 0
_ALL_ITERATIONS = -1


class ModelError(ValueError):
    """The model file cannot be read by the library."""


def library_path() -> Path:
    """Where the installed package keeps its C library; ImportError where it is not installed."""
    spec = importlib.util.find_spec("lightgbm")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the lightgbm package is not installed")
    name = {"win32": "lib_lightgbm.dll", "darwin": "lib_lightgbm.dylib"}.get(sys.platform, "lib_lightgbm.so")
    for folder in spec.submodule_search_locations:
        for candidate in (Path(folder) / "lib" / name, Path(folder) / name):
            if candidate.is_file():
                return candidate
    raise ImportError(f"the lightgbm package has no {name}")


@functools.cache
def _load_library() -> ctypes.CDLL:
    """The C library, loaded once (OSError where it cannot be: it needs the system's libgomp)."""
    library = ctypes.CDLL(str(library_path()))
    library.LGBM_GetLastError.restype = ctypes.c_char_p
    return library


def feature_names(model_file: Path) -> tuple[str, ...]:
    """The feature names a LightGBM text model was fitted with (its ``feature_names=`` line)."""
    with model_file.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("feature_names="):
                return tuple(line.rstrip("\n").split("=", 1)[1].split(" "))
            if line.startswith("Tree="):
                break
    return ()


class NativeModel:
    """One loaded model: ``predict`` gives the raw score of each row (a ranker's order)."""

    def __init__(self, model_file: Path | str) -> None:
        self.model_file = Path(model_file)
        self._library = _load_library()
        self._handle = ctypes.c_void_p()
        iterations = ctypes.c_int(0)
        self._check(self._library.LGBM_BoosterCreateFromModelfile(
            str(self.model_file).encode("utf-8"), ctypes.byref(iterations), ctypes.byref(self._handle)))
        self.feature_names = feature_names(self.model_file)

    def _check(self, status: int) -> None:
        if status != 0:
            message = (self._library.LGBM_GetLastError() or b"").decode("utf-8", "replace")
            raise ModelError(f"{self.model_file}: {message}")

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Raw scores of ``rows`` (one row per item, one column per feature), on one thread."""
        data = np.ascontiguousarray(rows, dtype=np.float64)
        if data.ndim != 2 or data.shape[1] != len(self.feature_names):
            raise ValueError(f"expected rows of {len(self.feature_names)} features, got shape {data.shape}")
        scores = np.empty(data.shape[0], dtype=np.float64)
        written = ctypes.c_int64(0)
        self._check(self._library.LGBM_BoosterPredictForMat(
            self._handle, data.ctypes.data_as(ctypes.c_void_p), ctypes.c_int(_DTYPE_FLOAT64),
            ctypes.c_int32(data.shape[0]), ctypes.c_int32(data.shape[1]), ctypes.c_int(_ROW_MAJOR),
            ctypes.c_int(_PREDICT_NORMAL), ctypes.c_int(0), ctypes.c_int(_ALL_ITERATIONS), b"num_threads=1",
            ctypes.byref(written), scores.ctypes.data_as(ctypes.POINTER(ctypes.c_double))))
        if written.value != data.shape[0]:
            raise ModelError(f"{self.model_file}: {written.value} scores for {data.shape[0]} rows")
        return scores

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None and handle.value:
            self._library.LGBM_BoosterFree(handle)
