"""Untrusted files are read in a child process that cannot take more than its limits."""

from __future__ import annotations

import shutil
from pathlib import Path

from ingest.sandbox import SandboxLimits, read_sandboxed

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def _one_document(tmp_path: Path) -> Path:
    source = next(p for p in sorted(CORPUS.rglob("*")) if p.suffix in (".txt", ".md") and p.is_file())
    folder = tmp_path / "upload"
    folder.mkdir()
    shutil.copy(source, folder / f"document{source.suffix}")
    return folder


def test_a_file_is_read_in_the_child_and_its_documents_come_back(tmp_path) -> None:
    documents, report = read_sandboxed([_one_document(tmp_path)])
    assert len(documents) == 1 and documents[0].segments and not report.failures
    assert report.files == 1 and report.characters == len(documents[0].text)
    assert report.results == []  # storing is the caller's


def test_a_read_that_needs_more_memory_than_allowed_stores_nothing(tmp_path) -> None:
    folder = _one_document(tmp_path)
    document = next(folder.iterdir())
    document.write_text(document.read_text(encoding="utf-8") * 2000, encoding="utf-8")  # ~20 MB of text
    documents, report = read_sandboxed([folder], limits=SandboxLimits(address_space_bytes=64 << 20))
    assert documents == []
    assert [f.code for f in report.failures] == ["too_costly"]
    assert "nothing was stored" in report.failures[0].reason


def test_a_read_that_runs_past_its_time_is_stopped(tmp_path) -> None:
    documents, report = read_sandboxed([_one_document(tmp_path)], limits=SandboxLimits(wall_seconds=0.01))
    assert documents == [] and [f.code for f in report.failures] == ["too_costly"]
    assert "longer than" in report.failures[0].reason
