"""Bytes to text, refusing to guess silently.

Chinese government files arrive as UTF-8 (with or without a BOM), as UTF-16 from
Windows tools, or as GBK/GB18030 from older systems. A wrong guess does not fail
loudly: it produces mojibake that is then indexed and cited. So every decode here
is strict, the result is checked for looking like text, and anything doubtful
raises :class:`DecodeError` instead of being patched with U+FFFD.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["DecodeError", "decode_bytes"]

#: Byte-order marks, longest first: the UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

#: Without a BOM: UTF-8 first (it almost never decodes GBK bytes by accident),
#: then GB18030, a superset of GBK and GB2312 that also maps every Unicode
#: character (㐀, 𠀀) through its four-byte sequences.
_FALLBACKS = ("utf-8", "gb18030")

#: C0/C1 control characters other than tab, newlines, vertical tab and form feed
#: (PDF page breaks), which a text file may legitimately contain; e.g. matches "\x1b".
_CONTROL = re.compile(r"[\x01-\x08\x0e-\x1f\x7f-\x9f]")

#: More control characters than this share of the text means binary data or a wrong codec.
MAX_CONTROL_SHARE = 0.01
#: More U+FFFD than this share means the source was already damaged by a lossy decode.
MAX_REPLACEMENT_SHARE = 0.001


class DecodeError(ValueError):
    """The bytes are not plausible text in any encoding we accept."""


def decode_bytes(data: bytes, *, max_replacement_share: float = MAX_REPLACEMENT_SHARE) -> str:
    """Decode a file's bytes to text: a BOM decides, else strict UTF-8, else strict GB18030.

    Raises :class:`DecodeError` naming the reason when no strict decode works or when
    the decoded text is implausible (NUL bytes, many control characters, or more than
    ``max_replacement_share`` (0.1%) replacement characters).
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError as exc:
                raise DecodeError(f"bytes start with a {encoding} byte-order mark but do not decode: {exc}") from exc
            _check_plausible(text, encoding, max_replacement_share)
            return text.lstrip("\ufeff")
    failures = []
    for encoding in _FALLBACKS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            failures.append(f"{encoding}: {exc.reason} at byte {exc.start}")
            continue
        _check_plausible(text, encoding, max_replacement_share)
        return text
    raise DecodeError("not valid in any accepted encoding (" + "; ".join(failures) + ")")


def _check_plausible(text: str, encoding: str, max_replacement_share: float) -> None:
    """Raise when decoded text looks like binary data or carries earlier decode damage."""
    if not text:
        return
    if "\x00" in text:
        raise DecodeError(
            f"decoded as {encoding} but contains NUL characters: binary data, "
            "or UTF-16/UTF-32 without a byte-order mark"
        )
    controls = len(_CONTROL.findall(text))
    if controls > MAX_CONTROL_SHARE * len(text):
        raise DecodeError(f"decoded as {encoding} but {controls} of {len(text)} characters are control characters")
    replacements = text.count("\ufffd")
    if replacements > max_replacement_share * len(text):
        raise DecodeError(
            f"decoded as {encoding} but {replacements} of {len(text)} characters are U+FFFD "
            "replacement characters (the text was already damaged by a lossy conversion)"
        )
