"""How the service reads an uploaded file: as ``policykb ingest`` would, under the client's name.

The service saves each upload under a generated name, alone in a folder of its own
(``service.uploads``), and may not import ``ingest`` itself; this composition root hands it
:func:`ingest_upload`. It writes that folder's ``manifest.json`` so that the document id is
the slug of the client's file name, as ``policykb ingest`` gives a file (uploading the same
file again is ``unchanged``), keeps the client's name in the metadata (``uploaded_as``), and
records it as the document's ``source`` instead of the server path, which no response may show.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import cast

from ingest import Failure, IngestReport, ingest_paths, slugify
from ingest.pipeline import MANIFEST_NAME, SUPPORTED_SUFFIXES
from kb import AddResult, Document, KnowledgeBase


class _UploadedAs:
    """The knowledge base as ``ingest_paths`` uses it, storing ``name`` as the source instead of ``path``."""

    def __init__(self, kb: KnowledgeBase, path: Path, name: str) -> None:
        self.kb, self.path, self.name = kb, str(path), name

    def add_documents(self, documents: Sequence[Document], *, workers: int = 1) -> list[AddResult]:
        renamed = [replace(d, source=d.source.replace(self.path, self.name)) if d.source else d for d in documents]
        return self.kb.add_documents(renamed, workers=workers)


def ingest_upload(kb: KnowledgeBase, path: Path, name: str) -> IngestReport:
    """Read the file at ``path`` (alone in its folder) into ``kb`` as the client's file ``name``."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:  # a folder walk would skip it without a word
        report = IngestReport(files=1)
        report.failures.append(Failure(name, f"unsupported file type {suffix or '(none)'!r}", "unsupported_type"))
        return report
    entry: dict[str, object] = {"file": path.name, "metadata": {"uploaded_as": name}}
    if doc_id := slugify(name.replace("\\", "/")):
        entry["doc_id"] = doc_id
    (path.parent / MANIFEST_NAME).write_text(json.dumps({"documents": [entry]}, ensure_ascii=False),
                                             encoding="utf-8")
    return ingest_paths(cast(KnowledgeBase, _UploadedAs(kb, path, name)), [path.parent])
