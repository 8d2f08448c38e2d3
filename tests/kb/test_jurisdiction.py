"""A knowledge base serves a place: other regions' rules answer only when the question names them."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kb import KnowledgeBase, jurisdiction_of, places
from kb.knowledge_base import JURISDICTION_RULE_KEY
from kb.jurisdiction import is_local_to, places_named, region_of_collection, short_name
from tests.conftest import make_document, pretrained_files_or_skip


@pytest.mark.parametrize("metadata,issuer,expected", [
    ({"collection": "national"}, None, "national"),
    ({"collection": "浙江地方法规"}, None, "浙江省"),
    ({"collection": "上海地方法规"}, None, "上海市"),
    ({}, "常熟市人民政府办公室", "常熟市"),
    ({}, "江苏省财政厅", "江苏省"),
    ({}, "国务院办公厅", "national"),
    ({"jurisdiction": "苏州市", "collection": "national"}, None, "苏州市"),
    ({}, "市政府办公室", None),
    ({"collection": "某个合集"}, None, None),
])
def test_jurisdiction_comes_from_what_the_source_says(metadata, issuer, expected) -> None:
    assert jurisdiction_of(metadata, issuer) == expected


def test_place_names_and_locality() -> None:
    assert region_of_collection("重庆地方法规") == "重庆市"
    assert short_name("浙江省") == "浙江" and short_name("常熟市") == "常熟"
    assert places_named("浙江的物业管理条例怎么规定", ["浙江省", "上海市", "national"]) == {"浙江省"}
    assert is_local_to(None, ()) and is_local_to("national", ())
    assert is_local_to("苏州市", ("常熟市", "苏州市", "江苏省"))
    assert not is_local_to("浙江省", ("常熟市", "苏州市", "江苏省"))
    assert is_local_to("浙江省", ("常熟市",), named={"浙江省"})


def _fund(doc_id: str, title: str, text: str, **metadata: str):
    """A one-passage housing-fund document whose place the metadata tells."""
    return replace(make_document(doc_id, title, [text]), metadata=metadata)


NATIONAL_FUND = _fund("national-fund", "住房公积金管理条例（全国）", "缴存住房公积金的职工，购买自住住房的，可以提取住房公积金。",
                      collection="national")
ZHEJIANG_FUND = _fund("zhejiang-fund", "浙江省住房公积金条例", "缴存住房公积金的职工，购买自住住房的，可以提取住房公积金账户余额。",
                      collection="浙江地方法规")


def _built(tmp_path, policy_documents, *documents) -> KnowledgeBase:
    knowledge_base = KnowledgeBase(tmp_path, create=True)
    knowledge_base.add_documents([*policy_documents, *documents])
    knowledge_base.build()
    return knowledge_base


@pytest.fixture()
def regional_kb(tmp_path, policy_documents) -> KnowledgeBase:
    return _built(tmp_path, policy_documents, NATIONAL_FUND, ZHEJIANG_FUND)


def test_other_regions_are_demoted_unless_named(regional_kb: KnowledgeBase) -> None:
    regional_kb.configure_search(place=("常熟市", "苏州市", "江苏省"), foreign_weight=0.3)
    plain = [h.doc_id for h in regional_kb.search("购买自住住房可以提取住房公积金吗", top_k=10).hits]
    assert plain.index("national-fund") < plain.index("zhejiang-fund")
    named = regional_kb.search("浙江购买自住住房可以提取住房公积金吗", top_k=10).hits
    assert named[0].doc_id == "zhejiang-fund"


#: A national text worded closer to "…账户余额吗" than a place's own rule (``LOCAL_FUND_TEXT``).
CLOSER_NATIONAL_FUND = _fund("national-fund", "住房公积金管理条例（全国）",
                             "缴存住房公积金的职工，购买自住住房的，可以提取住房公积金账户余额。", collection="national")
LOCAL_FUND_TEXT = "缴存住房公积金的职工购买自住住房，可以提取住房公积金。"


def test_naming_the_place_served_keeps_its_weight(tmp_path, policy_documents) -> None:
    local = _fund("changshu-fund", "常熟市住房公积金提取办法", LOCAL_FUND_TEXT, jurisdiction="常熟市")
    knowledge_base = _built(tmp_path, policy_documents, CLOSER_NATIONAL_FUND, local)
    knowledge_base.configure_search(place=("常熟市", "苏州市", "江苏省"), place_weight=1.5)
    question = "购买自住住房可以提取住房公积金账户余额吗"
    for asked in (question, "常熟" + question):
        hits = knowledge_base.search(asked, top_k=5, mode="bm25").hits
        # the national text words it closer; the place served outweighs that, named or not
        assert hits[0].doc_id == "changshu-fund", asked
    knowledge_base.configure_search(place_weight=1.0)
    assert knowledge_base.search("常熟" + question, top_k=5, mode="bm25").hits[0].doc_id == "national-fund"
    knowledge_base.close()


def test_a_place_the_question_names_comes_before_national_texts(tmp_path, policy_documents) -> None:
    zhejiang = _fund("zhejiang-fund", "浙江省住房公积金条例", LOCAL_FUND_TEXT, collection="浙江地方法规")
    knowledge_base = _built(tmp_path, policy_documents, CLOSER_NATIONAL_FUND, zhejiang)
    knowledge_base.configure_search(place=("常熟市", "苏州市", "江苏省"))
    question = "购买自住住房可以提取住房公积金账户余额吗"
    assert knowledge_base.search(question, top_k=5, mode="bm25").hits[0].doc_id == "national-fund"
    # the national text words it closer; the region asked about outweighs that
    assert knowledge_base.search("浙江" + question, top_k=5, mode="bm25").hits[0].doc_id == "zhejiang-fund"
    knowledge_base.close()


def test_no_demotion_when_foreign_weight_is_one(regional_kb: KnowledgeBase) -> None:
    regional_kb.configure_search(foreign_weight=1.0)
    plain = regional_kb.search("购买自住住房可以提取住房公积金账户余额", top_k=3, mode="bm25").hits
    assert plain[0].doc_id == "zhejiang-fund"  # the closer wording wins when region does not count


def test_unknown_search_setting_is_refused(regional_kb: KnowledgeBase) -> None:
    with pytest.raises(ValueError, match="unknown search setting"):
        regional_kb.configure_search(colour="red")



def test_the_learned_ranker_reads_each_candidates_place_not_its_popularity(tmp_path, policy_documents) -> None:
    pretrained_files_or_skip()  # the ranker's candidates need the encoder
    local = _fund("changshu-fund", "常熟市住房公积金提取办法", "职工购买自住住房提取住房公积金的，到市住房公积金管理中心办理。",
                  jurisdiction="常熟市")
    knowledge_base = _built(tmp_path, policy_documents, NATIONAL_FUND, ZHEJIANG_FUND, local)
    answered = knowledge_base.search("购买自住住房可以提取住房公积金吗", top_k=10, mode="bm25").hits
    national_passage = next(h.segment_id for h in answered if h.doc_id == "national-fund")
    zhejiang_passage = next(h.segment_id for h in answered if h.doc_id == "zhejiang-fund")
    knowledge_base.add_training_pairs([("买房能取公积金吗", national_passage),
                                       ("浙江买房能取公积金吗", zhejiang_passage)], source="test")
    knowledge_base.configure_search(place=("常熟市", "苏州市", "江苏省"), foreign_weight=0.3)

    def places(question: str) -> dict[str, float]:
        candidates = knowledge_base.searcher.candidates(question)
        assert candidates is not None and candidates.places is not None
        return dict(zip(candidates.doc_ids, candidates.places.tolist()))

    plain = places("购买自住住房可以提取住房公积金吗")
    assert plain["changshu-fund"] == pytest.approx(1.5)
    assert plain["zhejiang-fund"] == pytest.approx(0.3)
    assert plain["national-fund"] == pytest.approx(1.0)  # its confirmed answer lifts its fused score, not its place
    # named in the question: counted as the place served, whatever its confirmed answers
    named = places("浙江购买自住住房可以提取住房公积金吗")
    assert named["zhejiang-fund"] == pytest.approx(1.5) and named["national-fund"] == pytest.approx(1.0)
    # the place served keeps its weight when the question names it
    assert places("常熟购买自住住房可以提取住房公积金吗")["changshu-fund"] == pytest.approx(1.5)
    knowledge_base.close()


def test_a_notice_without_issuer_answers_its_own_region_and_those_naming_it(tmp_path, policy_documents) -> None:
    """A district's notice that says its place only in the title ("北京市…") is another region's for
    a 常熟 caller, and answers one who names a district of it (丰台)."""
    if places.divisions_file() is None:
        pytest.skip("the cpca package (its division list) is not installed")
    beijing = make_document("beijing-donations", "北京市红十字会关于接受社会捐赠的公告",
                            ["红十字会接受捐赠的捐款账号和捐赠票据如下。"])
    national = _fund("national-donations", "红十字会接受捐赠管理办法（全国）",
                     "红十字会接受社会捐赠，应当开具捐赠票据。", collection="national")
    knowledge_base = _built(tmp_path, policy_documents, beijing, national)
    assert knowledge_base.store.document("beijing-donations")["jurisdiction"] == "北京市"
    knowledge_base.configure_search(place=("常熟市", "苏州市", "江苏省"), foreign_weight=0.3)
    question = "红十字会接受捐赠的账号和票据"
    # (a knowledge base this small finds few words characteristic of it: no abstaining here)
    plain = [h.doc_id for h in knowledge_base.searcher.search(question, top_k=5, mode="bm25", abstain=False).hits]
    assert plain.index("national-donations") < plain.index("beijing-donations")  # worded closer, yet demoted
    named = knowledge_base.searcher.search("丰台" + question, top_k=5, mode="bm25", abstain=False).hits
    assert named[0].doc_id == "beijing-donations"
    knowledge_base.close()


def test_jurisdictions_are_derived_again_under_a_new_rule(tmp_path, policy_documents) -> None:
    """A knowledge base derived under an older rule takes today's when opened; its index is stale
    until the next build."""
    notice = make_document("anhui-notice", "安徽省全力保障主副食品生产流通供应", ["保障主副食品生产流通供应。"])
    knowledge_base = _built(tmp_path, policy_documents, notice)
    assert knowledge_base.store.document("anhui-notice")["jurisdiction"] == "安徽省"
    knowledge_base.store.set_jurisdictions([("anhui-notice", None)])
    knowledge_base.store.set_meta(JURISDICTION_RULE_KEY, "1")
    knowledge_base.build()
    knowledge_base.close()
    reopened = KnowledgeBase(tmp_path)
    assert reopened.store.document("anhui-notice")["jurisdiction"] == "安徽省"
    assert reopened.is_stale()
    reopened.build()
    again = KnowledgeBase(tmp_path)  # nothing changed since: nothing to derive, the index stays current
    assert not again.is_stale()
    reopened.close()
    again.close()
