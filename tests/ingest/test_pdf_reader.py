"""PDFs: running headers and page numbers removed, paragraphs rejoined across lines and pages,
and the PDFs that cannot be read (scans, passwords, cut files) refused whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import CorruptFile, EncryptedFile, NeedsOCR
from ingest.pdf_layout import Line, is_page_number, paragraphs, strip_running_lines
from ingest.pdf_reader import read_pdf
from tests.ingest import make_files


@pytest.mark.parametrize("text", ["- 3 -", "— 12 —", "－ 7 －", "第3页", "第 3 页 共 12 页", "第3页，共12页", "3/12",
                                  "Page 3 of 12", "12"])
def test_page_number_lines(text: str) -> None:
    assert is_page_number(text)


@pytest.mark.parametrize("text", ["第三条 本办法自发布之日起施行。", "2019年11月1日", "- 3 - 页", "（一）"])
def test_not_page_numbers(text: str) -> None:
    assert not is_page_number(text)


def _page(header: str, *body: tuple[str, float], number: int) -> list[Line]:
    lines = [Line(header, 400, 505, 42, 10.5)]
    lines += [Line(text, x0, 495 if len(text) >= 27 else x0 + 15 * len(text), 100 + 27 * i, 15)
              for i, (text, x0) in enumerate(body)]
    return lines + [Line(f"- {number} -", 280, 315, 790, 10.5)]


def test_running_header_goes_but_the_same_text_in_the_body_stays() -> None:
    pages = [
        _page("常政办发〔2019〕143号", ("常熟市人民政府办公室文件", 220), ("常政办发〔2019〕143号", 240), number=1),
        _page("常政办发〔2019〕143号", ("第二页正文" * 6, 90), number=2),
        _page("常政办发〔2019〕143号", ("第三页正文" * 6, 90), number=3),
    ]
    kept = [[line.text for line in page] for page in strip_running_lines(pages)]
    assert kept == [["常熟市人民政府办公室文件", "常政办发〔2019〕143号"], ["第二页正文" * 6], ["第三页正文" * 6]]


def test_lines_join_unless_the_next_is_indented_and_pages_join_mid_word() -> None:
    full = "围绕推动解决小微企业和民营企业融资难融资贵问题，加快推"  # 27 characters: runs to the margin
    pages = [
        [Line("一、做好政务发布解读回应工作", 120, 330, 100, 15), Line("（一）" + full[3:], 120, 495, 127, 15),
         Line(full, 90, 495, 154, 15)],
        [Line("进金融开放。", 90, 180, 100, 15), Line("（二）强化政策宣传解读回应力度。", 120, 360, 127, 15)],
    ]
    assert paragraphs(pages) == ["一、做好政务发布解读回应工作", "（一）" + full[3:] + full + "进金融开放。",
                                 "（二）强化政策宣传解读回应力度。"]


def test_justified_cjk_spacing_is_not_text() -> None:
    assert paragraphs([[Line("加 强 公 开 平 台 建 设 ， 完 善 LPR 报价", 90, 495, 100, 15)]]) == ["加强公开平台建设，完善 LPR 报价"]


def test_the_seed_pdf_reads_back_whole(seed_files: dict[str, Path]) -> None:
    extracted = read_pdf(seed_files["pdf"].read_bytes())
    assert extracted.metadata["pages"] >= 8 and extracted.metadata["format"] == "pdf"
    assert extracted.metadata["file_title"] == "Microsoft Word - 143号.doc" and extracted.title is None
    assert extracted.text.count("常政办发〔2019〕143号") == 1
    assert "市政府办公室关于印发《常熟市2019年政务公开工作要点》的通知" in extracted.text  # a title on two centred lines
    assert "- 2 -" not in extracted.text


def test_a_scan_needs_ocr(seed_files: dict[str, Path]) -> None:
    with pytest.raises(NeedsOCR, match=r"^needs OCR \(no text layer\): none of the 1 page"):
        read_pdf(seed_files["scanned"].read_bytes())


def test_a_partly_scanned_pdf_is_refused_whole(tmp_path: Path) -> None:
    path = make_files.write_mixed_pdf(tmp_path / "mixed.pdf")
    with pytest.raises(NeedsOCR, match=r"on page\(s\) 2 of 2"):
        read_pdf(path.read_bytes())


def test_a_password_protected_pdf_is_encrypted(seed_files: dict[str, Path]) -> None:
    with pytest.raises(EncryptedFile, match="^encrypted: the PDF needs a password"):
        read_pdf(seed_files["encrypted"].read_bytes())


def test_a_pdf_protected_only_by_permissions_is_read(tmp_path: Path, seed_files: dict[str, Path]) -> None:
    path = make_files.write_encrypted_pdf(seed_files["pdf"], tmp_path / "permissions.pdf", user_password="")
    assert "（四）深化财政信息公开" in read_pdf(path.read_bytes()).text


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_a_cut_pdf_is_corrupt(keep: float, seed_files: dict[str, Path]) -> None:
    data = seed_files["pdf"].read_bytes()
    with pytest.raises(CorruptFile, match="^corrupt: "):
        read_pdf(data[: int(len(data) * keep)])


def test_a_damaged_pdf_with_an_end_marker_is_corrupt() -> None:
    with pytest.raises(CorruptFile, match="^corrupt: "):
        read_pdf(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
