"""Query expansion: citizens' words also search the statutes' words, at a lower weight."""

from __future__ import annotations

import numpy as np

from kb.bm25 import BM25Index
from kb.expansion import KB_LEXICON, load_lexicon, parse_lexicon, QueryExpansion
from kb.tokenize import PolicyTokenizer

PASSAGES = [
    "用人单位应当按时足额支付劳动者的劳动报酬。",
    "出租人应当按照约定将租赁物交付承租人。",
    "公民因生育享受生育保险待遇。",
    "城市道路照明设施由市政部门维护。",
]


def _index(tokenizer):
    return BM25Index.build([tokenizer.tokenize(p) for p in PASSAGES])


def test_lexicon_lines_parse_with_comments_and_repeats():
    lexicon = parse_lexicon(["# a comment", "老板\t用人单位 雇主", "老板\t用人单位", "", "broken-line"])
    assert lexicon == {"老板": ["用人单位", "雇主"]}


def test_the_knowledge_bases_own_lexicon_extends_the_bundled_one(tmp_path):
    (tmp_path / KB_LEXICON).write_text("办证难\t行政许可\n", encoding="utf-8")
    lexicon = load_lexicon(tmp_path)
    assert lexicon["办证难"] == ["行政许可"] and "房东" in lexicon


def test_a_colloquial_question_reaches_the_statute_that_words_it_formally():
    tokenizer = PolicyTokenizer()
    index = _index(tokenizer)
    expansion = QueryExpansion(load_lexicon(None), tokenizer, index.vocabulary, np.diff(index.matrix.indptr),
                               index.document_count)
    question = "房东不退押金怎么办"
    terms = tokenizer.tokenize_query(question)
    extra = expansion.expand(question, terms)
    assert extra.get("出租人") == expansion.settings.lexicon_weight
    plain, expanded = index.scores(terms), index.scores(terms, extra)
    assert plain[1] == 0 and expanded[1] > 0 and int(np.argmax(expanded)) == 1


def test_expansion_weighs_less_than_the_callers_own_words():
    tokenizer = PolicyTokenizer()
    index = _index(tokenizer)
    weighted = index.scores(["生育"], {"出租人": 0.5})
    assert weighted[2] > weighted[1] > 0


def test_the_formal_words_of_a_question_skip_expressions_inside_longer_words():
    tokenizer = PolicyTokenizer()
    index = BM25Index.build([tokenizer.tokenize(p) for p in [*PASSAGES, "父母应当保护未成年子女的合法权益。"]])
    expansion = QueryExpansion(load_lexicon(None), tokenizer, index.vocabulary, np.diff(index.matrix.indptr),
                               index.document_count)
    about_children = "孩子上学的事归谁管"
    assert "子女" in expansion.formal_terms(about_children, words=tokenizer.tokenize_query(about_children))
    chat = "怎么追女孩子"  # 女孩子 is another word that contains 孩子
    assert expansion.formal_terms(chat) and not expansion.formal_terms(chat, words=tokenizer.tokenize_query(chat))


def test_a_question_in_everyday_words_for_a_policy_is_not_refused_as_off_topic(tmp_path):
    """低保 is rare in statutes (they say 最低生活保障) and common in general Chinese: the
    question's own words look like chit-chat, the lexicon's formal words do not."""
    from kb import KnowledgeBase
    from tests.conftest import make_document

    filler = [make_document(f"law-{i}", f"条例{i}", [f"第{i}项事务由有关部门依法办理和监督管理。"]) for i in range(40)]
    relief = make_document("relief", "社会救助暂行办法", ["国家对共同生活的家庭成员人均收入低于当地最低生活保障标准的家庭，给予最低生活保障。"])
    knowledge_base = KnowledgeBase(tmp_path / "kb", create=True)
    knowledge_base.add_documents([*filler, relief])
    knowledge_base.build()
    searcher = knowledge_base.searcher
    question = "低保的钱是咋算的，是每个月发吗"
    terms = searcher.tokenizer.tokenize_query(question)
    assert searcher._specificity.question(terms) < knowledge_base.search_settings.min_specificity
    result = knowledge_base.search(question, top_k=3)
    assert result.reason != "no_answer" and result.hits[0].doc_id == "relief"
    knowledge_base.configure_search(expansion=False)
    assert knowledge_base.search(question, top_k=3).reason == "no_answer"
    knowledge_base.close()


def test_every_bundled_entry_is_one_line_with_a_tab_and_listed_once():
    from kb.tokenize import resource_lines

    entries = [line for line in resource_lines("colloquial_synonyms.txt") if line.strip() and not line.startswith("#")]
    expressions = [line.partition("\t")[0] for line in entries]
    assert all("\t" in line for line in entries)
    assert len(expressions) == len(set(expressions)), "an expression listed twice is merged silently"
    assert all(parse_lexicon(entries).values())
