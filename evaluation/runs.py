"""Runs: every question of a set through one configuration of the service's own search.

A configuration is ``bm25``, ``dense``, ``hybrid`` (fusion as the knowledge base's stored
search settings say: what the service does), ``hybrid-weighted``, ``hybrid-rrf`` (reciprocal
rank fusion with the stored k), ``hybrid-rrfN`` (k=N), or ``baseline`` (plain jieba + BM25,
see :mod:`evaluation.baseline`). The kb configurations call ``KnowledgeBase.search``, the
very call behind ``policykb ask`` and the service, with the knowledge base loaded once.

Depth: the service's contract stops at ``kb.MAX_TOP_K`` (100) passages; deeper runs need
more, so runs pass ``max_top_k`` (kb's switch for exactly this) and nothing else changes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from evaluation.baseline import PlainBM25Baseline
from evaluation.errors import UnknownConfiguration
from evaluation.sets import Question
from kb import IN_FORCE, MAX_TOP_K, KBError, KnowledgeBase, SearchFilters

#: "bm25", "dense", "hybrid", "hybrid-weighted", "hybrid-rrf", "hybrid-rrf20", "baseline".
CONFIGURATION = re.compile(r"^(?P<mode>baseline|bm25|dense|hybrid)(?:-(?P<fusion>weighted|rrf)(?P<rrf_k>\d+)?)?$")
BASELINE = "baseline"
CONFIGURATION_HELP = ("baseline, bm25, dense, hybrid (the knowledge base's own fusion), hybrid-weighted, "
                      "hybrid-rrf or hybrid-rrfN (reciprocal rank fusion with k=N)")


@dataclass(frozen=True)
class Configuration:
    """One way of answering: a search mode (or the plain baseline), and for hybrid its fusion.

    ``fusion``/``rrf_k`` None mean "as the knowledge base's stored search settings say".
    """

    name: str
    mode: str
    fusion: str | None = None
    rrf_k: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_configurations(text: str | Sequence[str]) -> list[Configuration]:
    """``"baseline,bm25,dense,hybrid,hybrid-rrf20"`` -> configurations, in the order given."""
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    if not names:
        raise UnknownConfiguration(f"name at least one configuration: {CONFIGURATION_HELP}")
    configurations = []
    for name in names:
        match = CONFIGURATION.match(name)
        if match is None or (match["fusion"] and match["mode"] != "hybrid") or \
                (match["rrf_k"] and match["fusion"] != "rrf"):
            raise UnknownConfiguration(f"unknown configuration {name!r}: use {CONFIGURATION_HELP}")
        configurations.append(Configuration(name, match["mode"], match["fusion"],
                                            int(match["rrf_k"]) if match["rrf_k"] else None))
    if len({c.name for c in configurations}) != len(configurations):
        raise UnknownConfiguration("a configuration is named twice")
    return configurations


@dataclass
class Ranking:
    """What one question got: ``returned`` is ``(segment_id, doc_id, score)`` best first."""

    qid: str
    returned: list[tuple[str, str, float]]
    mode: str | None = None
    reason: str | None = None
    error: str | None = None


@dataclass
class Run:
    """All questions through one configuration, with the time it took."""

    configuration: Configuration
    rankings: dict[str, Ranking]
    seconds: float
    prepare_seconds: float = 0.0


def run_search(knowledge_base: KnowledgeBase, questions: Sequence[Question], configuration: Configuration, *,
               top_k: int = 100, candidates: int | None = None, statuses: Sequence[str] = (IN_FORCE,),
               progress: Callable[[int], None] | None = None) -> Run:
    """Every question through ``KnowledgeBase.search`` in the configuration's mode, ``top_k`` deep."""
    filters = SearchFilters(statuses=tuple(statuses))
    rankings: dict[str, Ranking] = {}
    started = time.perf_counter()
    for question in questions:
        try:
            result = knowledge_base.search(question.text, top_k=top_k, filters=filters, mode=configuration.mode,
                                           candidates=candidates, rrf_k=configuration.rrf_k,
                                           fusion=configuration.fusion, max_top_k=max(top_k, MAX_TOP_K))
        except KBError as error:
            rankings[question.qid] = Ranking(question.qid, [], error=str(error))
        else:
            returned = [(hit.segment_id, hit.doc_id, hit.score) for hit in result.hits]
            rankings[question.qid] = Ranking(question.qid, returned, mode=result.mode, reason=result.reason)
        if progress:
            progress(1)
    return Run(configuration, rankings, time.perf_counter() - started)


def run_baseline(baseline: PlainBM25Baseline, questions: Sequence[Question], configuration: Configuration, *,
                 top_k: int = 100, statuses: Sequence[str] = (IN_FORCE,),
                 progress: Callable[[int], None] | None = None) -> Run:
    """Every question through the plain jieba + BM25 baseline, ``top_k`` deep."""
    rankings: dict[str, Ranking] = {}
    started = time.perf_counter()
    for question in questions:
        returned = baseline.search(question.text, top_k, statuses)
        rankings[question.qid] = Ranking(question.qid, returned, mode=BASELINE,
                                         reason=None if returned else "no_match")
        if progress:
            progress(1)
    return Run(configuration, rankings, time.perf_counter() - started)


def write_trec(run: Run, path: Path) -> Path:
    """A TREC run file: ``qid Q0 segment_id rank score tag``, rank from 1, tag = configuration name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for qid, ranking in run.rankings.items():
            for rank, (segment_id, _doc_id, score) in enumerate(ranking.returned, start=1):
                if any(char.isspace() for char in qid + segment_id):
                    raise ValueError(f"a TREC run cannot hold ids with whitespace: {qid!r} {segment_id!r}")
                handle.write(f"{qid} Q0 {segment_id} {rank} {score:.6f} {run.configuration.name}\n")
    return path


def read_trec(path: Path) -> dict[str, list[tuple[str, float]]]:
    """A TREC run file back as ``{qid: [(id, score), ...]}`` in rank order (for tests and tools)."""
    rows: dict[str, list[tuple[int, str, float]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        qid, _q0, doc_id, rank, score, _tag = line.split()
        rows.setdefault(qid, []).append((int(rank), doc_id, float(score)))
    return {qid: [(d, s) for _, d, s in sorted(items)] for qid, items in rows.items()}
