"""A knowledge base created on Milvus: every command and the service follow the recorded backend.

``policykb ingest --backend milvus`` records the backend; builds publish to it (document by
document after the first), ``ask`` and ``serve`` answer from the collection. What is in the
collection decides the answers: rows removed behind policykb's back stop being answered.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kb import KnowledgeBase
from kb.milvus.aliases import query_rows
from policykb.cli import cli
from tests.conftest import ARTICLES

NUMERALS = "一二三四五六七八九十"


def _write_corpus(directory: Path, articles: dict[str, tuple[str, list[str]]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for doc_id, (title, bodies) in articles.items():
        lines = [title, ""] + [f"第{NUMERALS[i]}条 {body}" for i, body in enumerate(bodies)]
        (directory / f"{doc_id}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def _run(*args: str, env: dict[str, str | None] | None = None) -> Any:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert "Traceback" not in result.output
    return result


def _ask(kb_dir: Path, question: str, *options: str) -> dict[str, Any]:
    result = _run("ask", question, "--kb", str(kb_dir), "--json", *options)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _rows(kb_dir: Path, expression: str) -> list[dict[str, Any]]:
    knowledge_base = KnowledgeBase(kb_dir)
    try:
        searcher = knowledge_base.searcher
        return query_rows(searcher.client, searcher.collection, expression, ["segment_id", "text"])
    finally:
        knowledge_base.close()


@pytest.fixture
def milvus_kb(tmp_path: Path, milvus_uri: str) -> Path:
    corpus = _write_corpus(tmp_path / "corpus", {k: v for k, v in ARTICLES.items() if not k.startswith("old-")})
    kb_dir = tmp_path / "kb"
    result = _run("ingest", str(corpus), "--kb", str(kb_dir), "--backend", "milvus", "--milvus-uri", milvus_uri,
                  "--json")
    assert result.exit_code == 0, result.output
    return kb_dir


def test_ingest_records_the_backend_and_publishes(milvus_kb: Path, milvus_uri: str) -> None:
    from kb.milvus import MilvusSearcher

    info = json.loads(_run("info", "--kb", str(milvus_kb)).output)
    assert info["backend"]["backend"] == "milvus" and info["backend"]["uri"] == milvus_uri
    assert len(_rows(milvus_kb, 'doc_id != ""')) == info["segments"]
    knowledge_base = KnowledgeBase(milvus_kb)
    assert isinstance(knowledge_base.searcher, MilvusSearcher)
    knowledge_base.close()


def test_ask_answers_from_what_milvus_holds(milvus_kb: Path) -> None:
    answer = _ask(milvus_kb, "住房公积金怎么提取")
    assert answer["hits"] and answer["hits"][0]["doc_id"] == "housing-fund"
    assert answer["hits"][0]["departments"] == [] and answer["hits"][0]["highlights"]
    # rows removed from the collection behind policykb's back are no longer answered: the answer
    # comes from Milvus, not from the directory's own index
    knowledge_base = KnowledgeBase(milvus_kb)
    searcher = knowledge_base.searcher
    searcher.client.delete(searcher.collection, filter='doc_id == "housing-fund"')
    knowledge_base.close()
    after = _ask(milvus_kb, "住房公积金怎么提取")
    assert "housing-fund" not in {hit["doc_id"] for hit in after["hits"]}


def test_a_changed_document_is_upserted_and_a_deleted_one_removed(milvus_kb: Path, tmp_path: Path) -> None:
    before = _rows(milvus_kb, 'doc_id != ""')
    collection = KnowledgeBase(milvus_kb).store.meta("milvus_published")
    changed = {"business": ("个体工商户条例", ["有经营能力的公民，经登记从事工商业经营的，为个体工商户。",
                                                "申请登记为个体工商户，可以通过政务服务网在线申请注册登记。",
                                                "个体工商户可以凭营业执照开立银行账户。"])}
    corpus = _write_corpus(tmp_path / "changed", changed)
    result = _run("ingest", str(corpus), "--kb", str(milvus_kb), "--json")
    assert result.exit_code == 0, result.output
    # the same collection, updated in place (a new one would be a full publication)
    assert json.loads(KnowledgeBase(milvus_kb).store.meta("milvus_published"))["collection"] == \
        json.loads(collection)["collection"]
    rows = _rows(milvus_kb, 'doc_id == "business"')
    stored = KnowledgeBase(milvus_kb).segments_of("business")
    assert {row["segment_id"]: row["text"] for row in rows} == {s["segment_id"]: s["text"] for s in stored}
    assert any("政务服务网" in row["text"] for row in rows)
    assert len(_rows(milvus_kb, 'doc_id != ""')) == len(before) + 1
    answer = _ask(milvus_kb, "个体工商户可以在网上申请登记吗")
    assert answer["hits"][0]["doc_id"] == "business" and "政务服务网" in answer["hits"][0]["text"]

    result = _run("delete", "business", "--kb", str(milvus_kb))
    assert result.exit_code == 0, result.output
    assert _rows(milvus_kb, 'doc_id == "business"') == []
    assert "business" not in {hit["doc_id"] for hit in _ask(milvus_kb, "个体工商户怎么登记")["hits"]}


def test_the_backend_is_chosen_when_the_knowledge_base_is_created(milvus_kb: Path, tmp_path: Path,
                                                                  milvus_uri: str) -> None:
    corpus = _write_corpus(tmp_path / "more", {"labour": ARTICLES["labour"]})
    result = _run("ingest", str(corpus), "--kb", str(milvus_kb), "--backend", "sqlite")
    assert result.exit_code == 2 and "chosen when a knowledge base is created" in result.output
    result = _run("ingest", str(corpus), "--kb", str(tmp_path / "other"), "--backend", "milvus",
                  env={"POLICYKB_MILVUS_URI": None})
    assert result.exit_code == 2 and "--milvus-uri" in result.output


def test_an_unreachable_milvus_is_one_clean_line(milvus_kb: Path, tmp_path: Path) -> None:
    from tests.backends.conftest import _free_port

    knowledge_base = KnowledgeBase(milvus_kb)
    knowledge_base.use_milvus(f"http://127.0.0.1:{_free_port()}")  # nothing listens there
    knowledge_base.close()
    result = _run("ask", "住房公积金怎么提取", "--kb", str(milvus_kb))
    assert result.exit_code == 1 and "Milvus" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_two_service_workers_answer_from_one_milvus(milvus_kb: Path, tmp_path: Path) -> None:
    from evaluation.bench.server import free_port, policykb_serve, running

    port = free_port()
    with running(policykb_serve(milvus_kb, port, workers=2), tmp_path / "serve.log", port=port,
                 environment={"POLICYKB_RATE_LIMIT": "0"}):
        answers = []
        for _ in range(6):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("POST", "/v1/ask", body=json.dumps({"question": "失业保险金怎么申请"}).encode(),
                               headers={"Content-Type": "application/json"})
            response = connection.getresponse()
            answers.append((response.status, json.loads(response.read())))
            connection.close()
    assert all(status == 200 for status, _ in answers)
    assert {body["hits"][0]["doc_id"] for _, body in answers} == {"unemployment"}
    log = (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log


def test_a_new_version_supersedes_the_published_old_one(tmp_path: Path, policy_documents: Any,
                                                         milvus_uri: str) -> None:
    import dataclasses

    from kb import SearchFilters
    from tests.backends.conftest import ISSUER, SUBSIDY, SUBSIDY_NEW
    from tests.conftest import make_document

    knowledge_base = KnowledgeBase(tmp_path / "kb", create=True)
    knowledge_base.use_milvus(milvus_uri)
    old = dataclasses.replace(make_document("subsidy-2018", *SUBSIDY), date="2018-05-01", issuer=ISSUER)
    knowledge_base.add_documents([*policy_documents, old])
    knowledge_base.build()

    def published(doc_id: str) -> list[dict[str, Any]]:
        searcher = knowledge_base.searcher
        return query_rows(searcher.client, searcher.collection, f'doc_id == "{doc_id}"',
                          ["status", "superseded_by", "superseded_from"])

    assert {row["status"] for row in published("subsidy-2018")} == {"in_force"}
    new = dataclasses.replace(make_document("subsidy-2022", *SUBSIDY_NEW), date="2022-03-01", issuer=ISSUER)
    knowledge_base.add_documents([new])
    manifest = knowledge_base.build(incremental=True)
    assert manifest["published"]["passages"] >= len(new.segments)
    rows = published("subsidy-2018")
    assert rows and all(row["status"] == "superseded" and row["superseded_by"] == "subsidy-2022"
                        and row["superseded_from"] == 20220301 for row in rows)
    today = knowledge_base.search("灵活就业人员社会保险补贴", top_k=10)
    assert today.hits[0].doc_id == "subsidy-2022" and "subsidy-2018" not in {h.doc_id for h in today.hits}
    history = knowledge_base.search("灵活就业人员社会保险补贴", top_k=10, filters=SearchFilters(as_of="2020-01-01"))
    assert "subsidy-2022" not in {h.doc_id for h in history.hits}  # not yet issued in 2020
    assert history.hits[0].doc_id == "subsidy-2018"
    knowledge_base.close()


def test_a_service_whose_milvus_is_down_starts_and_answers_503_until_it_is_back(milvus_kb: Path,
                                                                               milvus_uri: str) -> None:
    from fastapi.testclient import TestClient

    from service import ServiceSettings, create_app
    from tests.backends.conftest import _free_port

    knowledge_base = KnowledgeBase(milvus_kb)
    knowledge_base.use_milvus(f"http://127.0.0.1:{_free_port()}")  # nothing listens there
    knowledge_base.close()
    with TestClient(create_app(ServiceSettings(kb_dir=milvus_kb, rate_limit=None)),
                    raise_server_exceptions=False) as client:
        assert client.get("/healthz").status_code == 200
        for response in (client.get("/readyz"), client.post("/v1/ask", json={"question": "住房公积金怎么提取"})):
            assert response.status_code == 503, response.text
            assert response.json()["error"]["code"] == "backend_unavailable"
            assert "Traceback" not in response.text and "127.0.0.1" not in response.text
        knowledge_base = KnowledgeBase(milvus_kb)
        knowledge_base.use_milvus(milvus_uri)  # Milvus is back (the record names the live server again)
        knowledge_base.close()
        assert client.get("/readyz").status_code == 200
        answer = client.post("/v1/ask", json={"question": "住房公积金怎么提取"})
        assert answer.status_code == 200 and answer.json()["hits"][0]["doc_id"] == "housing-fund"


def test_publish_catches_milvus_up_after_a_build_it_missed(milvus_kb: Path, tmp_path: Path, milvus_uri: str) -> None:
    from tests.backends.conftest import _free_port

    knowledge_base = KnowledgeBase(milvus_kb)
    knowledge_base.use_milvus(f"http://127.0.0.1:{_free_port()}")  # Milvus away during the next ingest
    knowledge_base.close()
    changed = {"unemployment": ("失业保险条例", ["失业人员可以通过线上平台申请领取失业保险金。"])}
    result = _run("ingest", str(_write_corpus(tmp_path / "changed", changed)), "--kb", str(milvus_kb))
    assert result.exit_code == 1 and "policykb publish" in result.output
    knowledge_base = KnowledgeBase(milvus_kb)
    knowledge_base.use_milvus(milvus_uri)  # back
    knowledge_base.close()
    assert not any("线上平台" in row["text"] for row in _rows(milvus_kb, 'doc_id == "unemployment"'))
    result = _run("publish", "--kb", str(milvus_kb), "--json")
    assert result.exit_code == 0, result.output
    publication = json.loads(result.output)
    assert publication["full"] is False and publication["passages"] >= 1
    assert any("线上平台" in row["text"] for row in _rows(milvus_kb, 'doc_id == "unemployment"'))
    assert _ask(milvus_kb, "失业保险金可以网上申请吗")["hits"][0]["doc_id"] == "unemployment"


def test_publish_on_a_sqlite_knowledge_base_says_what_to_do(tmp_path: Path) -> None:
    corpus = _write_corpus(tmp_path / "corpus", {"labour": ARTICLES["labour"]})
    assert _run("ingest", str(corpus), "--kb", str(tmp_path / "kb")).exit_code == 0
    result = _run("publish", "--kb", str(tmp_path / "kb"))
    assert result.exit_code == 1 and "policykb migrate --to milvus" in result.output


def test_a_collection_of_another_model_answers_from_bm25_and_says_so(milvus_kb: Path) -> None:
    from kb.milvus import MilvusSearcher

    knowledge_base = KnowledgeBase(milvus_kb)
    local = knowledge_base.local_searcher()
    searcher = knowledge_base.searcher
    assert isinstance(searcher, MilvusSearcher) and searcher.degraded is None
    properties = searcher.describe()
    # the record a publication with another model would have left
    try:
        searcher.client.alter_collection_properties(
            searcher.collection, properties={"policykb.publication": json.dumps({**properties, "model_id": "another"})})
    except Exception as error:  # noqa: BLE001 - only the server's missing call is a reason to skip
        from kb.milvus.aliases import unimplemented

        if not unimplemented(error):
            raise
        pytest.skip("this server cannot alter collection properties (Milvus Lite 2.5)")
    other = MilvusSearcher(searcher.client, searcher.alias, local)
    result = other.search("住房公积金怎么提取", top_k=3)
    assert result.degraded == "published_with_another_model" and result.mode == "bm25"
    assert result.hits and result.hits[0].doc_id == "housing-fund"
    knowledge_base.close()
