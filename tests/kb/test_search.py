"""Hybrid search over a real on-disk knowledge base: ranking, filters, citations, bad questions."""

from __future__ import annotations

import pytest

from kb import BM25Index, InvalidFilter, InvalidQuestion, KnowledgeBase, SearchFilters


@pytest.mark.parametrize("question,expected_doc", [
    ("公积金怎么提取？", "housing-fund"),
    ("失业了能领失业保险金吗", "unemployment"),
    ("我想开个体户要去哪登记", "business"),
    ("公司不签劳动合同怎么办", "labour"),
    ("养老金交满多少年才能领", "social-insurance"),
])
def test_the_right_document_comes_first(built_kb: KnowledgeBase, question: str, expected_doc: str) -> None:
    result = built_kb.search(question, top_k=3)
    assert result.hits[0].doc_id == expected_doc


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_every_mode_returns_ranked_cited_hits(built_kb: KnowledgeBase, mode: str) -> None:
    result = built_kb.search("住房公积金提取", top_k=4, mode=mode)
    assert [h.rank for h in result.hits] == list(range(1, len(result.hits) + 1))
    scores = [h.score for h in result.hits]
    assert scores == sorted(scores, reverse=True)
    hit = result.hits[0]
    document = built_kb.document(hit.doc_id)
    assert document["text"][hit.start : hit.end] == hit.text
    assert hit.locator.startswith("第") and hit.section_path[-1] == hit.locator
    for start, end in hit.highlights:
        assert hit.start <= start < end <= hit.end


def test_snippet_marks_matched_terms_and_escapes_html(built_kb: KnowledgeBase) -> None:
    hit = built_kb.search("<b>公积金</b>提取", top_k=1).hits[0]
    assert "<mark>公积金</mark>" in hit.snippet
    assert "<b>" not in hit.snippet
    assert hit.departments == ["住房公积金管理中心"]


def test_expired_documents_are_hidden_unless_asked_for(built_kb: KnowledgeBase) -> None:
    default = built_kb.search("住房公积金管理办法 废止", top_k=10)
    assert all(h.status == "in_force" for h in default.hits)
    widened = built_kb.search("住房公积金管理办法 废止", top_k=10,
                              filters=SearchFilters.from_options(include_expired=True))
    expired = [h for h in widened.hits if h.doc_id == "old-housing-fund"]
    assert expired and expired[0].status == "expired"


def test_document_filter_restricts_hits(built_kb: KnowledgeBase) -> None:
    result = built_kb.search("缴纳 登记", top_k=10, filters=SearchFilters(doc_ids=("business",)))
    assert result.hits and {h.doc_id for h in result.hits} == {"business"}


@pytest.mark.parametrize("question", ["？？？！！。。", "😀😀😀", "你好", "请问"])
def test_questions_without_terms_get_no_random_passages(built_kb: KnowledgeBase, question: str) -> None:
    result = built_kb.search(question)
    assert result.hits == [] and result.reason == "no_searchable_terms"


def test_invisible_characters_and_full_width_forms_do_not_change_hits(built_kb: KnowledgeBase) -> None:
    clean = [h.segment_id for h in built_kb.search("社保怎么交").hits]
    assert [h.segment_id for h in built_kb.search("社\u200b保怎么交\ufeff").hits] == clean
    assert [h.segment_id for h in built_kb.search("社保😀怎么交").hits] == clean


@pytest.mark.parametrize("question,code", [("", "question_empty"), ("  \t\n　　", "question_empty"),
                                           ("社保" * 1001, "question_too_long")])
def test_bad_questions_raise_with_a_code(built_kb: KnowledgeBase, question: str, code: str) -> None:
    with pytest.raises(InvalidQuestion) as caught:
        built_kb.search(question)
    assert caught.value.code == code


@pytest.mark.parametrize("top_k", [0, -1, 101, True])
def test_bad_top_k_is_refused(built_kb: KnowledgeBase, top_k: int) -> None:
    with pytest.raises(InvalidQuestion):
        built_kb.search("社保", top_k=top_k)


def test_unknown_status_filter_is_refused() -> None:
    with pytest.raises(InvalidFilter):
        SearchFilters(statuses=("valid",))


