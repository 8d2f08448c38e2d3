"""CI gate: a retrieval regression on the committed hotline seed questions fails the build.

Builds a knowledge base from ``corpus/`` exactly as a user would (``policykb ingest corpus``), runs the
service's hybrid search over ``evaluation/sets/hotline/queries.jsonl`` and requires MRR@10 to stay within
the committed tolerance of the baseline in ``evaluation/sets/gate.json``. When retrieval is improved on
purpose, re-measure (``policykb eval run --set evaluation/sets/hotline/queries.jsonl``) and update it.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from evaluation import EvaluationSettings, evaluate, load_set, parse_configurations
from kb import KnowledgeBase
from policykb.cli import cli
from tests.conftest import REPO

GATE = REPO / "evaluation" / "sets" / "gate.json"


def test_hotline_seed_questions_do_not_regress(tmp_path: Path) -> None:
    gate = json.loads(GATE.read_text(encoding="utf-8"))
    kb_dir = tmp_path / "kb"
    built = CliRunner().invoke(cli, ["ingest", str(REPO / gate["corpus"]), "--kb", str(kb_dir)])
    assert built.exit_code == 0, built.output
    question_set = load_set(REPO / gate["set"])
    result = evaluate(KnowledgeBase(kb_dir), question_set, parse_configurations(gate["configuration"]),
                      EvaluationSettings(top_k=gate["top_k"], worst=5))
    report = result.report
    assert report["unreachable_gold"]["questions"] == 0, report["unreachable_gold"]["examples"]
    measured = report["metrics"][gate["configuration"]][gate["measure"]]
    floor = gate["baseline"] - gate["tolerance"]
    worst = [(w["qid"], w["question"], w["first_relevant"]) for w in report["worst"]]
    assert measured >= floor, (f"{gate['measure']} {measured:.4f} fell below {floor:.4f} "
                               f"(baseline {gate['baseline']} - {gate['tolerance']}); worst: {worst}")
