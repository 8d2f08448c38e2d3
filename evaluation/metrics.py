"""Recall@k, MRR@10 and nDCG@10 computed by ir-measures (trec_eval's definitions), per question.

The metric code is not ours: ir-measures hands the judged rankings to pytrec_eval, the C
trec_eval that IR papers report. Two things are handled here because trec_eval does them
differently from what a ranking means:

* trec_eval re-sorts a run by score and breaks ties by document id (descending), ignoring
  the rank column. Fused scores do tie, so the metric input gets scores that fall strictly
  with our rank: the library scores exactly the order the search returned.
* A question with nothing returned is absent from a run; it is scored 0 here and every
  mean is over all questions of the set, never only the answered ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ir_measures

#: ir-measures names of the reported measures, in report order.
MEASURES = ("R@1", "R@5", "R@10", "R@100", "RR@10", "nDCG@10")
#: What analysts read: RR@10 averaged over questions is MRR@10.
LABELS = {"R@1": "Recall@1", "R@5": "Recall@5", "R@10": "Recall@10", "R@100": "Recall@100",
          "RR@10": "MRR@10", "nDCG@10": "nDCG@10"}
#: Cut-offs of the recall-at-k curve.
CURVE_KS = (1, 2, 3, 5, 10, 20, 30, 50, 100)

#: One question judged: (qrels {id: grade}, ranked ids best first).
Judged = tuple[Mapping[str, int], Sequence[str]]


def per_query(judged: Mapping[str, Judged], measures: Sequence[str] = MEASURES) -> dict[str, dict[str, float]]:
    """``{measure: {qid: value}}`` for every question in ``judged`` (0 where nothing matched)."""
    parsed = [ir_measures.parse_measure(name) for name in measures]
    qrels = [ir_measures.Qrel(qid, doc_id, int(grade))
             for qid, (grades, _) in judged.items() for doc_id, grade in grades.items()]
    run = [ir_measures.ScoredDoc(qid, doc_id, float(len(ranked) - position))
           for qid, (_, ranked) in judged.items() for position, doc_id in enumerate(ranked)]
    values: dict[str, dict[str, float]] = {name: dict.fromkeys(judged, 0.0) for name in measures}
    names = {str(measure): name for measure, name in zip(parsed, measures)}
    if qrels and run:
        for metric in ir_measures.iter_calc(parsed, qrels, run):
            values[names[str(metric.measure)]][metric.query_id] = float(metric.value)
    return values


def mean(values: Mapping[str, float]) -> float:
    """Mean over all questions; 0.0 for an empty set."""
    return sum(values.values()) / len(values) if values else 0.0


def aggregate(values: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """``{measure: mean over questions}``."""
    return {name: mean(by_query) for name, by_query in values.items()}


def recall_curve(judged: Mapping[str, Judged], depth: int) -> dict[int, float]:
    """Mean Recall@k for each cut-off of :data:`CURVE_KS` up to ``depth``."""
    ks = [k for k in CURVE_KS if k <= depth] or [depth]
    values = per_query(judged, [f"R@{k}" for k in ks])
    return {k: mean(values[f"R@{k}"]) for k in ks}
