"""Converters: STARD -> passage gold split once by query_id % 4; epidemic questions keep their split."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation import ANSWER, DOCUMENT, PASSAGE, article_anchor, convert_covid, convert_stard, load_set, stard_split
from evaluation.converters import chinese_number
from tests.conftest import shared_file


@pytest.mark.parametrize("text,value", [("一", 1), ("十", 10), ("十五", 15), ("二十", 20), ("五十四", 54),
                                        ("一百零五", 105), ("一百一十", 110), ("一千二百六十", 1260),
                                        ("一千零一", 1001), ("两百", 200), ("1260", 1260)])
def test_chinese_numerals(text: str, value: int) -> None:
    assert chinese_number(text) == value


@pytest.mark.parametrize("article,anchor", [("第五十四条", "a54"), ("第五十四条之一", "a54-1"), ("第一条", "a1"),
                                            ("第一千二百六十条", "a1260"), (" 第十条 ", "a10"), ("第一百二十条之二", "a120-2")])
def test_article_labels_become_segment_anchors(article: str, anchor: str) -> None:
    assert article_anchor(article) == anchor


@pytest.mark.parametrize("bad", ["第五十四款", "五十四条", "第X条"])
def test_other_labels_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        article_anchor(bad)


def _write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_stard_is_split_once_by_the_fixed_rule(tmp_path: Path) -> None:
    records = [{"query_id": qid, "question": f"问题{qid}", "relevant": [
        {"article": "第五十四条", "lawrefbook_id": "lawrefbook:a73f18fa8825"},
        {"article": "第二条之一", "lawrefbook_id": "lawrefbook:a55564f3d433"}]} for qid in range(8)]
    laws = _write_jsonl(tmp_path / "laws.jsonl", [{"id": "lawrefbook:kept", "text": "第二条 同一 法律"},
                                                 {"id": "lawrefbook:a55564f3d433", "text": "第二条 同一法律"}])
    counts = convert_stard(_write_jsonl(tmp_path / "stard.jsonl", records), tmp_path / "out", laws=laws)
    assert counts == {"train": 6, "test": 2}
    test = load_set(tmp_path / "out" / "test")
    assert [q.qid for q in test.questions] == ["0", "4"]
    assert all(q.gold == PASSAGE and q.split == "test" for q in test.questions)
    # the second law is a duplicate ingest does not store: gold names the copy it keeps
    assert dict(test.questions[0].relevant) == {"lawrefbook:a73f18fa8825#a54": 1, "lawrefbook:kept#a2-1": 1}
    assert [stard_split(i) for i in range(5)] == ["test", "train", "train", "train", "test"]


def test_epidemic_questions_keep_their_split_and_name_the_kept_duplicate(tmp_path: Path) -> None:
    docs = _write_jsonl(tmp_path / "docs.jsonl", [{"docid": "first", "text": "同一 段文字"},
                                                  {"docid": "copy", "text": "同一段  文字"},
                                                  {"docid": "other", "text": "别的"}])
    source = _write_jsonl(tmp_path / "questions.jsonl", [
        {"id": "q1", "docid": "copy", "question": "问一", "answer": "文字", "answer_span": [3, 5], "split": "local_dev"},
        {"id": "q2", "docid": "other", "question": "问二", "answer": "别的", "answer_span": [0, 2], "split": "local_train"},
    ])
    assert convert_covid(source, tmp_path / "answer", docs=docs) == {"local_dev": 1, "local_train": 1}
    dev = load_set(tmp_path / "answer" / "local_dev").questions[0]
    assert dev.gold == ANSWER and dev.split == "local_dev" and dict(dev.relevant) == {"first": 1}
    assert dev.metadata["source_docid"] == "copy" and dev.metadata["answer_span"] == [3, 5]
    convert_covid(source, tmp_path / "document", gold=DOCUMENT, docs=docs)
    merged = load_set(tmp_path / "document")
    assert {q.gold for q in merged.questions} == {DOCUMENT} and {q.split for q in merged.questions} == {
        "local_dev", "local_train"}


@pytest.mark.slow
def test_the_shared_sets_convert(tmp_path: Path) -> None:
    assert convert_stard(shared_file("stard/questions.jsonl"), tmp_path / "stard") == {"train": 929, "test": 306}
    counts = convert_covid(shared_file("covid-policy/questions.jsonl"), tmp_path / "covid")
    assert counts == {"local_dev": 58, "local_train": 600}
    covid = load_set(tmp_path / "covid")
    assert sum("source_docid" in q.metadata for q in covid.questions) == 7
