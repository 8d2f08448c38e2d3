"""The repeal clauses found without trying every position are exactly ``finditer``'s."""

from __future__ import annotations

import random

from ingest.validity import REPEAL_CLAUSE, _repeal_clauses, read_validity

PIECES = ["原《常熟市住房公积金管理办法》（常政发〔2015〕12号）", "同时", "即行", "予以", "废止", "。", "；",
          "本办法自2020年1月1日起施行", "的", "废", "止", "x" * 150, "中" * 199, "\n"]


def _spans(matches):
    return [(m.span(), m.group("clause")) for m in matches]


def test_same_matches_as_finditer_on_random_texts():
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randrange(0, 12)))
        assert _spans(_repeal_clauses(text)) == _spans(REPEAL_CLAUSE.finditer(text)), text


def test_a_clause_far_from_the_previous_one_is_still_found():
    text = "第一条 总则。" + "甲" * 5000 + "原《某市办法》（某政发〔2015〕3号）同时废止。" + "乙" * 300 + "《旧规定》即行废止"
    assert _spans(_repeal_clauses(text)) == _spans(REPEAL_CLAUSE.finditer(text))
    assert read_validity(text).repeals == ("某政发〔2015〕3号", "某市办法", "旧规定")


def test_a_text_without_repeal_has_no_clause():
    assert list(_repeal_clauses("本办法自2020年1月1日起施行。" * 1000)) == []
