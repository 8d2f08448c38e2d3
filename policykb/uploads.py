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
from dataclasses import replace
from pathlib import Path

from ingest import Failure, IngestReport, slugify
from ingest.pipeline import MANIFEST_NAME, SUPPORTED_SUFFIXES
from ingest.sandbox import read_sandboxed
from kb import KnowledgeBase


def ingest_upload(kb: KnowledgeBase, path: Path, name: str) -> IngestReport:
    """Read the file at ``path`` (alone in its folder) into ``kb`` as the client's file ``name``.

    The file is read in a resource-limited child process (``ingest.sandbox``): an uploaded
    file is untrusted, and a parser bomb must not take the service down. This process stores
    what the child read.
    """
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
    documents, report = read_sandboxed([path.parent])
    # the client's name is the source, never the server path
    documents = [replace(d, source=d.source.replace(str(path), name)) if d.source else d for d in documents]
    if documents:
        report.results.extend(kb.add_documents(documents))
    return report
