"""Incremental builds: a few changed documents are indexed beside the last full build.

What a reader gets must be what a full build gives: the changed text is found and the old
text is not, deleted documents are gone, a new version supersedes the old one without the
old one being touched, and the generation survives a restart and verifies like any other.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from kb import KnowledgeBase, SearchFilters
from kb.errors import IndexMismatch
from kb.index import current_generation, load_index
from tests.conftest import make_document


def _documents(count: int = 30) -> list:
    """Enough small regulations that one changed document stays a small share of the index."""
    topics = ["社会保险", "住房公积金", "失业保险", "个体工商户", "劳动合同", "最低生活保障"]
    return [make_document(f"doc-{i:02d}", f"{topics[i % len(topics)]}办法第{i}号",
                          [f"{topics[i % len(topics)]}的第{i}项规定，申请人应当向主管部门提交材料。",
                           f"本办法第{i}号自发布之日起施行，由主管部门负责解释。"])
            for i in range(count)]


@pytest.fixture(autouse=True)
def small_share(monkeypatch) -> None:
    """30 two-passage documents: one changed document (2 new, 2 replaced passages) is 7% of
    the index, over the 5% a full-size knowledge base allows; let 20% be indexed beside it."""
    monkeypatch.setattr("kb.increment.MAX_DELTA_SHARE", 0.2)


@pytest.fixture()
def kb_with_base(tmp_path) -> KnowledgeBase:
    knowledge_base = KnowledgeBase(tmp_path, create=True)
    knowledge_base.add_documents(_documents())
    knowledge_base.build()
    return knowledge_base


def _manifest(knowledge_base: KnowledgeBase) -> dict:
    return json.loads((current_generation(knowledge_base.kb_dir) / "manifest.json").read_text(encoding="utf-8"))


def test_a_changed_document_is_indexed_beside_the_base_and_found_at_once(kb_with_base: KnowledgeBase) -> None:
    base = _manifest(kb_with_base)["generation"]
    changed = make_document("doc-03", "劳动合同办法第3号", ["用人单位应当为新入职的快递骑手缴纳工伤保险。",
                                                          "本办法第3号自发布之日起施行，由主管部门负责解释。"])
    assert kb_with_base.add_documents([changed])[0].outcome == "updated"
    manifest = kb_with_base.build(incremental=True)
    assert manifest["base"]["generation"] == base
    assert manifest["delta"] == {"documents": 1, "segments": 2, "removed_documents": 0, "replaced_segments": 2}
    assert manifest["counts"]["segments"] == 60

    hits = kb_with_base.search("快递骑手工伤保险", top_k=3).hits
    assert hits and hits[0].segment_id == "doc-03#a1" and "快递骑手" in hits[0].text
    old_text = kb_with_base.search("劳动合同的第3项规定", top_k=60).hits
    assert all("劳动合同的第3项规定" not in hit.text for hit in old_text)  # the replaced passage is gone
    # a fresh process sees the same generation
    again = KnowledgeBase(kb_with_base.kb_dir)
    assert [h.segment_id for h in again.search("快递骑手工伤保险", top_k=3).hits] == [h.segment_id for h in hits]


def test_incremental_answers_rank_as_a_full_build_does(kb_with_base: KnowledgeBase, tmp_path_factory) -> None:
    changed = make_document("doc-07", "住房公积金办法第7号", ["职工离职后可以申请提取住房公积金账户余额。"])
    kb_with_base.add_documents([changed])
    kb_with_base.build(incremental=True)
    full = KnowledgeBase(tmp_path_factory.mktemp("full"), create=True)
    full.add_documents([d for d in _documents() if d.doc_id != "doc-07"] + [changed])
    full.build()
    for question in ["离职了公积金能取出来吗", "失业保险怎么申请", "个体工商户登记"]:
        layered = [h.segment_id for h in kb_with_base.search(question, top_k=5, mode="bm25").hits]
        rebuilt = [h.segment_id for h in full.search(question, top_k=5, mode="bm25").hits]
        assert layered[:3] == rebuilt[:3], question


def test_a_deleted_document_leaves_search(kb_with_base: KnowledgeBase) -> None:
    assert any(h.doc_id == "doc-05" for h in kb_with_base.search("最低生活保障的第5项规定", top_k=5).hits)
    kb_with_base.delete_document("doc-05")
    manifest = kb_with_base.build(incremental=True)
    assert manifest["delta"]["removed_documents"] == 1 and manifest["delta"]["segments"] == 0
    assert all(h.doc_id != "doc-05" for h in kb_with_base.search("最低生活保障的第5项规定", top_k=60).hits)


def test_a_new_version_supersedes_an_old_document_of_the_base(tmp_path) -> None:
    old = replace(make_document("fund-2015", "住房公积金提取办法", ["职工购买自住住房的，可以提取住房公积金，不限次数。"]),
                  date="2015-03-01", metadata={"valid_from": "2015-04-01", "jurisdiction": "常熟市"})
    knowledge_base = KnowledgeBase(tmp_path, create=True)
    knowledge_base.add_documents([*_documents(), old])
    knowledge_base.build()
    new = replace(make_document("fund-2024", "住房公积金提取办法", ["职工购买自住住房的，可以提取住房公积金，每年限提取一次。"]),
                  date="2024-03-01", metadata={"valid_from": "2024-04-01", "jurisdiction": "常熟市"})
    knowledge_base.add_documents([new])
    manifest = knowledge_base.build(incremental=True)
    assert manifest["delta"]["documents"] == 1 and manifest["delta"]["replaced_segments"] == 0
    today = [h.doc_id for h in knowledge_base.search("买房提取住房公积金", top_k=10).hits]
    assert "fund-2024" in today and "fund-2015" not in today
    history = knowledge_base.search("买房提取住房公积金", top_k=10,
                                    filters=SearchFilters.from_options(include_superseded=True)).hits
    assert {"fund-2024", "fund-2015"} <= {h.doc_id for h in history}
    in_2020 = [h.doc_id for h in knowledge_base.search("买房提取住房公积金", top_k=10,
                                                       filters=SearchFilters(as_of="2020-01-01")).hits]
    assert "fund-2015" in in_2020 and "fund-2024" not in in_2020


def test_deltas_never_chain_and_a_large_change_builds_in_full(kb_with_base: KnowledgeBase) -> None:
    base = _manifest(kb_with_base)["generation"]
    for n in (1, 2):
        kb_with_base.add_documents([make_document("doc-01", "住房公积金办法第1号", [f"第{n}次修改的条文。"])])
        assert kb_with_base.build(incremental=True)["base"]["generation"] == base  # always against the base
    rewritten = [make_document(d.doc_id, d.title, [f"{d.title}全部改写的条文。"]) for d in _documents()[:10]]
    kb_with_base.add_documents(rewritten)
    manifest = kb_with_base.build(incremental=True)
    assert "base" not in manifest  # 10 of 30 documents: a full build


def test_other_settings_or_training_pairs_build_in_full(kb_with_base: KnowledgeBase) -> None:
    kb_with_base.add_training_pairs([("公积金怎么取", "doc-01#a1")], source="test")
    kb_with_base.add_documents([make_document("doc-02", "失业保险办法第2号", ["改过的条文。"])])
    assert "base" not in kb_with_base.build(incremental=True)


def test_a_damaged_delta_file_is_refused_on_load(kb_with_base: KnowledgeBase) -> None:
    kb_with_base.add_documents([make_document("doc-04", "个体工商户办法第4号", ["改过的条文。"])])
    kb_with_base.build(incremental=True)
    live = current_generation(kb_with_base.kb_dir) / "live.npy"
    live.write_bytes(live.read_bytes()[:-1] + b"\x00")
    with pytest.raises(IndexMismatch):
        load_index(kb_with_base.kb_dir)
