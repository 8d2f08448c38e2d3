"""Content sniffing: a file is what its bytes say, and a name that disagrees is refused."""

from __future__ import annotations

import codecs
import io
import zipfile
from pathlib import Path

import pytest

from ingest import CorruptFile, EncryptedFile, UnsupportedType, sniff
from ingest.sniff import check_type


def _zip(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(("data", "kind"), [
    (b"%PDF-1.7\n...", "pdf"),
    (b"\xef\xbb\xbf  %PDF-1.4", "pdf"),
    (b"\x00\x00junk\n%PDF-1.4\n\x00", "pdf"),  # junk before the header is tolerated, as readers do
    (b"<html><body><p>%PDF-1.4 is a version</p></body></html>", "html"),
    (_zip("[Content_Types].xml", "word/document.xml"), "docx"),
    (_zip("[Content_Types].xml", "xl/workbook.xml"), "xlsx"),
    (_zip("OFD.xml", "Doc_0/Document.xml"), "ofd"),
    (_zip("readme.txt"), "zip"),
    (_zip("word/document.xml")[:40], "broken_zip"),
    ("<!DOCTYPE html><html><body>通知</body></html>".encode(), "html"),
    (b"\n\n  <html lang='zh'>", "html"),
    (b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0">', "html"),
    (codecs.BOM_UTF16_LE + "<html><body>通知</body></html>".encode("utf-16-le"), "html"),
    (b'<?xml version="1.0"?><records/>', "xml"),
    ("关于做好失业保险稳岗返还工作的通知".encode("gb18030"), "text"),
    ("<p>is not the start: 通知</p>".encode()[3:], "text"),
    (b"MZ\x90\x00\x03", "executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "ole"),
    (b"\x89PNG\r\n\x1a\n....", "image"),
    (b"\x00\x01\x02\x03binary", "binary"),
    (b"  \n", "empty"),
])
def test_sniff_names_the_content(data: bytes, kind: str) -> None:
    assert sniff(data) == kind


def test_a_pdf_that_is_really_a_web_page_is_an_unsupported_type() -> None:
    with pytest.raises(UnsupportedType, match=r"^unsupported_type: named \.pdf but the content is an HTML page$"):
        check_type(".pdf", b"<!DOCTYPE html><html><body>x</body></html>")


def test_an_executable_renamed_docx_is_an_unsupported_type() -> None:
    with pytest.raises(UnsupportedType, match="executable program"):
        check_type(".docx", b"MZ\x90\x00" + bytes(64))


def test_a_legacy_doc_renamed_docx_says_what_to_do() -> None:
    with pytest.raises(UnsupportedType, match=r"save it as \.docx"):
        check_type(".docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))


def test_a_password_protected_docx_is_encrypted_not_unsupported() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100) + "EncryptedPackage".encode("utf-16-le") + bytes(100)
    with pytest.raises(EncryptedFile, match="^encrypted: "):
        check_type(".docx", ole)


def test_a_cut_docx_is_corrupt_not_unsupported(seed_files: dict[str, Path]) -> None:
    data = seed_files["docx"].read_bytes()
    with pytest.raises(CorruptFile, match="^corrupt: "):
        check_type(".docx", data[: len(data) // 2])


def test_text_names_accept_markup_and_leave_binary_to_the_decoder() -> None:
    assert check_type(".md", b"<!-- note -->\n# \xe6\xa0\x87\xe9\xa2\x98") == "html"
    assert check_type(".txt", b"\x00\x01\x02") == "binary"  # decode_bytes then says exactly why
    with pytest.raises(UnsupportedType, match="a PDF"):
        check_type(".txt", b"%PDF-1.4 ...")
    with pytest.raises(UnsupportedType, match="no reader"):
        check_type(".xlsx", _zip("xl/workbook.xml"))
