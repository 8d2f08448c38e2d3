"""The real path for every format: file -> ingest_paths -> a real KnowledgeBase -> the seed's structure.

Each fixture is built from the seed text with the artifacts of its format (Word list
numbering, running PDF headers and page numbers, a web page's chrome); after ingest the
seed's 5 sections and 17 items must come out with the same anchors, section paths,
departments and text as the seed's own text file gives, and nothing from the chrome.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ingest import ingest_paths
from kb import Document, KnowledgeBase
from tests.ingest import make_files
from tests.ingest.conftest import STEM

FORMATS = ("docx", "pdf", "pdf-of", "html", "html-gb")
#: What must never reach a segment, whatever the format: headers, footers, page numbers, page chrome.
NEVER = (make_files.DOCX_HEADER, make_files.DOCX_FOOTER, "页眉", "页脚", make_files.DELETED,
         *make_files.HTML_BOILERPLATE, "<script", "<style")
#: A page-number line left behind: "- 3 -", "第3页 共10页".
PAGE_NUMBER_LEFT = re.compile(r"(?:^|\n)\s*(?:-\s*\d+\s*-|第\s*\d+\s*页)")


def _items(rows: list[dict]) -> dict[str, tuple]:
    return {r["anchor"]: (tuple(r["section_path"]), tuple(r["departments"]), r["text"])
            for r in rows if r["anchor"].startswith("s")}


@pytest.mark.parametrize("kind", FORMATS)
def test_every_format_gives_the_seeds_sections_and_items(kind: str, seed_files: dict[str, Path],
                                                         seed_reference: Document,
                                                         knowledge_base: KnowledgeBase) -> None:
    report = ingest_paths(knowledge_base, [seed_files[kind]])
    assert report.failures == [] and [r.outcome for r in report.results] == ["added"]
    document = knowledge_base.document(STEM)
    assert document["doc_number"] == "常政办发〔2019〕143号"
    assert document["title"] == seed_reference.title
    assert document["issuer"] == "常熟市人民政府办公室" and document["date"] == "2019-11-01"
    rows = knowledge_base.segments_of(STEM)
    items = _items(rows)
    expected = {s.anchor: (s.section_path, s.departments, s.text) for s in seed_reference.segments
                if s.anchor.startswith("s")}
    assert len(expected) == 17 and len({path[0] for path, _, _ in expected.values()}) == 5
    assert items == expected
    s34 = knowledge_base.segment(f"{STEM}#s3.4")
    assert s34["section_path"] == ["三、深化重点领域信息公开", "（四）深化财政信息公开"]
    assert s34["departments"] == ["财政局"]
    text = knowledge_base.document(STEM)["text"]
    assert text.count("常政办发〔2019〕143号") == seed_reference.text.count("常政办发〔2019〕143号") == 1
    assert "12345平台“一号答”服务体系" in text  # the word the seed's page break cut is whole again
    for row in rows:
        assert not [marker for marker in NEVER if marker in row["text"]], row["segment_id"]
        assert not PAGE_NUMBER_LEFT.search(row["text"]), row["segment_id"]
        assert row["text"] == text[row["start"] : row["end"]]


def test_the_word_table_comes_out_as_rows(seed_files: dict[str, Path], knowledge_base: KnowledgeBase) -> None:
    ingest_paths(knowledge_base, [seed_files["docx"]])
    text = knowledge_base.document(STEM)["text"]
    assert "| 附件 | 常熟市2019年政务公开工作任务分解表 |\n| 联系人 | 市政府办公室政务公开科 |" in text
    assert knowledge_base.document(STEM)["metadata"]["format"] == "docx"


def test_a_bad_file_among_good_ones_is_reported_in_one_line_and_the_good_ones_go_in(
        tmp_path: Path, seed_files: dict[str, Path], knowledge_base: KnowledgeBase) -> None:
    folder = tmp_path / "share"
    folder.mkdir()
    shutil.copy(seed_files["docx"], folder / "a-notice.docx")
    shutil.copy(seed_files["pdf-of"], folder / "b-printed.pdf")
    shutil.copy(seed_files["html"], folder / "c-page.htm")
    (folder / "d-notes.txt").write_text("第一条 个体工商户可以个人经营。\n\n第二条 个体工商户可以家庭经营。", encoding="utf-8")
    docx = seed_files["docx"].read_bytes()
    pdf = seed_files["pdf"].read_bytes()
    (folder / "m-corrupt.docx").write_bytes(docx[: len(docx) // 2])
    (folder / "m-truncated.pdf").write_bytes(pdf[: len(pdf) // 2])
    (folder / "m-page-renamed.pdf").write_bytes(make_files.seed_html())
    (folder / "m-setup.docx").write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(200))
    shutil.copy(seed_files["scanned"], folder / "m-scanned.pdf")
    shutil.copy(seed_files["encrypted"], folder / "m-encrypted.pdf")
    (folder / "~$a-notice.docx").write_bytes(b"\x00" * 162)  # Word's lock file: not a document
    ticks: list[tuple[int, int]] = []

    report = ingest_paths(knowledge_base, [folder], progress=lambda done, total: ticks.append((done, total)))

    failed = {Path(f.source).name: f for f in report.failures}
    assert {name: f.code for name, f in failed.items()} == {
        "m-corrupt.docx": "corrupt",
        "m-truncated.pdf": "corrupt",
        "m-page-renamed.pdf": "unsupported_type",
        "m-setup.docx": "unsupported_type",
        "m-scanned.pdf": "needs_ocr",
        "m-encrypted.pdf": "encrypted",
    }
    prefixes = {"corrupt": "corrupt: ", "unsupported_type": "unsupported_type: ", "needs_ocr": "needs OCR (no text layer)",
                "encrypted": "encrypted: "}
    assert all("\n" not in f.reason and f.reason.startswith(prefixes[f.code]) for f in report.failures)
    assert "needs OCR (no text layer)" in failed["m-scanned.pdf"].reason
    assert "encrypted" in failed["m-encrypted.pdf"].reason
    assert "HTML" in failed["m-page-renamed.pdf"].reason and "executable" in failed["m-setup.docx"].reason
    stored = sorted(d["doc_id"] for d in knowledge_base.documents())
    # the PDF and the web page give exactly the same text: the second is reported as a duplicate
    assert stored == ["a-notice", "b-printed", "d-notes"]
    assert sorted((r.doc_id, r.outcome) for r in report.results) == [
        ("a-notice", "added"), ("b-printed", "added"), ("c-page", "duplicate"), ("d-notes", "added")]
    assert report.files == 10
    assert ticks == [(done, 10) for done in range(11)]
