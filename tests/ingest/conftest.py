"""Fixtures of the ingest tests: the seed 公文 in every format, built once per session from its text."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import parse_document, slugify
from kb import Document, KnowledgeBase
from tests.conftest import SEED
from tests.ingest import make_files

STEM = SEED.stem  # "changshu-2019-zhengwu-gongkai-yaodian": the doc id every format must produce


@pytest.fixture(scope="session")
def seed_reference() -> Document:
    """The seed parsed from its own text: what every other format must come back as."""
    return parse_document(SEED.read_text(encoding="utf-8"), doc_id=slugify(SEED.name))


@pytest.fixture(scope="session")
def seed_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The seed as .docx, .pdf (two footer styles), .html (UTF-8 and GB18030), one folder each,
    and the bad files of a real file share: a scan, an encrypted PDF, cut and renamed files."""
    root = tmp_path_factory.mktemp("seed-formats")

    def place(kind: str, name: str) -> Path:
        folder = root / kind
        folder.mkdir()
        return folder / name

    files = {
        "docx": make_files.write_seed_docx(place("docx", f"{STEM}.docx")),
        "pdf": make_files.write_seed_pdf(place("pdf", f"{STEM}.pdf")),
        "pdf-of": make_files.write_seed_pdf(place("pdf-of", f"{STEM}.pdf"), footer="of"),
        "scanned": make_files.write_scanned_pdf(place("scanned", "scan.pdf")),
    }
    files["encrypted"] = make_files.write_encrypted_pdf(files["pdf"], place("encrypted", "protected.pdf"))
    for kind, charset in (("html", "utf-8"), ("html-gb", "gb18030")):
        files[kind] = place(kind, f"{STEM}.html")
        files[kind].write_bytes(make_files.seed_html(charset=charset))
    return files


@pytest.fixture()
def knowledge_base(tmp_path: Path) -> KnowledgeBase:
    return KnowledgeBase(tmp_path / "kb", create=True)
