"""Turn the shared question sets into evaluation sets, written where the user says.

Nothing is copied into the repository: these read ``../shared/corpus`` and write under a
path such as ``var/eval/`` (git-ignored). Each converter writes one directory per split,
so a test split can be evaluated alone and a parent directory evaluates all of them.

STARD has no split of its own, so it is split here ONCE by a fixed rule that never looks
at the data: ``query_id % 4 == 0`` is test (306 questions), every other id is train (929).
The epidemic questions carry their own ``split`` field (``local_train``/``local_dev``); it is
kept as is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from evaluation.errors import SetFormatError
from evaluation.sets import ANSWER, DOCUMENT, PASSAGE, Question, write_answers, write_beir
from kb import content_hash

#: The one STARD split rule; written into every converted question's metadata as ``split``.
STARD_SPLIT_RULE = "test when query_id % 4 == 0, train otherwise"

#: "第五十四条" -> 五十四; "第五十四条之一" -> 五十四 and 一; "第1260条" (Arabic digits) too.
ARTICLE = re.compile(r"^第([零〇一二两三四五六七八九十百千万\d]+)条(?:之([零〇一二两三四五六七八九十\d]+))?$")
DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}


def chinese_number(text: str) -> int:
    """一千二百六十 -> 1260, 十五 -> 15, 一百零五 -> 105; Arabic digits pass through."""
    if text.isdigit():
        return int(text)
    total, section, digit = 0, 0, 0
    for char in text:
        if char in DIGITS:
            digit = DIGITS[char]
        elif char == "万":
            total += (section + digit) * 10000
            section, digit = 0, 0
        elif char in UNITS:
            section += (digit or 1) * UNITS[char]
            digit = 0
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + section + digit


def article_anchor(article: str) -> str:
    """The segment anchor ingest gives an article: 第五十四条 -> a54, 第五十四条之一 -> a54-1."""
    match = ARTICLE.match(article.strip())
    if match is None:
        raise ValueError(f"not an article label: {article!r}")
    anchor = f"a{chinese_number(match.group(1))}"
    if match.group(2):
        anchor += f"-{chinese_number(match.group(2))}"
    return anchor


#: The metadata key holding a question's reference answer.
REFERENCE_ANSWER = "reference_answer"


def stard_split(query_id: int) -> str:
    """The fixed STARD split: see :data:`STARD_SPLIT_RULE`."""
    return "test" if query_id % 4 == 0 else "train"


def _records(path: Path) -> list[dict]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise SetFormatError(f"cannot read {path}: {error.strerror}") from None
    try:
        return [json.loads(line) for line in lines if line.strip()]
    except ValueError:
        raise SetFormatError(f"{path} is not JSONL") from None


def convert_stard(source: Path, out: Path, *, laws: Path | None = None) -> dict[str, int]:
    """STARD -> ``out/train`` and ``out/test`` with passage gold (``{lawrefbook_id}#a{n}``).

    Each question's reference answer (a lawyer's reply in plain words) is kept in its
    metadata as ``reference_answer``: ``policykb eval pairs --with-reference-answers`` can
    train on those of the train split too.

    ``laws`` (default: ``../laws/laws.jsonl`` beside STARD's folder, when present) lets gold
    name the copy of a duplicated law that ingest keeps (see :func:`canonical_doc_ids`).
    """
    laws = laws or (source.parent.parent / "laws" / "laws.jsonl")
    canonical = canonical_doc_ids(laws, "id") if laws.exists() else {}
    by_split: dict[str, list[Question]] = {"train": [], "test": []}
    for record in _records(source):
        try:
            query_id = int(record["query_id"])
            relevant = {f"{canonical.get(gold['lawrefbook_id'], gold['lawrefbook_id'])}#"
                        f"{article_anchor(gold['article'])}": 1 for gold in record["relevant"]}
            text = record["question"]
        except (KeyError, TypeError, ValueError) as error:
            raise SetFormatError(f"{source}: STARD question {record.get('query_id')!r} is malformed ({error})") from None
        if not relevant:
            continue
        split = stard_split(query_id)
        metadata = {"split_rule": STARD_SPLIT_RULE}
        if isinstance(record.get("answer"), str) and record["answer"].strip():
            metadata[REFERENCE_ANSWER] = record["answer"].strip()
        by_split[split].append(Question(str(query_id), text, PASSAGE, relevant, split=split, metadata=metadata))
    return {split: write_beir(questions, out / split) for split, questions in by_split.items()}


def canonical_doc_ids(docs: Path, id_field: str = "docid") -> dict[str, str]:
    """``{doc id: the doc id a knowledge base keeps for that text}``.

    Ingest stores a text once: a later record with the same content (``kb.content_hash``,
    whitespace-insensitive) is reported as a duplicate and not stored, so the first record
    in file order keeps it. Seven epidemic documents and ten laws are such duplicates; gold
    must name the copy the knowledge base holds, or its questions could never be answered.
    """
    first: dict[str, str] = {}
    canonical = {}
    for record in _records(docs):
        digest = content_hash(record.get("text") or "")
        canonical[record[id_field]] = first.setdefault(digest, record[id_field])
    return canonical


def convert_covid(source: Path, out: Path, *, gold: str = ANSWER, docs: Path | None = None) -> dict[str, int]:
    """Epidemic questions -> ``out/{split}/``: answer-text gold (``answers.jsonl``) by default,
    or document gold (``queries.jsonl`` + ``qrels.tsv`` naming the ``docid``).

    ``docs`` (default: ``docs.jsonl`` beside ``source``, when present) lets gold doc ids of
    duplicate documents be replaced by the id ingest keeps (see :func:`canonical_doc_ids`);
    the original id stays in the question's metadata as ``source_docid``.
    """
    if gold not in (ANSWER, DOCUMENT):
        raise ValueError(f"gold must be {ANSWER!r} or {DOCUMENT!r}")
    docs = docs or (source.parent / "docs.jsonl")
    canonical = canonical_doc_ids(docs) if docs.exists() else {}
    by_split: dict[str, list[Question]] = {}
    for record in _records(source):
        try:
            docid = canonical.get(record["docid"], record["docid"])
            metadata = {"answer_span": record["answer_span"]} if gold == ANSWER else {}
            if docid != record["docid"]:
                metadata["source_docid"] = record["docid"]
            question = Question(record["id"], record["question"], gold, {docid: 1},
                                answer=record["answer"] if gold == ANSWER else None, split=record["split"],
                                metadata=metadata)
        except (KeyError, TypeError) as error:
            raise SetFormatError(f"{source}: epidemic question {record.get('id')!r} lacks {error}") from None
        by_split.setdefault(question.split or "all", []).append(question)
    counts = {}
    for split, questions in sorted(by_split.items()):
        if gold == ANSWER:
            counts[split] = write_answers(questions, out / split / "answers.jsonl")
        else:
            counts[split] = write_beir(questions, out / split)
    return counts
