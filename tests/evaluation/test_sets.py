"""Question sets: BEIR queries + qrels (passage or document gold), answer-text files, split directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation import ANSWER, DOCUMENT, PASSAGE, Question, SetFormatError, load_set
from evaluation.sets import read_qrels, write_answers, write_beir


def _beir(directory: Path, queries: list[dict], qrels: list[tuple[str, str, int]], header: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "queries.jsonl").write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in queries),
                                             encoding="utf-8")
    lines = (["query-id\tcorpus-id\tscore"] if header else []) + [f"{q}\t{c}\t{s}" for q, c, s in qrels]
    (directory / "qrels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def test_beir_with_segment_ids_is_passage_gold(tmp_path: Path) -> None:
    _beir(tmp_path, [{"_id": "1", "text": "谁可以成为个体工商户？", "metadata": {"split": "test"}},
                     {"_id": "2", "text": "没有判断的问题"}],
          [("1", "lawrefbook:a73f18fa8825#a54", 1), ("1", "lawrefbook:a55564f3d433#a2", 1)])
    loaded = load_set(tmp_path)
    (question,) = loaded.questions  # query 2 has no judgement: not evaluated (BEIR convention)
    assert question.gold == PASSAGE and question.split == "test" and question.part == "queries.jsonl"
    assert dict(question.relevant) == {"lawrefbook:a73f18fa8825#a54": 1, "lawrefbook:a55564f3d433#a2": 1}


def test_beir_with_doc_ids_is_document_gold(tmp_path: Path) -> None:
    _beir(tmp_path, [{"_id": "q", "text": "复工补贴"}], [("q", "015758c2", 1)])
    assert load_set(tmp_path / "queries.jsonl").questions[0].gold == DOCUMENT


def test_answer_text_file_and_mixed_directory(tmp_path: Path) -> None:
    _beir(tmp_path, [{"_id": "s1", "text": "预决算在哪公开"}], [("s1", "seed#s3.4", 1)])
    (tmp_path / "epidemic.jsonl").write_text(json.dumps(
        {"id": "e1", "question": "捐款账号多少", "docid": "d1", "answer": "1100 1016", "split": "dev"},
        ensure_ascii=False) + "\n", encoding="utf-8")
    loaded = load_set(tmp_path)
    assert [q.gold for q in loaded.questions] == [PASSAGE, ANSWER]
    assert set(loaded.parts()) == {"queries.jsonl", "epidemic.jsonl"}
    answer = loaded.questions[1]
    assert answer.answer == "1100 1016" and dict(answer.relevant) == {"d1": 1} and answer.split == "dev"
    assert load_set(tmp_path / "epidemic.jsonl").name == "epidemic"


def test_directory_of_split_directories_is_merged_and_filterable(tmp_path: Path) -> None:
    for split, qid in (("train", "1"), ("test", "4")):
        _beir(tmp_path / split, [{"_id": qid, "text": "问题" + qid, "metadata": {"split": split}}], [(qid, "d#a1", 1)])
    loaded = load_set(tmp_path)
    assert sorted(q.part for q in loaded.questions) == ["test/queries.jsonl", "train/queries.jsonl"]
    only = loaded.only_split("test")
    assert [q.qid for q in only.questions] == ["4"] and only.name.endswith("[test]")
    with pytest.raises(SetFormatError, match="splits: test, train"):
        loaded.only_split("dev")


@pytest.mark.parametrize("queries,qrels,header,message", [
    ([{"_id": "1", "text": "x"}], [("1", "d#a1", 1)], False, "header"),
    ([{"_id": "1", "text": "x"}], [("1", "d#a1", 1), ("1", "d2", 1)], True, "mixes"),
    ([{"_id": "1", "text": "x"}, {"_id": "1", "text": "y"}], [("1", "d#a1", 1)], True, "twice"),
    ([{"_id": "1", "text": "x"}], [("2", "d#a1", 1)], True, "absent"),
    ([{"_id": "1", "text": ""}], [("1", "d#a1", 1)], True, "non-empty"),
])
def test_malformed_sets_are_refused_with_the_reason(tmp_path: Path, queries, qrels, header, message) -> None:
    _beir(tmp_path, queries, qrels, header)
    with pytest.raises(SetFormatError, match=message):
        load_set(tmp_path)


def test_missing_paths_and_bad_answer_lines_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SetFormatError, match="does not exist"):
        load_set(tmp_path / "nothing")
    with pytest.raises(SetFormatError, match="holds no judged question"):
        load_set(tmp_path)
    (tmp_path / "a.jsonl").write_text('{"id": "1", "question": "x", "docid": "d"}\n', encoding="utf-8")
    with pytest.raises(SetFormatError, match="answer"):
        load_set(tmp_path / "a.jsonl")
    (tmp_path / "a.jsonl").write_text("not json\n", encoding="utf-8")
    with pytest.raises(SetFormatError, match=":1: not a JSON line"):
        load_set(tmp_path / "a.jsonl")


def test_the_same_id_in_two_parts_is_refused(tmp_path: Path) -> None:
    _beir(tmp_path, [{"_id": "1", "text": "x"}], [("1", "d#a1", 1)])
    (tmp_path / "b.jsonl").write_text('{"id": "1", "question": "y", "docid": "d", "answer": "z"}\n', encoding="utf-8")
    with pytest.raises(SetFormatError, match="more than one place"):
        load_set(tmp_path)


def test_writers_round_trip(tmp_path: Path) -> None:
    passage = [Question("7", "问题", PASSAGE, {"doc#a3": 1, "doc#a4-1": 2}, split="test", metadata={"k": "v"})]
    assert write_beir(passage, tmp_path / "p") == 1
    assert (tmp_path / "p" / "qrels.tsv").read_text(encoding="utf-8").splitlines()[0] == "query-id\tcorpus-id\tscore"
    assert read_qrels(tmp_path / "p" / "qrels.tsv") == {"7": {"doc#a3": 1, "doc#a4-1": 2}}
    back = load_set(tmp_path / "p").questions[0]
    assert (back.qid, back.text, dict(back.relevant), back.split, back.metadata["k"]) == (
        "7", "问题", {"doc#a3": 1, "doc#a4-1": 2}, "test", "v")
    answers = [Question("e", "问", ANSWER, {"d": 1}, answer="答案", split="dev", metadata={"answer_span": [1, 3]})]
    write_answers(answers, tmp_path / "a" / "answers.jsonl")
    back = load_set(tmp_path / "a").questions[0]
    assert (back.answer, dict(back.relevant), back.split, back.metadata["answer_span"]) == ("答案", {"d": 1}, "dev", [1, 3])


def test_the_committed_hotline_set_loads() -> None:
    hotline = load_set(Path(__file__).resolve().parents[2] / "evaluation" / "sets" / "hotline")
    parts = hotline.parts()
    assert len(parts["queries.jsonl"]) >= 50 and len(parts["epidemic.jsonl"]) >= 50
    assert len(hotline.questions) >= 100
    assert all(q.gold == PASSAGE and next(iter(q.relevant)).startswith("changshu-2019-zhengwu-gongkai-yaodian#")
               for q in parts["queries.jsonl"])


def test_every_hotline_answer_occurs_in_its_epidemic_document() -> None:
    from evaluation.relevance import contains_answer
    from tests.conftest import shared_file

    docs = {}
    with shared_file("covid-policy/docs.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            docs[record["docid"]] = record["text"]
    hotline = load_set(Path(__file__).resolve().parents[2] / "evaluation" / "sets" / "hotline" / "epidemic.jsonl")
    for question in hotline.questions:
        (docid,) = question.relevant
        assert contains_answer(docs[docid], question.answer), question.qid
