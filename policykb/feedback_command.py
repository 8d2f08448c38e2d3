"""``policykb feedback export``: the passages agents confirmed become training pairs and test questions.

What counts as confirmed: a ``correct_passage`` verdict, where someone named the passage that
answers the question. A ``helpful`` verdict is not exported: it says the answer as a whole
helped, not which passage did, and exporting the service's own first hit as the truth would
teach the model what it already believes and make a test set it passes by construction.

Questions are the masked ones from the activity log (``KB_DIR/activity.sqlite``); the same
question confirmed several times, or with several passages, is one question with all of
them. Each question falls once and for all into a split by a rule that never looks at the
answers (:data:`SPLIT_RULE`), so ``--split train`` pairs and a ``--split test`` evaluation do
not share a question. Passages that have left the knowledge base since are skipped and counted.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import click

from evaluation import PASSAGE, Question
from evaluation.sets import write_beir
from kb import KBError, KnowledgeBase, SegmentNotFound
from policykb.options import kb_option

SPLIT_RULE = "test when the first 8 hex digits of the SHA-256 of the question, as a number, % 4 == 0"
SOURCE = "feedback"


def feedback_split(question: str) -> str:
    """``test`` for about one question in four, ``train`` for the rest, fixed by the text alone."""
    return "test" if int(hashlib.sha256(question.encode("utf-8")).hexdigest()[:8], 16) % 4 == 0 else "train"


@dataclass
class Confirmed:
    """One question and every passage confirmed for it."""

    question: str
    query_id: str
    asked_at: str
    channels: set[str] = field(default_factory=set)
    segment_ids: list[str] = field(default_factory=list)

    @property
    def split(self) -> str:
        return feedback_split(self.question)


def confirmed_questions(kb_dir: Path) -> tuple[list[Confirmed], int]:
    """The confirmed questions of the knowledge base in ``kb_dir``, oldest first, and how many
    confirmations were skipped because their passage is no longer in the knowledge base."""
    from service.activity import ACTIVITY_FILE, ActivityLog, ActivityUnavailable

    path = kb_dir / ACTIVITY_FILE
    if not path.exists():
        raise click.ClickException(f"{path} does not exist: the service writes it as it answers questions")
    activity = ActivityLog(path)
    try:
        passages = activity.confirmed_passages()
    except ActivityUnavailable as error:
        raise click.ClickException(f"cannot read the activity log: {error}") from None
    finally:
        activity.close()
    knowledge_base = KnowledgeBase(kb_dir)
    by_question: dict[str, Confirmed] = {}
    gone = 0
    try:
        for passage in passages:
            try:
                segment_id = knowledge_base.segment(passage.segment_id)["segment_id"]
            except SegmentNotFound:
                gone += 1
                continue
            item = by_question.setdefault(passage.question, Confirmed(passage.question, passage.query_id,
                                                                      passage.asked_at))
            item.channels.add(passage.channel)
            if segment_id not in item.segment_ids:
                item.segment_ids.append(segment_id)
    finally:
        knowledge_base.close()
    return list(by_question.values()), gone


def write_pairs(questions: list[Confirmed], path: Path) -> int:
    """``{"question", "segment_id"}`` lines, the input of ``policykb train --pairs``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for item in questions:
            for segment_id in item.segment_ids:
                handle.write(json.dumps({"question": item.question, "segment_id": segment_id},
                                        ensure_ascii=False) + "\n")
                count += 1
    return count


def write_set(questions: list[Confirmed], directory: Path) -> int:
    """A BEIR set with passage gold (``queries.jsonl`` + ``qrels.tsv``) for ``policykb eval run``."""
    return write_beir((Question(
        qid=f"fb-{item.query_id}", text=item.question, gold=PASSAGE,
        relevant={segment_id: 1 for segment_id in item.segment_ids}, split=item.split,
        metadata={"source": SOURCE, "asked_at": item.asked_at, "channels": sorted(item.channels),
                  "split_rule": SPLIT_RULE},
    ) for item in questions), directory)


@click.group(name="feedback")
def feedback_group() -> None:
    """Feedback given on the service's answers (POST /v1/feedback), as training and test data.

    \b
    Example:
      policykb feedback export --kb var/kb --pairs var/feedback-pairs.jsonl --set var/eval/feedback
    """


@feedback_group.command("export")
@kb_option
@click.option("--pairs", "pairs_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help='Write {"question", "segment_id"} lines for `policykb train --pairs`.')
@click.option("--set", "set_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Write an evaluation set (queries.jsonl + qrels.tsv) for `policykb eval run --set`.")
@click.option("--split", type=click.Choice(["train", "test"]), default=None,
              help="Export only the questions of this split (default: all; the set records each one's).")
def export_command(kb_dir: Path, pairs_file: Path | None, set_dir: Path | None, split: str | None) -> None:
    """Export the passages confirmed as answers (verdict correct_passage) with their masked questions.

    \b
    Examples:
      policykb feedback export --kb var/kb --pairs var/feedback-pairs.jsonl
      policykb train --kb var/kb --pairs var/feedback-pairs.jsonl
      policykb feedback export --kb var/kb --set var/eval/feedback
      policykb eval run --kb var/kb --set var/eval/feedback --split test
    """
    if pairs_file is None and set_dir is None:
        raise click.UsageError("give --pairs FILE, --set DIR or both")
    try:
        questions, gone = confirmed_questions(kb_dir)
    except KBError as error:
        raise click.ClickException(str(error)) from None
    if split:
        questions = [item for item in questions if item.split == split]
    passages = sum(len(item.segment_ids) for item in questions)
    click.echo(f"{passages} confirmed passages for {len(questions)} questions"
               + (f" ({split} split)" if split else "")
               + (f"; {gone} skipped: their passage is no longer in the knowledge base" if gone else ""))
    if pairs_file is not None:
        click.echo(f"{pairs_file}: {write_pairs(questions, pairs_file)} pairs")
    if set_dir is not None:
        if not questions:
            raise click.ClickException("no confirmed passage to make a set of: an evaluation set needs a question")
        count = write_set(questions, set_dir)
        tests = sum(item.split == "test" for item in questions)
        click.echo(f"{set_dir}: {count} questions ({count - tests} train, {tests} test; {SPLIT_RULE})")
