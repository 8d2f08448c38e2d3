"""The suite: every question set the project tracks, over one knowledge base, against its targets.

``evaluation/sets/targets.json`` names the sets (a set of this repository, or a shared source
converted as ``policykb eval convert-stard`` / ``convert-covid`` convert it) and, per set, the
minimum each metric should reach for a ``fresh`` knowledge base (no question pairs) and a
``trained`` one. Each ranking set goes through :func:`evaluation.experiment.evaluate` with the
``hybrid`` configuration, in-force documents, 100 passages deep: the same figures ``policykb
eval run --configs hybrid`` prints for it. Every figure comes with its bootstrap interval over
the set's questions (:mod:`evaluation.intervals`): how far it could move on another draw of
such questions. Two rows are not rankings:

* the off-topic set has no gold: the right answer is none, so it counts the questions that got
  no hits (abstention);
* ``refusals`` counts the real questions of all ranking sets together that the knowledge base
  declined as off-topic (``reason: "no_answer"``).

A shared source that is absent (no ``../shared/corpus``) makes its set *skipped*, with the
reason, never an error. The result is plain data (what ``--json`` prints); comparing a value
with a target is :func:`check_targets`, a pure function.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.compare import paired_test
from evaluation.converters import convert_covid, convert_stard
from evaluation.errors import EvaluationError, SetFormatError
from evaluation.experiment import EvaluationSettings, describe_kb, evaluate
from evaluation.intervals import LEVEL, mean_interval
from evaluation.runs import Configuration, run_search
from evaluation.sets import PASSAGE, Question, QuestionSet, load_set
from kb import IN_FORCE, KnowledgeBase

FRESH = "fresh"
TRAINED = "trained"
#: The knowledge-base states targets are given for.
TARGET_NAMES = (FRESH, TRAINED)
TARGETS_FILE = Path(__file__).resolve().parent / "sets" / "targets.json"
#: The one configuration the suite measures: hybrid search as the knowledge base's settings say.
HYBRID = Configuration("hybrid", "hybrid")
TOP_K = 100

#: What a ranking set reports, in table order; the first four come from ir-measures (RR@10 is MRR@10).
RANKING_MEASURES = {"R@5": "R@5", "R@10": "R@10", "R@100": "R@100", "MRR@10": "RR@10"}
TOP_3 = "top-3"
ABSTAINED = "abstained"
REFUSALS = "refusals"
#: Reasons of an answer without hits that mean "the knowledge base declined the question".
NO_ANSWER = "no_answer"
ABSTAINING = (NO_ANSWER, "no_searchable_terms")
#: Beside a converted set in the cache: what it was converted from, so a changed source is converted again.
STAMP_FILE = "converted-from.json"

CONVERTERS: dict[str, Callable[[Path, Path], dict[str, int]]] = {"stard": convert_stard, "covid": convert_covid}

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class SuiteSet:
    """One set of the suite: where its questions are and what it should reach.

    Exactly one of ``path`` (a set of this repository) and ``source`` (a file of the shared corpus,
    relative to it, turned into a set by ``convert``) is given.
    """

    name: str
    targets: Mapping[str, Mapping[str, float]]
    path: Path | None = None
    source: str | None = None
    convert: str | None = None
    split: str | None = None
    abstention: bool = False


@dataclass(frozen=True)
class Targets:
    """The sets of the suite in report order, and where the targets come from."""

    about: str
    sets: tuple[SuiteSet, ...]


@dataclass(frozen=True)
class Check:
    """One target against one measured value; ``met`` is None when there is no value to compare."""

    metric: str
    minimum: float
    value: float | None

    @property
    def met(self) -> bool | None:
        return None if self.value is None else self.value >= self.minimum

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "minimum": self.minimum, "value": self.value, "met": self.met}


def load_targets(path: Path = TARGETS_FILE) -> Targets:
    """Read ``targets.json``; ``set`` paths are relative to its directory."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise SetFormatError(f"cannot read {path}: {error.strerror}") from None
    except ValueError:
        raise SetFormatError(f"{path} is not JSON") from None
    sets = []
    for name, entry in (data.get("sets") or {}).items():
        targets = entry.get("targets") or {}
        if ("set" in entry) == ("source" in entry) or ("source" in entry and entry.get("convert") not in CONVERTERS):
            raise SetFormatError(f"{path}: set {name!r} needs either \"set\" or \"source\" with \"convert\" "
                                 f"({', '.join(CONVERTERS)})")
        if set(targets) != set(TARGET_NAMES) or not all(
                isinstance(v, (int, float)) for minimums in targets.values() for v in minimums.values()):
            raise SetFormatError(f"{path}: set {name!r} needs numeric targets for {' and '.join(TARGET_NAMES)}")
        sets.append(SuiteSet(name, targets, path=path.parent / entry["set"] if "set" in entry else None,
                             source=entry.get("source"), convert=entry.get("convert"), split=entry.get("split"),
                             abstention=bool(entry.get("abstention"))))
    if not sets:
        raise SetFormatError(f"{path} names no set")
    return Targets(about=str(data.get("about", "")), sets=tuple(sets))


