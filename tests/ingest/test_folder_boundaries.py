"""Nothing outside the named paths is read, and whatever a folder walk skips is reported.

Found by a hostile trial: a link ``passwd_link.txt -> /etc/passwd`` in an ingested folder was
stored and then served; a manifest entry ``"file": "../../../../etc/passwd"`` was honoured; a
named pipe or a link loop was skipped without a word.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ingest import discover, ingest_paths
from kb import KnowledgeBase

NOTICE = "关于做好失业保险稳岗返还工作的通知\n\n一、返还条件\n\n（一）参保企业上年度未裁员的，可以申请稳岗返还。（责任部门：人社局）\n"
SECRET = "绝密文件：本文件不应被读取。管理员口令在此。\n"


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET, encoding="utf-8")
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "notice.txt").write_text(NOTICE, encoding="utf-8")
    return docs


def _kb(tmp_path: Path) -> KnowledgeBase:
    return KnowledgeBase(tmp_path / "kb", create=True)


def test_a_link_out_of_the_folder_is_reported_and_never_read(tmp_path: Path, folder: Path) -> None:
    (folder / "passwd_link.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    (folder / "sub" / "up.txt").symlink_to("../../outside/secret.txt")
    knowledge_base = _kb(tmp_path)
    report = ingest_paths(knowledge_base, [folder])
    refused = {Path(f.source).name: f for f in report.failures}
    assert set(refused) == {"passwd_link.txt", "up.txt"}
    assert all(f.code == "outside_folder" and "outside the folder" in f.reason for f in refused.values())
    stored = [knowledge_base.document(d["doc_id"]) for d in knowledge_base.documents()]
    assert len(stored) == 1 and all("口令" not in doc["text"] for doc in stored)


def test_a_link_inside_the_folder_is_followed(tmp_path: Path, folder: Path) -> None:
    (folder / "sub" / "same.txt").symlink_to("../notice.txt")
    found, failures = discover([folder])
    assert [p.name for p, _ in found] == ["notice.txt", "same.txt"] and failures == []


def test_links_to_folders_loops_dangling_links_and_pipes_are_each_reported(tmp_path: Path, folder: Path) -> None:
    (folder / "elsewhere").symlink_to(tmp_path / "outside", target_is_directory=True)
    (folder / "loop.txt").symlink_to(folder / "loop.txt")
    (folder / "gone.txt").symlink_to(folder / "never-there.txt")
    os.mkfifo(folder / "pipe.txt")
    found, failures = discover([folder])
    assert [p.name for p, _ in found] == ["notice.txt"]
    by_name = {Path(f.source).name: f.code for f in failures}
    assert by_name == {"elsewhere": "outside_folder", "loop.txt": "not_a_file", "gone.txt": "not_a_file",
                       "pipe.txt": "not_a_file"}


def test_a_pipe_named_directly_is_reported_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.jsonl")
    report = ingest_paths(_kb(tmp_path), [tmp_path / "pipe.jsonl"])
    assert [(f.code, "not a regular file" in f.reason) for f in report.failures] == [("not_a_file", True)]


def test_a_manifest_entry_that_leads_out_of_the_folder_is_refused(tmp_path: Path, folder: Path) -> None:
    (folder / "manifest.json").write_text(json.dumps({"documents": [
        {"file": "../outside/secret.txt", "doc_id": "stolen"},
        {"file": "notice.txt", "doc_id": "wengang", "title": "稳岗返还通知"},
    ]}), encoding="utf-8")
    knowledge_base = _kb(tmp_path)
    report = ingest_paths(knowledge_base, [folder])
    assert [(f.code, "../outside/secret.txt" in f.reason) for f in report.failures] == [("outside_folder", True)]
    assert [d["doc_id"] for d in knowledge_base.documents()] == ["wengang"]  # the good entry still applies
