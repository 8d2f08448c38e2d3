"""Text normalisation for matching only: what is stored and shown stays as written.

NFKC folds full-width letters, digits and brackets (ＡＢＣ１２３ -> abc123, (一) and （一） meet);
invisible characters (zero-width spaces, BOMs, bidi controls) are removed so that 社\u200b保
matches 社保; Latin is lower-cased; traditional characters become simplified (OpenCC t2s), so
社會保險 matches 社会保险. Offsets are never computed on normalised text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc

#: Zero-width and bidirectional control characters, e.g. "社\u200b保", "\u202e".
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad\x00]")
#: The OpenCC configuration used for matching; part of the tokenizer fingerprint.
T2S_CONFIG = "t2s"


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    return opencc.OpenCC(T2S_CONFIG)


def to_simplified(text: str) -> str:
    return _converter().convert(text)


_WHITESPACE = re.compile(r"\s+")


def without_whitespace(text: str) -> str:
    """``text`` with every run of whitespace removed: in Chinese text spacing and line
    breaks carry no meaning, so two copies that differ only there are the same text."""
    return _WHITESPACE.sub("", text)


def normalize_for_matching(text: str) -> str:
    """Return ``text`` folded for tokenisation (NFKC, no invisibles, lower case, simplified)."""
    text = INVISIBLE.sub("", text)
    return to_simplified(unicodedata.normalize("NFKC", text).lower())


class _SameLengthFold(dict):
    """``str.translate`` table folding one character at a time, filled as characters are met.

    A character maps to its NFKC, lower-cased form when that is one character, else to
    itself; each is worked out once per process instead of once per occurrence.
    """

    def __missing__(self, code: int) -> str:
        char = chr(code)
        mapped = unicodedata.normalize("NFKC", char).lower()
        folded = mapped if len(mapped) == 1 else char
        self[code] = folded
        return folded


_FOLD = _SameLengthFold()


def fold_same_length(text: str) -> str:
    """Fold ``text`` like :func:`normalize_for_matching` but keep every character's position.

    Each character is NFKC-folded and lower-cased on its own only when it stays one
    character, and the traditional->simplified conversion is kept only when it does not
    change the length, so offsets found in the result are offsets into ``text``.
    """
    joined = text.translate(_FOLD)
    simplified = to_simplified(joined)
    return simplified if len(simplified) == len(joined) else joined
