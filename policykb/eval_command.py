"""``policykb eval``: convert question sets, run configurations, write run files and reports.

A thin skin over :mod:`evaluation`: parse options, call the library, print. The library's
deliberate errors become one line on stderr and exit status 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from evaluation import (
    ANSWER,
    DOCUMENT,
    STARD_SPLIT_RULE,
    EvaluationError,
    EvaluationSettings,
    convert_covid,
    convert_stard,
    evaluate,
    load_set,
    parse_configurations,
    training_pairs,
    write_outputs,
)
from evaluation.suite import ABSTAINED, REFUSALS, TARGET_NAMES, TOP_3, compare_suites, run_suite
from kb import EXPIRED, IN_FORCE, SUPERSEDED, KBError, KnowledgeBase
from policykb.options import kb_option

SHARED = Path("../shared/corpus")


@contextmanager
def _clean_errors() -> Iterator[None]:
    try:
        yield
    except (EvaluationError, KBError) as error:
        raise click.ClickException(str(error)) from None


@contextmanager
def _progress_bars() -> Iterator[Callable[[str, int, int], None]]:
    """A ``progress(name, done, total)`` drawing one bar per name on stderr (none when it is not a terminal)."""
    from tqdm import tqdm

    bars: dict[str, Any] = {}

    def progress(name: str, done: int, total: int) -> None:
        bar = bars.get(name) or bars.setdefault(name, tqdm(total=total, desc=name, unit="q", leave=False, disable=None))
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    try:
        yield progress
    finally:
        for bar in bars.values():
            bar.close()


def _announce(message: str) -> None:
    click.echo(f"  {message}", err=True)


@click.group(name="eval")
def eval_group() -> None:
    """Answer quality: question sets, runs, metrics and reports over the same kb the service uses.

    \b
    Example:
      policykb eval convert-stard --out var/eval/stard
      policykb eval run --kb var/kb --set var/eval/stard/test --out var/eval/report-stard
    """


@eval_group.command("convert-stard")
@click.option("--source", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=SHARED / "stard" / "questions.jsonl", show_default=True, help="STARD questions.jsonl.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("var/eval/stard"),
              show_default=True, help="Directory to write train/ and test/ into.")
def convert_stard_command(source: Path, out: Path) -> None:
    """STARD -> BEIR sets with passage gold ({lawrefbook_id}#a{n}), split once: test when query_id % 4 == 0.

    \b
    Example:
      policykb eval convert-stard --out var/eval/stard
    """
    with _clean_errors():
        counts = convert_stard(source, out)
    for split, count in counts.items():
        click.echo(f"{out / split}: {count} questions")
    click.echo(f"split rule: {STARD_SPLIT_RULE}")


@eval_group.command("convert-covid")
@click.option("--source", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=SHARED / "covid-policy" / "questions.jsonl", show_default=True,
              help="Epidemic questions.jsonl (id, docid, question, answer, answer_span, split).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("var/eval/covid"),
              show_default=True, help="Directory to write one sub-directory per split into.")
@click.option("--gold", type=click.Choice([ANSWER, DOCUMENT]), default=ANSWER, show_default=True,
              help="answer: the answer text must be in a returned passage of the document; document: any passage.")
def convert_covid_command(source: Path, out: Path, gold: str) -> None:
    """Epidemic questions -> one set per split (their own `split` field), answer-text or document gold.

    \b
    Examples:
      policykb eval convert-covid --out var/eval/covid
      policykb eval convert-covid --gold document --out var/eval/covid-doc
    """
    with _clean_errors():
        counts = convert_covid(source, out, gold=gold)
    for split, count in counts.items():
        click.echo(f"{out / split}: {count} questions ({gold} gold)")


@eval_group.command("pairs")
@kb_option
@click.option("--set", "set_path", required=True, type=click.Path(exists=True, path_type=Path),
              help="A question set (BEIR directory or answer-text JSONL).")
@click.option("--split", required=True, help="The split to train on (e.g. train, local_train).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help='JSONL of {"question", "segment_id"} lines for `policykb train --pairs`.')
@click.option("--with-reference-answers", is_flag=True,
              help="Also pair each question's reference answer (STARD's) with its gold passages.")
def pairs_command(kb_dir: Path, set_path: Path, split: str, out: Path, with_reference_answers: bool) -> None:
    """Turn the train split of a question set into confirmed-answer pairs for `policykb train`.

    Passage gold gives its segments; answer-text gold gives the passages of its document
    that contain the answer.

    \b
    Example:
      policykb eval pairs --set var/eval/stard --split train --with-reference-answers \\
          --out var/eval/stard-train-pairs.jsonl
      policykb train --pairs var/eval/stard-train-pairs.jsonl
    """
    with _clean_errors():
        question_set = load_set(set_path).only_split(split)
        resolved = training_pairs(question_set, KnowledgeBase(kb_dir), reference_answers=with_reference_answers)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for question, segment_id in resolved.pairs:
            handle.write(json.dumps({"question": question, "segment_id": segment_id}, ensure_ascii=False) + "\n")
    skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(resolved.skipped.items())) or "none"
    click.echo(f"{out}: {len(resolved.pairs)} pairs from {len(question_set.questions)} questions; skipped: {skipped}")


def _statuses(include_expired: bool, include_superseded: bool) -> tuple[str, ...]:
    return (IN_FORCE,) + ((EXPIRED,) if include_expired else ()) + ((SUPERSEDED,) if include_superseded else ())


def _print_table(report: dict[str, Any]) -> None:
    measures, labels = report["measures"], report["labels"]
    width = max(len("configuration"), *(len(name) for name in report["metrics"]))
    click.echo(f"{'configuration':<{width}}  " + "  ".join(f"{labels[m]:>10}" for m in measures) + f"  {'ms/q':>7}")
    timing = {c["name"]: c["ms_per_question"] for c in report["configurations"]}
    for name, values in report["metrics"].items():
        click.echo(f"{name:<{width}}  " + "  ".join(f"{values[m]:>10.3f}" for m in measures)
                   + f"  {timing[name]:>7.1f}")
    for row in report["comparisons"]:
        if row["measure"] == "RR@10":
            mark = " *" if row["significant"] else ""
            click.echo(f"  {row['configuration']} vs {row['reference']}: MRR@10 {row['delta']:+.3f} "
                       f"(randomisation p={row['p_randomisation']:.4f}, Holm p={row['p_holm']:.4f}, "
                       f"t-test p={row['p_ttest']:.4f}){mark}")
    unreachable = report["unreachable_gold"]
    if unreachable["questions"]:
        reasons = ", ".join(f"{why}: {count}" for why, count in unreachable["by_reason"].items())
        click.echo(f"  {unreachable['questions']} questions cannot be answered by any passage ({reasons}); "
                   "they score 0 everywhere")


@eval_group.command("run")
@kb_option
@click.option("--set", "set_path", required=True, type=click.Path(exists=True, path_type=Path),
              help="A set: queries.jsonl (+ qrels.tsv), an answer-text .jsonl, or a directory of them.")
@click.option("--split", default=None, help="Evaluate only the questions of this split (e.g. test, local_dev).")
@click.option("--configs", default="baseline,bm25,dense,hybrid", show_default=True,
              help="Comma-separated: baseline, bm25, dense, hybrid, hybrid-weighted, hybrid-rrf, hybrid-rrfN.")
@click.option("--top-k", default=100, show_default=True, type=click.IntRange(1, 1000), help="Passages per question.")
@click.option("--candidates", default=None, type=click.IntRange(1, 10000),
              help="Candidates per retriever before fusion (default: the knowledge base's setting).")
@click.option("--include-expired", is_flag=True, help="Also search expired documents.")
@click.option("--include-superseded", is_flag=True, help="Also search superseded versions.")
@click.option("--reference", default=None, help="Configuration the others are tested against (default: baseline).")
@click.option("--primary", default=None, help="Configuration whose worst questions are shown (default: hybrid).")
@click.option("--worst", default=20, show_default=True, type=click.IntRange(0, 1000), help="Worst questions to show.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("var/eval/report"),
              show_default=True, help="Directory for runs/*.trec, report.json and report.html.")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=Path("var/eval/cache"),
              show_default=True, help="Where the baseline's tokenised index is cached.")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON instead of a table.")
def run_command(kb_dir: Path, set_path: Path, split: str | None, configs: str, top_k: int, candidates: int | None,
                include_expired: bool, include_superseded: bool, reference: str | None, primary: str | None,
                worst: int, out: Path, cache: Path, as_json: bool) -> None:
    """Run configurations over a question set; write TREC runs, report.json and report.html.

    \b
    Examples:
      policykb eval run --kb var/kb --set var/eval/stard/test --out var/eval/stard-test
      policykb eval run --kb var/kb --set evaluation/sets/hotline --configs bm25,hybrid,hybrid-rrf20
    """
    with _clean_errors():
        configurations = parse_configurations(configs)
        question_set = load_set(set_path)
        if split:
            question_set = question_set.only_split(split)
        settings = EvaluationSettings(top_k=top_k, candidates=candidates,
                                      statuses=_statuses(include_expired, include_superseded),
                                      reference=reference, primary=primary, worst=worst, split=split)
        with _progress_bars() as progress:
            result = evaluate(KnowledgeBase(kb_dir), question_set, configurations, settings, cache_dir=cache,
                              progress=progress, announce=_announce)
        written = write_outputs(result, out)
    report = result.report
    if as_json:
        click.echo(json.dumps({"metrics": report["metrics"], "comparisons": report["comparisons"],
                               "configurations": report["configurations"]}, ensure_ascii=False, indent=2))
    else:
        click.echo(f"{report['set']['name']}: {report['set']['questions']} questions on {report['kb']['kb_dir']} "
                   f"({report['kb']['generation']})")
        _print_table(report)
        click.echo(f"wrote {written['report.html']} and {len(result.runs)} run files under {out / 'runs'}")


SUITE_COLUMNS = ("R@5", "R@10", "R@100", "MRR@10", TOP_3)


def _figure(value: float, digits: int = 3) -> str:
    """0.6012 -> ".601", -0.012 -> "-.012", as the table prints figures."""
    text = f"{value:.{digits}f}"
    return text.replace("0.", ".", 1) if text.lstrip("-").startswith("0.") else text


def _minimum(value: float) -> str:
    """0.9 -> ".90", as targets are written."""
    return _figure(value, 2)


def _suite_row(name: str, row: dict[str, Any]) -> list[str]:
    metrics = row.get("metrics") or {}
    cells = [name, "—" if row.get("questions") is None else str(row["questions"])]
    cells += [f"{metrics[c]:.3f}" if c in metrics else "—" for c in SUITE_COLUMNS]
    if name == REFUSALS:
        silent = f"{row['refused']} ({row['share']:.1%})" if row["share"] is not None else "—"
    elif ABSTAINED in metrics:
        silent = f"{row['abstained']} ({metrics[ABSTAINED]:.1%})"
    else:
        silent = str(row["no_answer"]) if "no_answer" in row else "—"
    target = ", ".join(f"{t['metric']} ≥ {_minimum(t['minimum'])}" for t in row["targets"]) or "—"
    met = {True: "yes", False: "no", None: "—"}[row["met"]]
    timing = f"{row['ms_per_question']:.1f}" if "ms_per_question" in row else "—"
    return cells + [silent, target, met, timing]


def _target_intervals(row: dict[str, Any]) -> str:
    """"R@10 .601 (.500–.702)" for each targeted metric the row measured, with its interval."""
    intervals = row.get("intervals") or {}
    spans = []
    for target in row["targets"]:
        interval = intervals.get(target["metric"])
        if target["value"] is not None and interval is not None:
            low, high = interval
            spans.append(f"{target['metric']} {_figure(target['value'])} ({_figure(low)}–{_figure(high)})")
    return ", ".join(spans)


def _print_suite(suite: dict[str, Any]) -> None:
    described = suite["kb"]
    click.echo(f"{described['kb_dir']} ({described['generation']}), {suite['configuration']}, {suite['top_k']} deep; "
               f"targets: {suite['as']} ({suite['as_why']})")
    header = ["set", "questions", *SUITE_COLUMNS, "no answer", "target", "met", "ms/q"]
    rows = [header] + [_suite_row(name, row) for name, row in suite["sets"].items()]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for cells in rows:
        # names and targets read left to right, numbers line up on the right
        click.echo("  ".join(c.ljust(w) if i in (0, len(header) - 3) else c.rjust(w)
                             for i, (c, w) in enumerate(zip(cells, widths))).rstrip())
    for name, row in suite["sets"].items():
        spans = _target_intervals(row)
        if spans:
            click.echo(f"  {name}: {spans}: {suite['interval_level']:.0%} bootstrap interval over its "
                       f"{row['questions']} questions")
        if row["status"] == "skipped" and name != REFUSALS:
            click.echo(f"  {name}: skipped, {row['reason']}")
        elif row.get("unreachable", {}).get("questions"):
            reasons = ", ".join(f"{why}: {count}" for why, count in row["unreachable"]["by_reason"].items())
            click.echo(f"  {name}: {row['unreachable']['questions']} of {row['questions']} questions cannot be "
                       f"answered by any passage here ({reasons})")
    summary = suite["summary"]
    click.echo(f"targets ({suite['as']}): {summary['met']} met, {summary['unmet']} not met, "
               f"{summary['not_compared']} not compared")


@eval_group.command("suite")
@kb_option
@click.option("--as", "targets_as", type=click.Choice(TARGET_NAMES), default=None,
              help="Compare with the targets of a fresh or a trained knowledge base "
                   "(default: trained when it stores question pairs, else fresh).")
@click.option("--corpus", type=click.Path(file_okay=False, path_type=Path), default=SHARED, show_default=True,
              help="The shared corpus the STARD and epidemic sets are converted from; sets it lacks are skipped.")
@click.option("--cache", type=click.Path(file_okay=False, path_type=Path), default=Path("var/eval/suite"),
              show_default=True, help="Where the converted STARD and epidemic sets are kept.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write the result as DIR/suite.json.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object instead of a table.")
@click.option("--compare", "earlier", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="An earlier suite.json (--out): compare each figure question by question, with paired tests.")
def suite_command(kb_dir: Path, targets_as: str | None, corpus: Path, cache: Path, out: Path | None,
                  as_json: bool, earlier: Path | None) -> None:
    """Measure every quality set of the project (evaluation/sets/targets.json) with hybrid search and
    compare with its targets. A measurement, not a gate: the exit status is 0 whether or not they are met.

    \b
    Examples:
      policykb eval suite --kb var/kb
      policykb eval suite --kb var/kb --as fresh --json --out var/eval/suite-fresh
      policykb eval suite --kb var/kb --compare var/eval/suite-fresh/suite.json
    """
    before = _earlier_suite(earlier) if earlier is not None else None
    with _clean_errors(), _progress_bars() as progress:
        suite = run_suite(KnowledgeBase(kb_dir), corpus=corpus, cache=cache, targets_as=targets_as,
                          progress=progress, announce=_announce)
    if before is not None:
        suite["comparison"] = {"with": str(earlier), "sets": compare_suites(before, suite)}
    text = json.dumps(suite, ensure_ascii=False, indent=2)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "suite.json").write_text(text + "\n", encoding="utf-8")
    if as_json:
        click.echo(text)
    else:
        _print_suite(suite)
        if "comparison" in suite:
            _print_comparison(suite)
        if out is not None:
            click.echo(f"wrote {out / 'suite.json'}")


def _earlier_suite(path: Path) -> dict[str, Any]:
    """The suite --compare names, read before measuring so that a wrong file fails at once."""
    try:
        before = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise click.ClickException(f"{path} cannot be read as JSON: {error}") from None
    if not isinstance(before, dict) or not isinstance(before.get("sets"), dict):
        raise click.ClickException(f"{path} is not a suite written by `policykb eval suite --out`")
    return before


def _print_comparison(suite: dict[str, Any]) -> None:
    """The targeted figures before and after, per set: the difference, how many questions moved
    each way and the randomisation test's p-value."""
    click.echo(f"compared with {suite['comparison']['with']} (paired, on the questions both measured):")
    for name, compared in suite["comparison"]["sets"].items():
        if "skipped" in compared:
            click.echo(f"  {name}: {compared['skipped']}")
            continue
        for target in suite["sets"][name]["targets"]:
            figure = compared["figures"].get(target["metric"])
            if figure is None or figure["before"] is None:
                continue
            click.echo(f"  {name}: {target['metric']} {_figure(figure['before'])} → {_figure(figure['after'])} "
                       f"({'+' if figure['delta'] >= 0 else ''}{_figure(figure['delta'])}: {figure['better']} better, {figure['worse']} worse of "
                       f"{compared['questions']}; {_p_value(figure['p_randomisation'])})")


def _p_value(p: float) -> str:
    """"p = 0.44", "p = 0.004", "p < 0.001": never "0.00", which reads as impossible."""
    if p < 0.001:
        return "p < 0.001"
    return f"p = {p:.3f}" if p < 0.01 else f"p = {p:.2f}"