def check_targets(values: Mapping[str, float | None], minimums: Mapping[str, float]) -> list[Check]:
    """Each target with the value measured for its metric (None when that metric was not measured)."""
    return [Check(metric, float(minimum), values.get(metric)) for metric, minimum in minimums.items()]


def all_met(checks: Sequence[Check]) -> bool | None:
    """True when every target is met, False when one is not, None when nothing could be compared."""
    if not checks or any(check.met is None for check in checks):
        return None
    return all(check.met for check in checks)


def default_targets(knowledge_base: KnowledgeBase) -> tuple[str, str]:
    """``trained`` when the knowledge base stores question pairs (``policykb train``), else ``fresh``; and why."""
    pairs = len(knowledge_base.store.training_pairs())
    if pairs:
        return TRAINED, f"{pairs} question pairs stored"
    return FRESH, "no question pairs stored"


def _stamp(source: Path, converter: str) -> dict[str, Any]:
    status = source.stat()
    return {"source": str(source.resolve()), "size": status.st_size, "mtime_ns": status.st_mtime_ns,
            "converter": converter}


def _converted(entry: SuiteSet, corpus: Path, cache: Path, announce: Callable[[str], None]) -> Path | str:
    """The converted set's directory, converting the shared source first when the cache lacks it;
    or why the set is skipped."""
    assert entry.source is not None and entry.convert is not None
    source = corpus / entry.source
    if not source.is_file():
        return f"{source} is absent"
    directory = cache / entry.name
    stamp = _stamp(source, entry.convert)
    stamp_path = directory / STAMP_FILE
    if directory.exists() and not stamp_path.exists():
        raise EvaluationError(f"{directory} exists but the suite did not write it: remove it or choose another cache")
    try:
        cached = json.loads(stamp_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        cached = None
    if cached != stamp:
        announce(f"converting {source} into {directory}")
        # converted beside and swapped in whole: an older conversion's splits never mix with the new one's
        cache.mkdir(parents=True, exist_ok=True)
        fresh = Path(tempfile.mkdtemp(prefix=f".{entry.name}-", dir=cache))
        try:
            CONVERTERS[entry.convert](source, fresh)
            (fresh / STAMP_FILE).write_text(json.dumps(stamp, ensure_ascii=False), encoding="utf-8")
            if directory.exists():
                shutil.rmtree(directory)
            fresh.rename(directory)
        finally:
            shutil.rmtree(fresh, ignore_errors=True)
    return directory


def _questions_without_gold(path: Path) -> list[Question]:
    """``{"id", "question"}`` lines: questions whose right answer is none."""
    questions = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise SetFormatError(f"cannot read {path}: {error.strerror}") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            qid, text = record["id"], record["question"]
        except (ValueError, TypeError, KeyError):
            raise SetFormatError(f"{path}:{number}: needs a JSON object with \"id\" and \"question\"") from None
        questions.append(Question(str(qid), str(text), PASSAGE, {}))
    return questions


def _ranking_row(knowledge_base: KnowledgeBase, question_set: QuestionSet, split: str | None,
                 progress: Progress | None, name: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Measure one ranking set exactly as ``eval run --configs hybrid`` does; also the questions refused."""
    settings = EvaluationSettings(top_k=TOP_K, statuses=(IN_FORCE,), worst=0, split=split)
    result = evaluate(knowledge_base, question_set, [HYBRID], settings,
                      progress=(lambda _c, done, total: progress(name, done, total)) if progress else None)
    report, rankings = result.report, result.runs[0].rankings
    measured = report["metrics"][HYBRID.name]
    questions = report["set"]["questions"]
    values = {label: measured[measure] for label, measure in RANKING_MEASURES.items()}
    by_question = {}
    for qid, entry in report["per_question"].items():
        figures = entry[HYBRID.name]
        first = figures["first_relevant"]
        by_question[qid] = {**{label: figures[measure] for label, measure in RANKING_MEASURES.items()},
                            TOP_3: float(first is not None and first <= 3)}
    values[TOP_3] = sum(figures[TOP_3] for figures in by_question.values()) / questions if questions else 0.0
    intervals = {label: mean_interval([figures[label] for figures in by_question.values()])
                 for label in [*RANKING_MEASURES, TOP_3]}
    texts = {q.qid: q.text for q in question_set.questions}
    refused = [{"set": name, "qid": qid, "question": texts[qid]}
               for qid, ranking in rankings.items() if ranking.reason == NO_ANSWER]
    unreachable = report["unreachable_gold"]
    row = {"status": "measured", "path": question_set.path, "split": split, "questions": questions,
           "metrics": values, "intervals": _listed(intervals), "per_question": by_question,
           "no_answer": len(refused), "errors": report["configurations"][0]["errors"],
           "unreachable": {"questions": unreachable["questions"], "by_reason": unreachable["by_reason"]},
           "ms_per_question": report["configurations"][0]["ms_per_question"]}
    return row, refused


def _abstention_row(knowledge_base: KnowledgeBase, questions: Sequence[Question], path: Path,
                    progress: Progress | None, name: str) -> dict[str, Any]:
    """How many questions whose right answer is none got no hits, and why."""
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        if progress:
            progress(name, done, len(questions))

    run = run_search(knowledge_base, questions, HYBRID, top_k=TOP_K, statuses=(IN_FORCE,), progress=step)
    declined = [not r.returned and r.error is None for r in run.rankings.values()]
    silent = [r for r, quiet in zip(run.rankings.values(), declined) if quiet]
    by_reason: dict[str, int] = {}
    for ranking in silent:
        by_reason[str(ranking.reason)] = by_reason.get(str(ranking.reason), 0) + 1
    answered = [{"qid": q.qid, "question": q.text} for q in questions if run.rankings[q.qid].returned]
    return {"status": "measured", "path": str(path), "split": None, "questions": len(questions),
            "metrics": {ABSTAINED: len(silent) / len(questions) if questions else 0.0},
            "intervals": _listed({ABSTAINED: mean_interval([float(quiet) for quiet in declined])}),
            "per_question": {qid: {ABSTAINED: float(quiet)} for qid, quiet in zip(run.rankings, declined)},
            "abstained": len(silent), "by_reason": by_reason, "answered": answered[:20],
            "errors": sum(r.error is not None for r in run.rankings.values()),
            "ms_per_question": round(1000 * run.seconds / max(len(questions), 1), 2)}


def _listed(intervals: Mapping[str, tuple[float, float] | None]) -> dict[str, list[float] | None]:
    """Intervals as JSON has them: ``[low, high]``, or None for a set without questions."""
    return {label: None if interval is None else list(interval) for label, interval in intervals.items()}


def _judged(row: dict[str, Any], minimums: Mapping[str, float]) -> dict[str, Any]:
    checks = check_targets(row.get("metrics") or {}, minimums)
    return {**row, "targets": [check.as_dict() for check in checks], "met": all_met(checks)}


def run_suite(knowledge_base: KnowledgeBase, *, corpus: Path, cache: Path, targets_as: str | None = None,
              targets: Targets | None = None, progress: Progress | None = None,
              announce: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Measure every set of ``targets`` (default: ``targets.json``) and compare with the targets of
    ``targets_as`` (default: :func:`default_targets`). Returns the suite as plain data."""
    targets = targets or load_targets()
    announce = announce or (lambda _message: None)
    if targets_as is None:
        targets_as, why = default_targets(knowledge_base)
    elif targets_as in TARGET_NAMES:
        why = "chosen"
    else:
        raise ValueError(f"targets are given for {', '.join(TARGET_NAMES)}, not {targets_as!r}")
    rows: dict[str, dict[str, Any]] = {}
    refused: list[dict[str, str]] = []
    real_questions = 0
    for entry in targets.sets:
        minimums = entry.targets[targets_as]
        if entry.path is not None:
            location: Path | str = entry.path if entry.path.exists() else f"{entry.path} is absent"
        else:
            location = _converted(entry, corpus, cache, announce)
        if isinstance(location, str):
            announce(f"{entry.name}: skipped ({location})")
            rows[entry.name] = _judged({"status": "skipped", "reason": location, "questions": None,
                                        "metrics": {}}, minimums)
            continue
        if entry.abstention:
            row = _abstention_row(knowledge_base, _questions_without_gold(location), location, progress, entry.name)
        else:
            question_set = load_set(location)
            if entry.split:
                question_set = question_set.only_split(entry.split)
            row, refused_here = _ranking_row(knowledge_base, question_set, entry.split, progress, entry.name)
            refused += refused_here
            real_questions += row["questions"]
        rows[entry.name] = _judged(row, minimums)
    rows[REFUSALS] = {
        "status": "measured" if real_questions else "skipped", "questions": real_questions,
        "metrics": {}, "refused": len(refused), "share": len(refused) / real_questions if real_questions else None,
        "by_set": {name: row["no_answer"] for name, row in rows.items() if "no_answer" in row},
        "examples": refused[:20], "targets": [], "met": None,
    }
    judged = [row["met"] for name, row in rows.items() if name != REFUSALS]
    return {
        "kb": describe_kb(knowledge_base),
        "as": targets_as, "as_why": why, "about": targets.about,
        "configuration": HYBRID.name, "top_k": TOP_K, "statuses": [IN_FORCE], "interval_level": LEVEL,
        "sets": rows,
        "summary": {"met": judged.count(True), "unmet": judged.count(False),
                    "not_compared": sum(met is None for met in judged)},
    }


def compare_suites(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """Each set both suites measured, figure by figure: the means over the questions both
    answered (a set whose questions changed is compared on those it kept), the difference and
    the paired tests of :func:`evaluation.compare.paired_test`. A set only one of them measured,
    or measured by a suite written before per-question figures were kept, is named with the
    reason instead."""
    compared: dict[str, Any] = {}
    for name, row in after.get("sets", {}).items():
        if not row.get("metrics"):  # skipped here, or the refusals row: no figures to compare
            continue
        earlier = (before.get("sets") or {}).get(name)
        if not isinstance(earlier, Mapping) or not isinstance(earlier.get("per_question"), Mapping) \
                or not earlier["per_question"]:
            compared[name] = {"skipped": "not measured question by question in the earlier suite"}
            continue
        if not row.get("per_question"):
            compared[name] = {"skipped": "not measured question by question in this suite"}
            continue
        shared = [qid for qid in row["per_question"] if qid in earlier["per_question"]]
        figures = {}
        for metric in row["metrics"]:
            old = _figures_of(earlier["per_question"], shared, metric)
            if old is None:  # a figure the earlier suite did not keep, or one it cannot be read for
                continue
            new = {qid: float(row["per_question"][qid][metric]) for qid in shared}
            test = paired_test(old, new)
            figures[metric] = {"before": sum(old.values()) / len(old) if old else None,
                               "after": sum(new.values()) / len(new) if new else None,
                               "better": sum(new[q] > old[q] for q in shared),
                               "worse": sum(new[q] < old[q] for q in shared), **test}
        compared[name] = ({"questions": len(shared), "figures": figures} if figures else
                          {"skipped": "the earlier suite's figures for its questions cannot be read"})
    return compared


def _figures_of(per_question: Mapping[str, Any], qids: Sequence[str], metric: str) -> dict[str, float] | None:
    """``metric`` for each of ``qids`` in an earlier suite's per-question figures, or None where
    any is missing or not a number (a suite of another version, or a file edited by hand)."""
    try:
        figures = {qid: per_question[qid][metric] for qid in qids}
    except (KeyError, TypeError):
        return None
    if not all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in figures.values()):
        return None
    return {qid: float(value) for qid, value in figures.items()}
