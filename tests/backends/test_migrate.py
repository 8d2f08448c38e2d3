"""``policykb migrate --to milvus``: publishes the current generation and records the backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kb import KnowledgeBase
from policykb.cli import cli
from tests.backends.conftest import new_kb


def test_migrate_publishes_and_records_the_backend(tmp_path: Path, policy_documents: Any, milvus_uri: str) -> None:
    from kb.milvus import backend_of, open_searcher

    knowledge_base = new_kb(tmp_path / "kb", policy_documents)
    knowledge_base.close()
    result = CliRunner().invoke(cli, ["migrate", "--to", "milvus", "--milvus-uri", milvus_uri,
                                      "--kb", str(tmp_path / "kb"), "--json"])
    assert result.exit_code == 0, result.output
    publication = json.loads(result.output)
    reopened = KnowledgeBase(tmp_path / "kb")
    record = backend_of(reopened)
    assert record == {"backend": "milvus", "uri": milvus_uri, "alias": publication["alias"]}
    assert publication["passages"] == reopened.stats()["segments"]
    hits = open_searcher(reopened, record).search("住房公积金 提取", abstain=False).hits
    assert hits and hits[0].doc_id == "housing-fund"


def test_migrate_without_an_index_says_so_in_one_line(tmp_path: Path, policy_documents: Any, milvus_uri: str) -> None:
    knowledge_base = KnowledgeBase(tmp_path / "kb", create=True)
    knowledge_base.add_documents(policy_documents)
    knowledge_base.close()
    result = CliRunner().invoke(cli, ["migrate", "--to", "milvus", "--milvus-uri", milvus_uri, "--kb", str(tmp_path / "kb")])
    assert result.exit_code == 1
    assert "policykb build" in result.output and "Traceback" not in result.output
