"""jieba tokenisation with the policy lexicon, shared by indexing and querying.

A private ``jieba.Tokenizer`` keeps the policy user dictionary out of the process-wide
default one (other code in the same process may use jieba differently). Tokens that
contain no letter, digit or CJK character (punctuation, spaces, emoji) are dropped, so a
question made only of punctuation has no searchable terms.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from functools import cached_property
from importlib import resources

import jieba

from kb.normalize import T2S_CONFIG, normalize_for_matching

#: A token worth indexing holds at least one word character: "社保", "12345", "app".
WORD_CHAR = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ffff]")

TOKENIZER_MODES = ("search", "accurate")
#: jieba cuts a text block by block, each on its own: runs of CJK characters, ASCII letters,
#: digits and "+#&._%-" ("社会保险法", "12345"), and the runs between them ("，", " "). So the
#: terms of a text are the terms of its blocks in order, and a block's terms can be remembered.
JIEBA_BLOCK = jieba.re_han_default
#: Blocks whose terms are remembered (about 100 MB); the memory is emptied when it is full.
CACHED_BLOCKS = 200_000


def resource_lines(name: str) -> list[str]:
    """The non-empty, non-comment lines of a bundled resource file of ``kb.resources``."""
    text = resources.files("kb.resources").joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@dataclass(frozen=True)
class TokenizerSettings:
    """How text becomes terms; stored in the index manifest so a mismatch is detected.

    ``mode`` "search" uses jieba's ``cut_for_search`` (long words also yield their
    sub-words: 中华人民共和国 -> 中华, 人民, 共和国, ...), which lets a citizen's short word
    match a formal compound; "accurate" uses plain ``cut``.
    """

    mode: str = "search"
    hmm: bool = True

    def __post_init__(self) -> None:
        if self.mode not in TOKENIZER_MODES:
            raise ValueError(f"tokenizer mode must be one of {TOKENIZER_MODES}, not {self.mode!r}")


_JIEBA: dict[str, jieba.Tokenizer] = {}
_JIEBA_LOCK = threading.Lock()


def _shared_jieba(fingerprint: str, lexicon: tuple[str, ...]) -> jieba.Tokenizer:
    """One jieba dictionary with the policy lexicon per process and tokenizer fingerprint.

    Loading it takes half a second of Python work and ~100 MB; a server loads a new
    knowledge-base instance at every index switch (beside the one answering), which loaded
    it again and held the interpreter from the questions meanwhile. Cutting only reads it.
    """
    with _JIEBA_LOCK:
        tokenizer = _JIEBA.get(fingerprint)
        if tokenizer is None:
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            for line in lexicon:
                parts = line.split()
                freq = int(parts[1]) if len(parts) > 1 else None
                tag = parts[2] if len(parts) > 2 else None
                tokenizer.add_word(parts[0], freq, tag)
            _JIEBA[fingerprint] = tokenizer
        return tokenizer


class PolicyTokenizer:
    """Turns documents and questions into jieba terms with the policy lexicon."""

    def __init__(self, settings: TokenizerSettings | None = None) -> None:
        self.settings = settings or TokenizerSettings()
        self._jieba: jieba.Tokenizer | None = None
        self._blocks: dict[str, tuple[str, ...]] = {}

    @cached_property
    def lexicon(self) -> list[str]:
        return resource_lines("policy_lexicon.txt")

    @cached_property
    def stopwords(self) -> frozenset[str]:
        return frozenset(resource_lines("hotline_stopwords.txt"))

    @cached_property
    def fingerprint(self) -> str:
        """A hash of everything that changes the terms: settings, lexicon, stopwords."""
        digest = hashlib.sha256()
        digest.update(f"{self.settings.mode}|{self.settings.hmm}|jieba-{jieba.__version__}|{T2S_CONFIG}".encode())
        for line in [*self.lexicon, "--", *sorted(self.stopwords)]:
            digest.update(line.encode("utf-8") + b"\n")
        return digest.hexdigest()[:16]

    def _tokenizer(self) -> jieba.Tokenizer:
        if self._jieba is None:
            self._jieba = _shared_jieba(self.fingerprint, tuple(self.lexicon))
        return self._jieba

    def background_probability(self, term: str) -> float:
        """The term's probability in general Chinese, from jieba's dictionary counts (add-one)."""
        tokenizer = self._tokenizer()
        return (tokenizer.FREQ.get(term, 0) + 1) / tokenizer.total

    def tokenize(self, text: str) -> list[str]:
        """Terms of a document text, in order, duplicates kept (BM25 needs term counts)."""
        terms: list[str] = []
        for block in JIEBA_BLOCK.split(normalize_for_matching(text)):
            if block:
                terms.extend(self._block_terms(block))
        return terms

    def _block_terms(self, block: str) -> tuple[str, ...]:
        """The terms of one block, remembered: a law's title and chapter heading come with each
        of its articles, and its set phrases ("依照本法规定") come back in every law."""
        terms = self._blocks.get(block)
        if terms is None:
            tokenizer = self._tokenizer()
            if self.settings.mode == "search":
                pieces = tokenizer.cut_for_search(block, HMM=self.settings.hmm)
            else:
                pieces = tokenizer.cut(block, HMM=self.settings.hmm)
            terms = tuple(piece for piece in pieces if WORD_CHAR.search(piece))
            if len(self._blocks) >= CACHED_BLOCKS:
                self._blocks.clear()
            self._blocks[block] = terms
        return terms

    def tokenize_query(self, text: str) -> list[str]:
        """Terms of a question: as documents, less hotline filler (请问, 怎么办, 吗 ...).

        A question made only of filler ("你好", "请问怎么办？") has no terms: searching
        for it would only return random passages.
        """
        return [term for term in self.tokenize(text) if term not in self.stopwords]
