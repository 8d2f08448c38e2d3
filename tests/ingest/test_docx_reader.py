"""Word files: automatic numbering rendered, tables as rows, headers dropped, hostile packages refused."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from xml.etree.ElementTree import fromstring

import pytest

import ingest.docx_reader
from ingest import UnsafeFile
from ingest.docx_numbering import ListNumbering, format_number
from ingest.docx_reader import read_docx
from tests.ingest import make_files

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _rewrite(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    """The package ``data`` with some entries replaced or added."""
    replace, add = replace or {}, add or {}
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, replace.get(item.filename, source.read(item.filename)))
        for name, content in add.items():
            target.writestr(name, content)
    return out.getvalue()


@pytest.mark.parametrize(("value", "number_format", "shown"), [
    (1, "chineseCounting", "一"), (10, "chineseCounting", "十"), (11, "chineseCounting", "十一"),
    (20, "chineseCounting", "二十"), (23, "chineseCountingThousand", "二十三"), (105, "chineseCounting", "一百零五"),
    (1, "ideographTraditional", "甲"), (10, "ideographTraditional", "癸"), (3, "chineseLegalSimplified", "叁"),
    (12, "ideographDigital", "一二"), (4, "decimal", "4"), (7, "decimalZero", "07"), (3, "decimalEnclosedCircle", "③"),
    (2, "decimalEnclosedParen", "⑵"), (4, "upperRoman", "IV"), (28, "lowerLetter", "bb"), (5, "someNewFormat", "5"),
])
def test_number_formats(value: int, number_format: str, shown: str) -> None:
    assert format_number(value, number_format) == shown


def _paragraph(num_id: str, ilvl: int) -> object:
    return fromstring(f'<w:p xmlns:w="{W}"><w:pPr><w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/>'
                      "</w:numPr></w:pPr></w:p>")


def test_counters_restart_below_a_higher_level_and_honour_overrides() -> None:
    numbering = fromstring(f"""<w:numbering xmlns:w="{W}">
      <w:abstractNum w:abstractNumId="1">
        <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="ideographTraditional"/><w:lvlText w:val="%1、"/></w:lvl>
        <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/><w:isLgl/></w:lvl>
      </w:abstractNum>
      <w:num w:numId="1"><w:abstractNumId w:val="1"/></w:num>
      <w:num w:numId="2"><w:abstractNumId w:val="1"/>
        <w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride></w:num>
    </w:numbering>""")
    lists = ListNumbering(numbering, None)
    shown = [lists.label(_paragraph(num, level)) for num, level in
             [("1", 0), ("1", 1), ("1", 1), ("1", 0), ("1", 1), ("2", 0), ("0", 0)]]
    assert shown == ["甲、", "1.1 ", "1.2 ", "乙、", "2.1 ", "戊、", ""]


def test_the_seed_numbering_exists_only_in_numbering_xml_and_still_reaches_the_text(
        seed_files: dict[str, Path]) -> None:
    data = seed_files["docx"].read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = archive.read("word/document.xml").decode("utf-8")
    assert "三、" not in body and "（四）深化" not in body  # the labels are list numbering, not text
    text = read_docx(data).text
    assert "\n\n三、深化重点领域信息公开\n\n" in text
    assert "\n\n（四）深化财政信息公开。按规定" in text


def test_tracked_changes_content_controls_headers_and_footers(seed_files: dict[str, Path]) -> None:
    extracted = read_docx(seed_files["docx"].read_bytes())
    assert "经研究，现将《常熟市2019年政务公开工作要点》印发给你们，请认真贯彻执行。" in extracted.text  # w:ins kept
    assert make_files.DELETED not in extracted.text  # w:del dropped
    assert "\n\n（此件公开发布）\n\n" in extracted.text  # a paragraph inside a content control
    assert "页眉" not in extracted.text and "页脚" not in extracted.text
    assert "常熟市人民政府办公室\n2019年11月1日" in extracted.text  # a line break inside one paragraph
    assert extracted.title is None and extracted.metadata["format"] == "docx"


def test_numbering_that_comes_from_a_paragraph_style(tmp_path: Path) -> None:
    from docx import Document as WordDocument

    document = WordDocument()
    for text in ("申请材料", "身份证明", "收入证明"):
        document.add_paragraph(text, style="List Number")
    document.save(tmp_path / "style.docx")
    assert read_docx((tmp_path / "style.docx").read_bytes()).text == "1. 申请材料\n\n2. 身份证明\n\n3. 收入证明"


XXE = f"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"""
LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>"""


@pytest.mark.parametrize("xml", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
def test_xml_with_a_doctype_is_refused(xml: str, seed_files: dict[str, Path]) -> None:
    data = _rewrite(seed_files["docx"].read_bytes(), replace={"word/document.xml": xml.encode()})
    with pytest.raises(UnsafeFile, match=r"^unsafe: word/document\.xml declares a DOCTYPE"):
        read_docx(data)


def test_a_highly_compressed_entry_is_refused_before_inflating(seed_files: dict[str, Path]) -> None:
    data = _rewrite(seed_files["docx"].read_bytes(), add={"word/media/image1.bin": bytes(5 * 1024 * 1024)})
    with pytest.raises(UnsafeFile, match=r"word/media/image1\.bin expands \d+x \(at most 100x\)"):
        read_docx(data)


def test_too_many_entries_are_refused(seed_files: dict[str, Path]) -> None:
    data = _rewrite(seed_files["docx"].read_bytes(), add={f"word/extra/item{i}.xml": b"" for i in range(2001)})
    with pytest.raises(UnsafeFile, match="zip entries"):
        read_docx(data)


def test_too_much_uncompressed_data_is_refused(seed_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest.docx_reader, "MAX_UNCOMPRESSED", 20_000)
    with pytest.raises(UnsafeFile, match="bytes uncompressed"):
        read_docx(seed_files["docx"].read_bytes())
