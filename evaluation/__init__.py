"""Answer quality for analysts: question sets, runs, metrics and reports over the same kb the service uses.

The flow is one way: a question set (:mod:`evaluation.sets`, made by :mod:`evaluation.converters`
or by hand) goes through configurations of the service's own search (:mod:`evaluation.runs`)
and a plain baseline (:mod:`evaluation.baseline`); returned passages are judged
(:mod:`evaluation.relevance`), measured by ir-measures (:mod:`evaluation.metrics`), compared with
paired tests (:mod:`evaluation.compare`), and written as TREC runs, ``report.json`` and a
self-contained ``report.html`` (:mod:`evaluation.report`). ``evaluation.benchmark`` measures
latency.
"""

from evaluation.baseline import PlainBM25Baseline
from evaluation.converters import STARD_SPLIT_RULE, article_anchor, convert_covid, convert_stard, stard_split
from evaluation.errors import EvaluationError, SetFormatError, UnknownConfiguration
from evaluation.experiment import Evaluation, EvaluationSettings, evaluate
from evaluation.pairs import Pairs, training_pairs
from evaluation.report import render_html, write_outputs
from evaluation.runs import Configuration, parse_configurations, read_trec, write_trec
from evaluation.sets import ANSWER, DOCUMENT, PASSAGE, Question, QuestionSet, load_set

__all__ = [
    "ANSWER", "DOCUMENT", "PASSAGE", "STARD_SPLIT_RULE", "Configuration", "Evaluation", "EvaluationError",
    "EvaluationSettings", "PlainBM25Baseline", "Question", "QuestionSet", "SetFormatError",
    "UnknownConfiguration", "article_anchor", "convert_covid", "convert_stard", "evaluate", "load_set",
    "Pairs", "parse_configurations", "read_trec", "render_html", "stard_split", "training_pairs", "write_outputs",
    "write_trec",
]
