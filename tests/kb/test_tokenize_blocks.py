"""Tokenising block by block, with the blocks' terms remembered, gives jieba's terms exactly."""

from __future__ import annotations

import pytest

from kb import tokenize as tokenize_module
from kb.normalize import normalize_for_matching
from kb.tokenize import WORD_CHAR, PolicyTokenizer, TokenizerSettings

TEXTS = [
    "常熟市人民政府办公室关于印发《常熟市2019年政务公开工作要点》的通知 一、（一） 财政预决算信息在哪公开？",
    "中华人民共和国社会保险法 第一章 总则 第一条 为了规范社会保险关系，维护公民参加社会保险和享受社会保险待遇的合法权益，制定本法。",
    "ＡＢＣ社會保險\u200b法 第一條", "", "   ", "，。！？", "㐀㐁 abc-12.5% C++ 𠀀𠀁，。！", "e\u0301 café",
    "依照本法规定。依照本法规定；依照本法规定", "12345热线 app下载 wifi",
]


def _plain(tokenizer: PolicyTokenizer, text: str) -> list[str]:
    jieba_tokenizer = tokenizer._tokenizer()
    normalized = normalize_for_matching(text)
    if tokenizer.settings.mode == "search":
        pieces = jieba_tokenizer.cut_for_search(normalized, HMM=tokenizer.settings.hmm)
    else:
        pieces = jieba_tokenizer.cut(normalized, HMM=tokenizer.settings.hmm)
    return [piece for piece in pieces if WORD_CHAR.search(piece)]


@pytest.mark.parametrize("settings", [TokenizerSettings(), TokenizerSettings(mode="accurate"),
                                      TokenizerSettings(hmm=False)])
def test_terms_are_jiebas_terms(settings: TokenizerSettings) -> None:
    tokenizer = PolicyTokenizer(settings)
    for _round in range(2):  # the second round answers from remembered blocks
        for text in TEXTS:
            assert tokenizer.tokenize(text) == _plain(tokenizer, text), text


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokenize_module, "CACHED_BLOCKS", 3)
    tokenizer = PolicyTokenizer()
    for text in TEXTS:
        assert tokenizer.tokenize(text) == _plain(tokenizer, text)
        assert len(tokenizer._blocks) <= 3
