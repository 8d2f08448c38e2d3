"""Text normalisation for matching only: what is stored and shown stays as written.

NFKC folds full-width letters, digits and brackets (ＡＢＣ１２３ -> ABC123, (一) and （一） meet);
invisible characters (zero-width spaces, BOMs, bidi controls) are removed so that 社\u200b保
matches 社保; Latin is lower-cased. Offsets are never computed on normalised text.
"""

from __future__ import annotations

import re
import unicodedata

#: Zero-width and bidirectional control characters, e.g. "社\u200b保", "\u202e".
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad\x00]")


def normalize_for_matching(text: str) -> str:
    """Return ``text`` folded for tokenisation (NFKC, no invisibles, lower case)."""
    text = INVISIBLE.sub("", text)
    return unicodedata.normalize("NFKC", text).lower()
