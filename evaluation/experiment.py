"""One evaluation: a question set through several configurations on one knowledge base.

This is where the pieces meet: runs (:mod:`evaluation.runs`, :mod:`evaluation.baseline`),
judging (:mod:`evaluation.relevance`), measures (:mod:`evaluation.metrics`) and paired tests
(:mod:`evaluation.compare`). The result is the report as plain data (what ``report.json``
holds and the HTML page shows): the configurations, the index manifest and its checksum,
metrics overall and per part of the set, recall curves, comparisons, questions whose gold
cannot be retrieved at all, and the worst questions with what came back.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from evaluation import metrics
from evaluation.baseline import PlainBM25Baseline
from evaluation.compare import compare
from evaluation.errors import UnknownConfiguration
from evaluation.relevance import (
    Returned,
    contains_answer,
    first_relevant_rank,
    is_relevant,
    judge,
    passages_to_read,
)
from evaluation.runs import BASELINE, Configuration, Run, run_baseline, run_search
from evaluation.sets import ANSWER, DOCUMENT, PASSAGE, Question, QuestionSet
from evaluation.showcase import expected_view, returned_view
from kb import IN_FORCE, KnowledgeBase

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class EvaluationSettings:
    """How deep to search and what to show; ``reference``/``primary`` default from the configurations."""

    top_k: int = 100
    candidates: int | None = None
    statuses: tuple[str, ...] = (IN_FORCE,)
    reference: str | None = None
    primary: str | None = None
    worst: int = 20
    split: str | None = None


@dataclass
class Evaluation:
    """The report (plain data) and the runs behind it (for the TREC files)."""

    report: dict[str, Any]
    runs: list[Run] = field(default_factory=list)


def _texts_for(knowledge_base: KnowledgeBase, question: Question, returned: Sequence[Returned]) -> dict[str, str]:
    wanted = passages_to_read(question, returned)
    return {sid: record["text"] for sid, record in knowledge_base.store.segments_by_ids(wanted).items()}


def _judge_run(knowledge_base: KnowledgeBase, questions: Sequence[Question], run: Run) -> dict[str, metrics.Judged]:
    judged: dict[str, metrics.Judged] = {}
    for question in questions:
        returned = [(sid, doc) for sid, doc, _ in run.rankings[question.qid].returned]
        judged[question.qid] = judge(question, returned, _texts_for(knowledge_base, question, returned))
    return judged


def _unreachable(knowledge_base: KnowledgeBase, questions: Sequence[Question],
                 statuses: Sequence[str]) -> dict[str, Any]:
    """Questions no returned passage can satisfy: gold absent from the index, filtered out by
    status, or (answer-text gold) an answer that no single passage of its document contains."""
    index = knowledge_base.searcher.index
    indexed_segments = set(index.segment_ids)
    allowed = {sid for sid, status in zip(index.segment_ids, index.statuses) if status in statuses}
    indexed_docs = set(index.doc_ids)
    allowed_docs = {doc for doc, status in zip(index.doc_ids, index.statuses) if status in statuses}
    found = []
    for question in questions:
        gold = [g for g, grade in question.relevant.items() if grade > 0]
        pool, everything = (allowed, indexed_segments) if question.gold == PASSAGE else (allowed_docs, indexed_docs)
        if not any(g in pool for g in gold):
            found.append({"qid": question.qid, "gold": gold,
                          "why": "filtered by status" if any(g in everything for g in gold) else "not in the index"})
        elif question.gold == ANSWER and not any(contains_answer(segment["text"], question.answer or "")
                                                 for segment in knowledge_base.segments_of(gold[0])):
            # the document holds the answer only across a passage boundary: no single passage can
            found.append({"qid": question.qid, "gold": gold, "why": "answer spans more than one passage"})
    by_reason: dict[str, int] = {}
    for entry in found:
        by_reason[entry["why"]] = by_reason.get(entry["why"], 0) + 1
    return {"questions": len(found), "share": len(found) / len(questions) if questions else 0.0,
            "by_reason": by_reason, "examples": found[:50]}


def describe_kb(knowledge_base: KnowledgeBase) -> dict[str, Any]:
    """What a report names the knowledge base by: directory, generation, manifest checksum, counts."""
    index = knowledge_base.searcher.index
    manifest = index.manifest
    return {"kb_dir": str(knowledge_base.kb_dir), "generation": index.generation,
            "manifest_sha256": hashlib.sha256((index.directory / "manifest.json").read_bytes()).hexdigest(),
            "corpus_checksum": manifest.get("corpus_checksum"), "counts": manifest.get("counts"),
            "built_at": manifest.get("built_at"), "settings": manifest.get("settings"),
            "embedding": manifest.get("embedding"), "backend": knowledge_base.backend}


def _worst(knowledge_base: KnowledgeBase, questions: Sequence[Question], runs: dict[str, Run],
           per_query: dict[str, dict[str, dict[str, float]]], judged: dict[str, dict[str, metrics.Judged]],
           primary: str, count: int) -> list[dict[str, Any]]:
    values = per_query[primary]
    order = sorted(questions, key=lambda q: (values["RR@10"][q.qid], values["nDCG@10"][q.qid],
                                             values["R@100"][q.qid], q.qid))
    worst = []
    for question in order[:count]:
        ranking = runs[primary].rankings[question.qid]
        top = [(sid, doc) for sid, doc, _ in ranking.returned[:3]]
        texts = {sid: rec["text"] for sid, rec in knowledge_base.store.segments_by_ids([s for s, _ in top]).items()}
        worst.append({
            "qid": question.qid, "question": question.text, "gold": question.gold, "part": question.part,
            "measures": {name: values[name][question.qid] for name in metrics.MEASURES},
            "first_relevant": {name: first_relevant_rank(*judged[name][question.qid]) for name in runs},
            "expected": expected_view(knowledge_base, question),
            "returned": returned_view(knowledge_base, top, [is_relevant(question, s, d, texts) for s, d in top]),
            "reason": ranking.reason, "error": ranking.error,
        })
    return worst


def evaluate(knowledge_base: KnowledgeBase, question_set: QuestionSet, configurations: Sequence[Configuration],
             settings: EvaluationSettings | None = None, *, cache_dir: Path | None = None,
             progress: Progress | None = None, announce: Callable[[str], None] | None = None) -> Evaluation:
    """Run every configuration over the set, judge, measure, compare and describe the worst questions."""
    settings = settings or EvaluationSettings()
    names = [c.name for c in configurations]
    reference = settings.reference or (BASELINE if BASELINE in names else names[0])
    primary = settings.primary or ("hybrid" if "hybrid" in names else names[-1])
    for wanted in (reference, primary):
        if wanted not in names:
            raise UnknownConfiguration(f"{wanted!r} is not among the configurations run ({', '.join(names)})")
    questions = list(question_set.questions)
    runs: dict[str, Run] = {}
    for configuration in configurations:
        done = 0

        def step(n: int, name: str = configuration.name) -> None:
            nonlocal done
            done += n
            if progress:
                progress(name, done, len(questions))

        if configuration.mode == BASELINE:
            started = time.perf_counter()
            baseline = PlainBM25Baseline.for_kb(knowledge_base, cache_dir, progress=announce)
            prepared = time.perf_counter() - started
            run = run_baseline(baseline, questions, configuration, top_k=settings.top_k,
                               statuses=settings.statuses, progress=step)
            run.prepare_seconds = prepared
        else:
            run = run_search(knowledge_base, questions, configuration, top_k=settings.top_k,
                             candidates=settings.candidates, statuses=settings.statuses, progress=step)
        runs[configuration.name] = run

    judged = {name: _judge_run(knowledge_base, questions, run) for name, run in runs.items()}
    per_query = {name: metrics.per_query(j) for name, j in judged.items()}
    by_part = {}
    for part, members in question_set.parts().items():
        ids = {q.qid for q in members}
        by_part[part] = {"questions": len(members), "gold": members[0].gold, "metrics": {
            name: {m: metrics.mean({q: v for q, v in vals.items() if q in ids}) for m, vals in pq.items()}
            for name, pq in per_query.items()}}
    report = {
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "policykb_version": metadata.version("policykb"),
        "metric_library": f"ir-measures {metadata.version('ir-measures')} (pytrec_eval)",
        "kb": describe_kb(knowledge_base),
        "set": {"name": question_set.name, "path": question_set.path, "questions": len(questions),
                "split": settings.split,
                "gold": {kind: sum(q.gold == kind for q in questions) for kind in (PASSAGE, DOCUMENT, ANSWER)}},
        "settings": asdict(settings) | {"reference": reference, "primary": primary},
        "configurations": [
            {**c.as_dict(), "seconds": round(runs[c.name].seconds, 3),
             "prepare_seconds": round(runs[c.name].prepare_seconds, 3),
             "ms_per_question": round(1000 * runs[c.name].seconds / max(len(questions), 1), 2),
             "modes_used": sorted({r.mode for r in runs[c.name].rankings.values() if r.mode}),
             "errors": sum(r.error is not None for r in runs[c.name].rankings.values())}
            for c in configurations],
        "labels": metrics.LABELS,
        "measures": list(metrics.MEASURES),
        "metrics": {name: metrics.aggregate(pq) for name, pq in per_query.items()},
        "metrics_by_part": by_part,
        "recall_curve": {name: metrics.recall_curve(j, settings.top_k) for name, j in judged.items()},
        "comparisons": compare(per_query, reference),
        "unreachable_gold": _unreachable(knowledge_base, questions, settings.statuses),
        "worst": _worst(knowledge_base, questions, runs, per_query, judged, primary, settings.worst),
        "per_question": {q.qid: {name: {"R@5": per_query[name]["R@5"][q.qid],
                                        "R@10": per_query[name]["R@10"][q.qid],
                                        "RR@10": per_query[name]["RR@10"][q.qid],
                                        "R@100": per_query[name]["R@100"][q.qid],
                                        "first_relevant": first_relevant_rank(*judged[name][q.qid])}
                                 for name in runs} for q in questions},
    }
    return Evaluation(report, list(runs.values()))
