"""`policykb eval suite`: every quality set over one knowledge base, with the targets it should meet.

One knowledge base of the seed 公文 (`policykb ingest corpus`, as the CI gate builds it) is shared by
the module; the shared corpus is replaced by a small one in tmp or by nothing, except in the test
that converts the real one.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from evaluation import load_set
from evaluation.suite import (
    ABSTAINED,
    FRESH,
    TRAINED,
    Check,
    SuiteSet,
    Targets,
    all_met,
    check_targets,
    default_targets,
    load_targets,
    run_suite,
)
from kb import Document, KnowledgeBase
from policykb.cli import cli
from tests.conftest import REPO, SHARED_CORPUS, shared_file

SEED_DOC = "changshu-2019-zhengwu-gongkai-yaodian"
SETS = REPO / "evaluation" / "sets"


def _jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def _suite(*arguments: str) -> Any:
    result = CliRunner().invoke(cli, ["eval", "suite", *arguments])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def seed_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kb_dir = tmp_path_factory.mktemp("suite") / "kb"
    result = CliRunner().invoke(cli, ["ingest", str(REPO / "corpus"), "--kb", str(kb_dir)])
    assert result.exit_code == 0, result.output
    return kb_dir


@pytest.fixture(scope="module")
def without_shared(seed_kb: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    """The suite as --json prints it when the shared corpus is absent, and the --out directory."""
    base = tmp_path_factory.mktemp("suite-run")
    result = _suite("--kb", str(seed_kb), "--corpus", str(base / "no-shared"), "--cache", str(base / "cache"),
                    "--json", "--out", str(base / "out"))
    return json.loads(result.stdout), base / "out"


def _only(*names: str) -> Targets:
    targets = load_targets()
    return Targets(targets.about, tuple(entry for entry in targets.sets if entry.name in names))


# -- the targets ---------------------------------------------------------------------------------


def test_targets_file_names_every_set_with_fresh_and_trained_targets() -> None:
    targets = load_targets()
    assert [entry.name for entry in targets.sets] == ["hotline-laws", "hotline", "stard", "epidemic", "offtopic"]
    assert "常熟市,苏州市,江苏省" in targets.about and "fresh" in targets.about and "trained" in targets.about
    by_name = {entry.name: entry for entry in targets.sets}
    assert by_name["stard"].targets == {FRESH: {"R@10": 0.5}, TRAINED: {"R@10": 0.7, "MRR@10": 0.6, "R@100": 0.9}}
    assert by_name["hotline"].targets[FRESH] == {"top-3": 0.95}
    assert by_name["epidemic"].split == "local_dev" and by_name["epidemic"].targets[TRAINED] == {"R@5": 0.9}
    assert by_name["offtopic"].abstention and by_name["offtopic"].targets[FRESH] == {ABSTAINED: 0.95}
    assert all(entry.path is None or entry.path.exists() for entry in targets.sets)


def test_a_target_is_met_from_its_minimum_up() -> None:
    checks = check_targets({"R@10": 0.7, "MRR@10": 0.5999, "R@100": 0.95}, {"R@10": 0.7, "MRR@10": 0.6, "R@100": 0.9})
    assert [(c.metric, c.met) for c in checks] == [("R@10", True), ("MRR@10", False), ("R@100", True)]
    assert all_met(checks) is False
    assert all_met(check_targets({"R@10": 0.91}, {"R@10": 0.9})) is True
    # a metric not measured (a skipped set) cannot be compared
    assert check_targets({}, {"R@10": 0.5}) == [Check("R@10", 0.5, None)]
    assert all_met(check_targets({}, {"R@10": 0.5})) is None and all_met([]) is None


def test_trained_targets_apply_when_the_knowledge_base_stores_question_pairs(
        tmp_path: Path, policy_documents: list[Document], seed_kb: Path) -> None:
    assert default_targets(KnowledgeBase(seed_kb)) == (FRESH, "no question pairs stored")
    knowledge_base = KnowledgeBase(tmp_path / "kb", create=True)
    knowledge_base.add_documents(policy_documents)
    knowledge_base.add_training_pairs([("公积金怎么取", "housing-fund#a1"), ("退休了取公积金", "housing-fund#a2")],
                                      source="test")
    assert default_targets(knowledge_base) == (TRAINED, "2 question pairs stored")


# -- the command ---------------------------------------------------------------------------------


def test_absent_shared_sets_are_skipped_with_the_reason(without_shared: tuple[dict[str, Any], Path]) -> None:
    suite, _ = without_shared
    for name, source in (("stard", "stard/questions.jsonl"), ("epidemic", "covid-policy/questions.jsonl")):
        row = suite["sets"][name]
        assert row["status"] == "skipped" and row["reason"].endswith(f"{source} is absent")
        assert row["met"] is None and all(t["value"] is None and t["met"] is None for t in row["targets"])
    assert suite["summary"] == {"met": sum(r["met"] is True for r in suite["sets"].values()),
                                "unmet": sum(r["met"] is False for r in suite["sets"].values()),
                                "not_compared": 2}


def test_repository_sets_are_measured_as_eval_run_measures_them(
        seed_kb: Path, without_shared: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    suite, out = without_shared
    assert suite["as"] == FRESH and suite["configuration"] == "hybrid" and suite["top_k"] == 100
    assert suite["kb"]["kb_dir"] == str(seed_kb) and suite["kb"]["manifest_sha256"]
    assert json.loads((out / "suite.json").read_text(encoding="utf-8")) == suite
    assert list(suite["sets"]) == ["hotline-laws", "hotline", "stard", "epidemic", "offtopic", "refusals"]
    laws, hotline = suite["sets"]["hotline-laws"], suite["sets"]["hotline"]
    assert laws["questions"] == len(load_set(SETS / "hotline-laws").only_split("test").questions) == 84
    assert hotline["questions"] == len(load_set(SETS / "hotline").questions) == 132
    for row in (laws, hotline):
        assert row["status"] == "measured" and set(row["metrics"]) == {"R@5", "R@10", "R@100", "MRR@10", "top-3"}
        assert all(0.0 <= value <= 1.0 for value in row["metrics"].values())
        assert row["ms_per_question"] > 0
    # the seed knowledge base holds no law: the laws set cannot score, and says why
    assert laws["metrics"]["R@100"] == 0.0 and laws["unreachable"] == {"questions": 84,
                                                                       "by_reason": {"not in the index": 84}}
    assert hotline["unreachable"]["questions"] == 70  # the epidemic part: notices absent here
    assert 0 < hotline["metrics"]["top-3"] <= hotline["metrics"]["R@10"] + 1e-9
    assert [t["metric"] for t in hotline["targets"]] == ["top-3"]
    assert hotline["met"] is (hotline["metrics"]["top-3"] >= 0.95)
    # every figure with its interval over the questions; the laws set, all zero, has nothing to spread
    assert suite["interval_level"] == 0.95
    assert all(value == 0.0 for value in laws["intervals"]["R@10"])
    for label, value in hotline["metrics"].items():
        low, high = hotline["intervals"][label]
        assert low <= value <= high and high - low < 0.25, label
    low, high = hotline["intervals"]["top-3"]
    assert high - low > 0.1  # 62 answerable of 132: a draw of other questions could move it by a tenth

    run = CliRunner().invoke(cli, ["eval", "run", "--kb", str(seed_kb), "--set", str(SETS / "hotline"),
                                   "--configs", "hybrid", "--json", "--out", str(tmp_path / "run")])
    assert run.exit_code == 0, run.output
    measured = json.loads(run.stdout)["metrics"]["hybrid"]
    assert hotline["metrics"]["R@10"] == measured["R@10"] and hotline["metrics"]["MRR@10"] == measured["RR@10"]


def test_refusals_count_the_real_questions_declined_as_off_topic(
        seed_kb: Path, without_shared: tuple[dict[str, Any], Path]) -> None:
    suite, _ = without_shared
    refusals, measured = suite["sets"]["refusals"], ("hotline-laws", "hotline")
    assert refusals["questions"] == sum(suite["sets"][name]["questions"] for name in measured)
    assert refusals["by_set"] == {name: suite["sets"][name]["no_answer"] for name in measured}
    assert refusals["refused"] == sum(refusals["by_set"].values()) > 0
    assert refusals["share"] == refusals["refused"] / refusals["questions"]
    assert len(refusals["examples"]) == min(refusals["refused"], 20)
    assert refusals["met"] is None and refusals["targets"] == []
    knowledge_base = KnowledgeBase(seed_kb)
    for example in refusals["examples"][:3]:
        answer = knowledge_base.search(example["question"], top_k=100)
        assert (answer.hits, answer.reason) == ([], "no_answer")


def test_table_names_the_targets_chosen_and_the_skipped_sets(seed_kb: Path, tmp_path: Path) -> None:
    result = _suite("--kb", str(seed_kb), "--as", TRAINED, "--corpus", str(tmp_path / "no-shared"),
                    "--cache", str(tmp_path / "cache"))
    lines = result.stdout.splitlines()
    assert "targets: trained (chosen)" in lines[0]
    assert lines[1].split() == ["set", "questions", "R@5", "R@10", "R@100", "MRR@10", "top-3", "no", "answer",
                                "target", "met", "ms/q"]
    stard = next(line for line in lines if line.startswith("stard "))
    assert "R@10 ≥ .70, MRR@10 ≥ .60, R@100 ≥ .90" in stard and stard.split()[1] == "—"
    assert any(line.startswith("hotline ") and "top-3 ≥ .95" in line for line in lines)
    assert f"  stard: skipped, {tmp_path / 'no-shared' / 'stard' / 'questions.jsonl'} is absent" in lines
    assert lines[-1].startswith("targets (trained): ") and not (tmp_path / "cache").exists()
    interval = next(line for line in lines if line.startswith("  hotline: top-3 "))
    found = re.fullmatch(r"  hotline: top-3 (\.\d{3}) \((\.\d{3})–(\.\d{3})\): "
                         r"95% bootstrap interval over its 132 questions", interval)
    assert found and float(found[2]) <= float(found[1]) <= float(found[3]), interval


def test_an_earlier_suite_is_compared_question_by_question(
        seed_kb: Path, without_shared: tuple[dict[str, Any], Path], tmp_path: Path) -> None:
    suite, out = without_shared
    earlier = json.loads((out / "suite.json").read_text(encoding="utf-8"))
    hotline = earlier["sets"]["hotline"]["per_question"]
    answered = [qid for qid, figures in hotline.items() if figures["top-3"] == 1.0]
    for qid in answered[:5]:  # five questions the earlier search missed
        hotline[qid]["top-3"] = 0.0
    del hotline[answered[-1]]  # and one it was not asked
    del earlier["sets"]["offtopic"]["per_question"]  # a suite from before per-question figures were kept
    laws = earlier["sets"]["hotline-laws"]["per_question"]
    for figures in laws.values():
        del figures["R@100"]  # a figure it did not keep: that one is not compared
    laws[next(iter(laws))]["MRR@10"] = "n/a"  # a file edited by hand: that one is not compared either
    altered = tmp_path / "earlier.json"
    altered.write_text(json.dumps(earlier, ensure_ascii=False), encoding="utf-8")
    arguments = ["--kb", str(seed_kb), "--corpus", str(tmp_path / "no-shared"), "--cache", str(tmp_path / "cache"),
                 "--compare", str(altered)]

    compared = json.loads(_suite(*arguments, "--json").stdout)["comparison"]
    assert compared["with"] == str(altered)
    top3 = compared["sets"]["hotline"]["figures"]["top-3"]
    assert compared["sets"]["hotline"]["questions"] == 131
    assert (top3["better"], top3["worse"]) == (5, 0) and top3["delta"] == pytest.approx(5 / 131)
    assert top3["after"] - top3["before"] == pytest.approx(5 / 131) and top3["p_randomisation"] < 0.1
    unchanged = compared["sets"]["hotline"]["figures"]["R@10"]
    assert (unchanged["delta"], unchanged["better"], unchanged["worse"], unchanged["p_randomisation"]) == (0, 0, 0, 1)
    assert compared["sets"]["offtopic"] == {"skipped": "not measured question by question in the earlier suite"}
    assert set(compared["sets"]) == {"hotline-laws", "hotline", "offtopic"}  # skipped sets and refusals: no figures
    assert set(compared["sets"]["hotline-laws"]["figures"]) == {"R@5", "R@10", "top-3"}

    lines = _suite(*arguments).stdout.splitlines()
    assert f"compared with {altered} (paired, on the questions both measured):" in lines
    line = next(line for line in lines if line.startswith("  hotline: top-3 ") and "→" in line)
    assert re.fullmatch(r"  hotline: top-3 \.\d{3} → \.\d{3} \(\+\.038: 5 better, 0 worse of 131; p = 0\.\d\d\)", line), line


@pytest.mark.parametrize("earlier", ["oops", ["q1"], {"q1": "x", "q2": 3}, {"q1": {"R@10": True}, "q2": {"R@10": 1}},
                                     {"q1": {"R@5": 1.0}, "q2": {"R@5": 1.0}}])
def test_an_earlier_suite_that_cannot_be_read_is_named_not_compared(earlier: Any) -> None:
    from evaluation.suite import compare_suites

    after = {"sets": {"a": {"metrics": {"R@10": 0.5}, "per_question": {"q1": {"R@10": 1.0}, "q2": {"R@10": 0.0}}},
                      "refusals": {"metrics": {}}}}
    compared = compare_suites({"sets": {"a": {"per_question": earlier}}}, after)
    assert list(compared) == ["a"] and set(compared["a"]) == {"skipped"}


def test_p_values_below_a_thousandth_are_not_printed_as_zero() -> None:
    from policykb.eval_command import _p_value

    assert [_p_value(p) for p in (0.0002, 0.0042, 0.0449, 0.4449)] == ["p < 0.001", "p = 0.004", "p = 0.04",
                                                                        "p = 0.44"]


def test_a_file_that_is_not_a_suite_is_refused_before_measuring(seed_kb: Path, tmp_path: Path) -> None:
    for content in ("[1, 2]", "{not json", '{"sets": []}'):
        wrong = tmp_path / "wrong.json"
        wrong.write_text(content, encoding="utf-8")
        result = CliRunner().invoke(cli, ["eval", "suite", "--kb", str(seed_kb), "--cache", str(tmp_path / "cache"),
                                          "--compare", str(wrong)])
        assert result.exit_code == 1 and str(wrong) in result.output and "Traceback" not in result.output
        assert not (tmp_path / "cache").exists()  # nothing measured


def test_a_missing_knowledge_base_is_a_clean_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["eval", "suite", "--kb", str(tmp_path / "nokb")])
    assert result.exit_code == 1 and "is not a knowledge base" in result.output and "Traceback" not in result.output


# -- shared sets and off-topic questions ----------------------------------------------------------------


def test_shared_sets_are_converted_into_the_cache_once(seed_kb: Path, tmp_path: Path) -> None:
    corpus, cache = tmp_path / "corpus", tmp_path / "cache"
    _jsonl(corpus / "stard" / "questions.jsonl", [
        {"query_id": qid, "question": question, "relevant": [{"article": "第三条", "lawrefbook_id": "lawrefbook:x"}],
         "answer": "按规定办理。"} for qid, question in [(0, "住房公积金怎么提取"), (1, "失业保险怎么领")]])
    covid = _jsonl(corpus / "covid-policy" / "questions.jsonl", [
        {"id": "c1", "docid": SEED_DOC, "question": "财政预决算信息在哪公开", "answer": "预决算信息公开",
         "answer_span": [0, 7], "split": "local_dev"},
        {"id": "c2", "docid": SEED_DOC, "question": "政务公开工作要点是哪年的", "answer": "2019年",
         "answer_span": [0, 5], "split": "local_train"}])
    said: list[str] = []
    suite = run_suite(KnowledgeBase(seed_kb), corpus=corpus, cache=cache, targets=_only("stard", "epidemic"),
                      announce=said.append)
    assert sorted(said) == [f"converting {corpus / 'covid-policy' / 'questions.jsonl'} into {cache / 'epidemic'}",
                            f"converting {corpus / 'stard' / 'questions.jsonl'} into {cache / 'stard'}"]
    stard, epidemic = suite["sets"]["stard"], suite["sets"]["epidemic"]
    assert (stard["questions"], stard["split"], stard["metrics"]["R@10"]) == (1, "test", 0.0)
    assert (epidemic["questions"], epidemic["split"]) == (1, "local_dev")
    assert epidemic["metrics"]["R@5"] == 1.0 and epidemic["met"] is True  # the answer text is in the top 5
    assert suite["sets"]["refusals"]["questions"] == 2

    said.clear()
    again = run_suite(KnowledgeBase(seed_kb), corpus=corpus, cache=cache, targets=_only("stard", "epidemic"),
                      announce=said.append)
    assert said == [] and again["sets"]["epidemic"]["metrics"] == epidemic["metrics"]
    # a changed source is converted again
    _jsonl(covid, [json.loads(line) | {"split": "local_dev"} for line in covid.read_text(encoding="utf-8").splitlines()])
    os.utime(covid, ns=(covid.stat().st_atime_ns, covid.stat().st_mtime_ns + 10**9))
    changed = run_suite(KnowledgeBase(seed_kb), corpus=corpus, cache=cache, targets=_only("epidemic"),
                        announce=said.append)
    assert len(said) == 1 and changed["sets"]["epidemic"]["questions"] == 2
    assert sorted(p.name for p in cache.iterdir()) == ["epidemic", "stard"]  # nothing left half-written


def test_a_cache_directory_the_suite_did_not_write_is_left_alone(seed_kb: Path, tmp_path: Path) -> None:
    _jsonl(tmp_path / "corpus" / "stard" / "questions.jsonl", [
        {"query_id": 0, "question": "住房公积金怎么提取", "relevant": [{"article": "第三条", "lawrefbook_id": "x"}]}])
    mine = _jsonl(tmp_path / "cache" / "stard" / "mine.jsonl", [{"id": "keep"}])
    result = CliRunner().invoke(cli, ["eval", "suite", "--kb", str(seed_kb), "--corpus", str(tmp_path / "corpus"),
                                      "--cache", str(tmp_path / "cache")])
    assert result.exit_code == 1 and "exists but the suite did not write it" in result.output
    assert "Traceback" not in result.output and mine.exists()


def test_off_topic_abstention_counts_the_questions_without_hits(seed_kb: Path, tmp_path: Path) -> None:
    questions = _jsonl(tmp_path / "offtopic" / "questions.jsonl", [
        {"id": "o1", "question": "你好"}, {"id": "o2", "question": "今天天气怎么样"},
        {"id": "o3", "question": "财政预决算信息在哪公开？"}])
    targets = Targets("test", (SuiteSet("offtopic", {FRESH: {ABSTAINED: 0.6}, TRAINED: {ABSTAINED: 0.9}},
                                        path=questions, abstention=True),))
    suite = run_suite(KnowledgeBase(seed_kb), corpus=tmp_path / "none", cache=tmp_path / "cache", targets=targets)
    row = suite["sets"]["offtopic"]
    assert (row["questions"], row["abstained"], row["metrics"]) == (3, 2, {ABSTAINED: 2 / 3})
    low, high = row["intervals"][ABSTAINED]
    assert 0 <= low < 2 / 3 < high <= 1
    assert row["by_reason"] == {"no_searchable_terms": 1, "no_answer": 1}
    assert row["answered"] == [{"qid": "o3", "question": "财政预决算信息在哪公开？"}]
    assert (suite["as"], row["met"]) == (FRESH, True)
    trained = run_suite(KnowledgeBase(seed_kb), corpus=tmp_path / "none", cache=tmp_path / "cache",
                        targets=targets, targets_as=TRAINED)
    assert trained["sets"]["offtopic"]["targets"] == [{"metric": ABSTAINED, "minimum": 0.9, "value": 2 / 3,
                                                       "met": False}]
    assert trained["sets"]["refusals"]["status"] == "skipped"


def test_the_real_shared_sets_convert_and_measure(seed_kb: Path, tmp_path: Path) -> None:
    shared_file("stard/questions.jsonl")
    shared_file("covid-policy/questions.jsonl")
    suite = run_suite(KnowledgeBase(seed_kb), corpus=SHARED_CORPUS, cache=tmp_path / "cache",
                      targets=_only("stard", "epidemic"))
    stard, epidemic = suite["sets"]["stard"], suite["sets"]["epidemic"]
    assert (stard["status"], stard["questions"], epidemic["status"], epidemic["questions"]) == \
        ("measured", 306, "measured", 58)
    assert all(0.0 <= v <= 1.0 for row in (stard, epidemic) for v in row["metrics"].values())
    assert sorted(p.name for p in (tmp_path / "cache" / "stard").iterdir()) == ["converted-from.json", "test", "train"]
