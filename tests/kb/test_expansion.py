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
