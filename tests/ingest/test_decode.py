"""decode_bytes: strict decoding, BOMs, GB18030 round trips, and loud failures."""

from __future__ import annotations

import pytest

from ingest import DecodeError, decode_bytes

TEXT = "常熟市政务公开工作要点：生僻字㐀与𠀀必须原样保留。\n第二行\n"


def test_gb18030_round_trips_rare_characters() -> None:
    data = TEXT.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the GB18030 path is what is exercised
    assert decode_bytes(data) == TEXT


def test_gbk_bytes_decode() -> None:
    assert decode_bytes("市政府办公室关于印发的通知".encode("gbk")) == "市政府办公室关于印发的通知"


def test_utf8_with_and_without_bom() -> None:
    assert decode_bytes(TEXT.encode("utf-8")) == TEXT
    assert decode_bytes(TEXT.encode("utf-8-sig")) == TEXT  # the BOM is not part of the text


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(encoding: str) -> None:
    bom = b"\xff\xfe" if encoding == "utf-16-le" else b"\xfe\xff"
    assert decode_bytes(bom + TEXT.encode(encoding)) == TEXT


def test_undecodable_bytes_raise_with_the_reason() -> None:
    with pytest.raises(DecodeError, match="not valid in any accepted encoding") as caught:
        decode_bytes(b"\x81\x30\xff\xfe\xfd" * 20)
    assert isinstance(caught.value, ValueError)


def test_utf16_without_bom_is_refused_not_misread() -> None:
    with pytest.raises(DecodeError, match="NUL"):
        decode_bytes("policy text in UTF-16".encode("utf-16-le"))


def test_binary_control_characters_are_refused() -> None:
    with pytest.raises(DecodeError, match="control characters"):
        decode_bytes(b"abc\x01\x02\x03\x04\x1b" * 10)


def test_many_replacement_characters_are_refused_a_few_are_kept() -> None:
    with pytest.raises(DecodeError, match="U\\+FFFD"):
        decode_bytes(("政务公开" * 10 + "\ufffd\ufffd").encode("utf-8"))
    long_text = "政务公开" * 1000 + "\ufffd"  # 1 in 4001: under 0.1%
    assert decode_bytes(long_text.encode("utf-8")) == long_text


def test_empty_bytes_are_empty_text() -> None:
    assert decode_bytes(b"") == ""