def test_traditional_characters_find_the_simplified_passages(built_kb: KnowledgeBase) -> None:
    simplified = [h.segment_id for h in built_kb.search("住房公积金怎么提取", top_k=5).hits]
    traditional = built_kb.search("住房公積金怎麼提取", top_k=5)
    overlap = len(set(simplified) & {h.segment_id for h in traditional.hits}) / len(simplified)
    assert overlap >= 0.8
    assert "<mark>住房公积金</mark>" in traditional.hits[0].snippet  # highlighted in the text as written


@pytest.mark.parametrize("question", ["今天天气怎么样", "红烧肉怎么做", "周杰伦出新歌了吗"])
def test_off_topic_questions_get_an_explicit_no_answer(built_kb: KnowledgeBase, question: str) -> None:
    result = built_kb.search(question)
    assert result.hits == [] and result.reason == "no_answer"


def test_policy_questions_are_not_abstained_and_abstention_can_be_bypassed(built_kb: KnowledgeBase) -> None:
    assert built_kb.search("失业保险金怎么领").reason is None
    assert built_kb.searcher.search("今天天气怎么样 社保", abstain=False).reason in (None, "no_match")


def test_place_names_do_not_make_a_question_on_topic() -> None:
    from kb.abstain import DomainSpecificity

    bm25 = BM25Index.build([["北京", "物业", "管理"], ["北京", "社保"], ["公积金", "提取"]] * 3)
    specificity = DomainSpecificity(bm25, lambda term: 1e-4)
    assert specificity.question(["北京", "机票"]) > specificity.question(["北京", "机票"], places={"北京"})
    assert specificity.question(["机票"]) == float("-inf")  # a word the knowledge base never uses counts for nothing


def test_questions_that_read_like_chit_chat_get_no_answer_even_with_a_corpus_word(built_kb: KnowledgeBase) -> None:
    """"保险" is a word of this knowledge base; "陪我聊聊天吧…" is still not a policy question."""
    assert built_kb.search("陪我聊聊天吧聊聊保险").reason == "no_answer"
    assert built_kb.search("失业保险金怎么领").reason is None


def test_the_knowledge_base_knows_its_confirmed_and_faq_questions(tmp_path, policy_documents) -> None:
    from dataclasses import replace

    from tests.conftest import make_document

    knowledge_base = KnowledgeBase(tmp_path / "kb", create=True)
    faq = replace(make_document("faq-1", "公积金怎么查余额", ["登录公积金中心网站即可查询余额。"]), metadata={
        "kind": "faq", "question": "公积金怎么查余额", "similar_questions": ["公积金余额在哪看", 3]})
    knowledge_base.add_documents([*policy_documents, faq])
    segment_id = f"{policy_documents[1].doc_id}#a1"
    knowledge_base.add_training_pairs([("离职了公积金怎么取出来", segment_id)], source="test")
    assert knowledge_base.store.known_questions() == ["公积金余额在哪看", "公积金怎么查余额", "离职了公积金怎么取出来"]


def test_a_passage_repeated_by_another_document_points_to_its_first_copy(tmp_path) -> None:
    from tests.conftest import make_document

    shared = "疫情防控期间，小微企业免征污水处理费，由水务部门审核后办理。"
    knowledge_base = KnowledgeBase(tmp_path / "kb", create=True)
    knowledge_base.add_documents([
        make_document("water-notice", "市水务局关于停征污水处理费的通知", [shared, "本通知自发布之日起施行。"]),
        make_document("water-notice-repost", "小微企业污水处理费政策问答", [shared, "转载请注明出处。"]),
        make_document("labour", "劳动合同法", ["用人单位应当与劳动者订立书面劳动合同。"]),
    ])
    knowledge_base.build()

    hits = knowledge_base.search("小微企业污水处理费免征吗", top_k=5).hits
    copies = [hit for hit in hits if hit.text.endswith(shared)]
    assert {hit.doc_id for hit in copies} == {"water-notice", "water-notice-repost"}
    assert copies[0].same_text_as is None
    assert copies[1].same_text_as == copies[0].rank
    assert all(hit.same_text_as is None for hit in hits if hit not in copies)


def test_knowledge_base_instances_share_one_jieba_dictionary(built_kb) -> None:
    """A server loads a second instance at each index switch; the dictionary is not loaded again."""
    from kb import KnowledgeBase

    again = KnowledgeBase(built_kb.kb_dir)
    assert again.tokenizer._tokenizer() is built_kb.tokenizer._tokenizer()
    assert again.tokenizer.tokenize("社保断缴了还能补吗") == built_kb.tokenizer.tokenize("社保断缴了还能补吗")
