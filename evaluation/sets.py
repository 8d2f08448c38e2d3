"""Question sets in the field's formats, read and written in one place.

Two forms, because gold comes in two shapes:

* BEIR: ``queries.jsonl`` (``{"_id", "text", "metadata": {"split"}}``) beside ``qrels.tsv``
  (``query-id<TAB>corpus-id<TAB>score`` with that header). A corpus-id holding ``#`` is a
  segment id (``lawrefbook:a73f18fa8825#a54``): *passage* gold. One without is a doc id:
  *document* gold, where any passage of that document counts. One file is one or the other.
* Answer text: any other ``*.jsonl`` with ``{"id", "question", "docid", "answer", "split"}``
  lines (the shape of the epidemic questions). Gold is "a returned passage of that document
  contains the answer"; see :mod:`evaluation.relevance`.

A set is a file, a directory holding such files, or a directory of such directories (one per
split, as the converters write them); every question remembers the file it came from
(``part``) so a report can break a mixed set down.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from evaluation.errors import SetFormatError

PASSAGE = "passage"
DOCUMENT = "document"
ANSWER = "answer"
GOLD_KINDS = (PASSAGE, DOCUMENT, ANSWER)

QUERIES_FILE = "queries.jsonl"
QRELS_FILE = "qrels.tsv"
QRELS_HEADER = ("query-id", "corpus-id", "score")


@dataclass(frozen=True)
class Question:
    """One question with its gold: ``relevant`` maps segment ids or doc ids to a grade."""

    qid: str
    text: str
    gold: str
    relevant: Mapping[str, int]
    answer: str | None = None
    split: str | None = None
    part: str = ""
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QuestionSet:
    """Questions evaluated together; ``path`` says where they were read from."""

    name: str
    path: str
    questions: tuple[Question, ...]

    def parts(self) -> dict[str, list[Question]]:
        grouped: dict[str, list[Question]] = {}
        for question in self.questions:
            grouped.setdefault(question.part, []).append(question)
        return grouped

    def only_split(self, split: str) -> QuestionSet:
        """The questions of one split (``test``, ``local_dev``); an unknown split is an error."""
        kept = tuple(q for q in self.questions if q.split == split)
        if not kept:
            known = sorted({str(q.split) for q in self.questions})
            raise SetFormatError(f"no question of {self.path} is in split {split!r}; splits: {', '.join(known)}")
        return replace(self, name=f"{self.name}[{split}]", questions=kept)


def _jsonl(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as error:
        raise SetFormatError(f"cannot read {path}: {error.strerror}") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                raise SetFormatError(f"{path}:{number}: not a JSON line") from None
            if not isinstance(record, dict):
                raise SetFormatError(f"{path}:{number}: not a JSON object")
            yield number, record


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """``qrels.tsv`` as ``{query-id: {corpus-id: score}}``; the header is required."""
    if not path.exists():
        raise SetFormatError(f"{path} is missing: BEIR queries need a qrels.tsv beside them")
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t")
        header = next(rows, None)
        if header is None or tuple(h.strip() for h in header) != QRELS_HEADER:
            raise SetFormatError(f"{path}: the first line must be the header {'<TAB>'.join(QRELS_HEADER)}")
        for number, row in enumerate(rows, start=2):
            if not row or not "".join(row).strip():
                continue
            if len(row) != 3:
                raise SetFormatError(f"{path}:{number}: expected 3 tab-separated columns, got {len(row)}")
            try:
                score = int(row[2])
            except ValueError:
                raise SetFormatError(f"{path}:{number}: score {row[2]!r} is not an integer") from None
            qrels.setdefault(row[0], {})[row[1]] = score
    return qrels


def _read_beir(queries_path: Path, part: str) -> list[Question]:
    qrels = read_qrels(queries_path.with_name(QRELS_FILE))
    ids = {cid for judged in qrels.values() for cid in judged}
    kinds = {PASSAGE if "#" in cid else DOCUMENT for cid in ids}
    if len(kinds) > 1:
        raise SetFormatError(f"{queries_path.with_name(QRELS_FILE)} mixes segment ids (with #) and doc ids")
    gold = kinds.pop() if kinds else PASSAGE
    texts: dict[str, tuple[str, dict[str, Any]]] = {}
    for number, record in _jsonl(queries_path):
        qid, text = record.get("_id"), record.get("text")
        if not isinstance(qid, str) or not isinstance(text, str) or not text.strip():
            raise SetFormatError(f"{queries_path}:{number}: needs a string \"_id\" and a non-empty \"text\"")
        if qid in texts:
            raise SetFormatError(f"{queries_path}:{number}: query id {qid!r} appears twice")
        texts[qid] = (text, record.get("metadata") or {})
    questions = []
    for qid, judged in qrels.items():
        if qid not in texts:
            raise SetFormatError(f"{queries_path.with_name(QRELS_FILE)} judges query {qid!r}, absent from {queries_path.name}")
        if not any(score > 0 for score in judged.values()):
            continue  # BEIR queries judged only non-relevant cannot be scored
        text, metadata = texts[qid]
        questions.append(Question(qid, text, gold, dict(judged), split=metadata.get("split"), part=part,
                                  metadata=metadata))
    return questions


def _read_answers(path: Path, part: str) -> list[Question]:
    questions = []
    for number, record in _jsonl(path):
        qid, text, docid, answer = (record.get(k) for k in ("id", "question", "docid", "answer"))
        if not (isinstance(qid, str) and isinstance(text, str) and isinstance(docid, str) and isinstance(answer, str)
                and all(v.strip() for v in (qid, text, docid, answer))):
            raise SetFormatError(f"{path}:{number}: needs non-empty string \"id\", \"question\", \"docid\", \"answer\"")
        metadata = {k: v for k, v in record.items() if k not in ("id", "question", "docid", "answer", "split")}
        questions.append(Question(qid, text, ANSWER, {docid: 1}, answer=answer, split=record.get("split"),
                                  part=part, metadata=metadata))
    return questions


def _read_directory(directory: Path, prefix: str) -> list[Question]:
    questions: list[Question] = []
    if (directory / QUERIES_FILE).exists():
        questions += _read_beir(directory / QUERIES_FILE, prefix + QUERIES_FILE)
    elif (directory / QRELS_FILE).exists():
        raise SetFormatError(f"{directory} has a {QRELS_FILE} but no {QUERIES_FILE}")
    for path in sorted(directory.glob("*.jsonl")):
        if path.name != QUERIES_FILE:
            questions += _read_answers(path, prefix + path.name)
    return questions


def load_set(path: Path | str) -> QuestionSet:
    """Read a set from a file, a set directory, or a directory of split directories."""
    path = Path(path)
    if path.is_file():
        if path.name == QUERIES_FILE:
            questions = _read_beir(path, path.name)
        elif path.suffix == ".jsonl":
            questions = _read_answers(path, path.name)
        else:
            raise SetFormatError(f"{path}: a set file is queries.jsonl (with qrels.tsv) or an answer-text .jsonl")
        name = path.parent.name if path.name == QUERIES_FILE else path.stem
    elif path.is_dir():
        questions = _read_directory(path, "")
        if not questions:
            for child in sorted(p for p in path.iterdir() if p.is_dir()):
                questions += _read_directory(child, f"{child.name}/")
        name = path.name
    else:
        raise SetFormatError(f"{path} does not exist")
    if not questions:
        raise SetFormatError(f"{path} holds no judged question (expected queries.jsonl + qrels.tsv or *.jsonl)")
    seen: set[str] = set()
    for question in questions:
        if question.qid in seen:
            raise SetFormatError(f"{path}: question id {question.qid!r} appears in more than one place")
        seen.add(question.qid)
    return QuestionSet(name=name, path=str(path), questions=tuple(questions))


def write_beir(questions: Iterable[Question], directory: Path) -> int:
    """Write ``queries.jsonl`` + ``qrels.tsv`` (passage or document gold); returns the count."""
    directory.mkdir(parents=True, exist_ok=True)
    count = 0
    with (directory / QUERIES_FILE).open("w", encoding="utf-8") as queries, \
            (directory / QRELS_FILE).open("w", encoding="utf-8", newline="") as qrels:
        qrels.write("\t".join(QRELS_HEADER) + "\n")
        for question in questions:
            metadata = {**question.metadata, **({"split": question.split} if question.split else {})}
            queries.write(json.dumps({"_id": question.qid, "text": question.text, "metadata": metadata},
                                     ensure_ascii=False) + "\n")
            for corpus_id, score in question.relevant.items():
                qrels.write(f"{question.qid}\t{corpus_id}\t{score}\n")
            count += 1
    return count


def write_answers(questions: Iterable[Question], path: Path) -> int:
    """Write answer-text questions as ``{"id", "question", "docid", "answer", "split", ...}`` lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for question in questions:
            (docid,) = question.relevant
            record = {"id": question.qid, "question": question.text, "docid": docid, "answer": question.answer,
                      "split": question.split, **question.metadata}
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count
