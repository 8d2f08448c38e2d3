"""Fixtures of the backend-contract suite: one small knowledge base, served by SQLite and by Milvus.

Milvus is a ``milvus-lite`` server started here on 127.0.0.1 (a free port, its own data
directory), waited for and stopped by its PID at the end: Milvus Lite 3.x (the ``milvus``
extra) or, installed in an environment of its own, the C++ Milvus Lite 2.5 (the ``milvus25``
extra). ``POLICYKB_MILVUS_URI`` points the suite at another server instead (a cluster).
Without ``pymilvus`` and ``milvus-lite`` the Milvus half skips, saying so.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kb import Document, KnowledgeBase
from tests.conftest import make_document

#: Two versions of one notice (the later supersedes the earlier from its date), beside the
#: shared policy documents, so that as-of and superseded filters have something to tell apart.
SUBSIDY = ("常熟市灵活就业社会保险补贴办法", [
    "灵活就业人员缴纳社会保险费的，可以按规定申请社会保险补贴，补贴期限最长不超过三年。",
    "申请社会保险补贴的，应当向户籍所在地人力资源和社会保障部门提出申请。",
])
SUBSIDY_NEW = ("常熟市灵活就业社会保险补贴办法", [
    "灵活就业人员缴纳社会保险费的，可以按规定申请社会保险补贴，补贴标准为实际缴费额的三分之二。",
    "申请社会保险补贴的，可以通过政务服务网在线提出申请。",
])
ISSUER = "常熟市人力资源和社会保障局"
SERVER_START_SECONDS = 60


def contract_documents(policy_documents: list[Document]) -> list[Document]:
    # one issuer (a jurisdiction) and one title make them versions of one notice (kb.versions)
    old = dataclasses.replace(make_document("subsidy-2018", *SUBSIDY), date="2018-05-01", issuer=ISSUER)
    new = dataclasses.replace(make_document("subsidy-2022", *SUBSIDY_NEW), date="2022-03-01", issuer=ISSUER)
    return [*policy_documents, old, new]


def new_kb(directory: Path, documents: list[Document]) -> KnowledgeBase:
    """A built knowledge base with the default search settings (query expansion, term
    weighting, abstention: both backends do all of it)."""
    knowledge_base = KnowledgeBase(directory, create=True)
    knowledge_base.add_documents(documents)
    knowledge_base.build()
    return knowledge_base


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"milvus-lite server exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"milvus-lite server did not listen on 127.0.0.1:{port} in {SERVER_START_SECONDS} s")


def _lite_server(data: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """The command (and environment) running the installed Milvus Lite as a server on
    127.0.0.1:``port``: ``milvus-lite server`` for 3.x; for 2.5, which has no such command,
    the bundled ``milvus`` binary with the arguments ``milvus_lite.server.Server`` gives it."""
    from importlib.metadata import version

    if int(version("milvus-lite").split(".")[0]) >= 3:
        executable = shutil.which("milvus-lite", path=str(Path(sys.executable).parent)) or shutil.which("milvus-lite")
        if executable is None:
            pytest.skip("the milvus-lite command is not on PATH")
        # --host 127.0.0.1 always: the server's default listens on every address
        return ([executable, "server", "--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)],
                dict(os.environ))
    import milvus_lite

    lib = Path(milvus_lite.__file__).parent / "lib"
    return ([str(lib / "milvus"), str(data / "milvus.db"), f"127.0.0.1:{port}", "ERROR"],
            {**os.environ, "LD_LIBRARY_PATH": f"{lib}:{os.environ.get('LD_LIBRARY_PATH', '')}"})


@pytest.fixture(scope="session")
def milvus_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Milvus to test against: POLICYKB_MILVUS_URI, or a milvus-lite server started here."""
    pytest.importorskip("pymilvus", reason="pymilvus is not installed (pip install 'policykb[milvus]')")
    external = os.environ.get("POLICYKB_MILVUS_URI")
    if external:
        yield external
        return
    pytest.importorskip("milvus_lite", reason="milvus-lite is not installed (pip install 'policykb[milvus]')")
    port = _free_port()
    data = tmp_path_factory.mktemp("milvus-data")
    command, environment = _lite_server(data, port)
    log = (data.parent / "milvus-lite.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment, cwd=data)
    try:
        _wait_for(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(scope="session")
def contract_kb(tmp_path_factory: pytest.TempPathFactory, policy_documents: list[Document]) -> Iterator[KnowledgeBase]:
    """The knowledge base both backends serve (never changed by a test)."""
    knowledge_base = new_kb(tmp_path_factory.mktemp("contract-kb"), contract_documents(policy_documents))
    yield knowledge_base
    knowledge_base.close()


@pytest.fixture(scope="session")
def milvus_searcher(contract_kb: KnowledgeBase, milvus_uri: str) -> Any:
    """The contract knowledge base published to Milvus, read through its alias."""
    from kb.milvus import MilvusSearcher, open_searcher, publish

    publication = publish(contract_kb, milvus_uri)  # the backend is not recorded: contract_kb stays on SQLite
    searcher = open_searcher(contract_kb, publication.backend_record())
    assert isinstance(searcher, MilvusSearcher)
    return searcher


@pytest.fixture(scope="session")
def sqlite_searcher(contract_kb: KnowledgeBase) -> Any:
    """The contract knowledge base's own index, searched in process."""
    from kb.search import Searcher

    assert contract_kb.backend == {"backend": "sqlite"}
    searcher = contract_kb.searcher
    assert isinstance(searcher, Searcher)
    return searcher


@pytest.fixture(params=["sqlite", "milvus"])
def backend(request: pytest.FixtureRequest, contract_kb: KnowledgeBase) -> Any:
    """Each backend's searcher in turn: the same tests run against both."""
    return request.getfixturevalue(f"{request.param}_searcher")
