"""``policykb bench``: the speed figures beside their peers, as a table and a JSON file.

A thin skin over :mod:`evaluation.bench`; its deliberate errors become one line on stderr
and exit status 1. The library is imported when the command runs, so loading the CLI for
any other command does not pay for it.
"""

from __future__ import annotations

from pathlib import Path

import click

from kb import KBError
from policykb.options import kb_option

#: The parts ``--only`` names (``evaluation.bench.PARTS``, which checks them).
PARTS = ("search", "http", "startup", "ask")


def _parts(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _levels(value: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of numbers") from None
    if not levels or min(levels) < 1:
        raise click.BadParameter("concurrency levels must be positive")
    return levels


@click.command(name="bench")
@kb_option
@click.option("--questions", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Questions (BEIR queries.jsonl or {\"question\"} lines); default: the bundled hotline set.")
@click.option("--only", default=",".join(PARTS), show_default=True,
              help=f"Parts to measure, comma-separated: {', '.join(PARTS)}.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="JSON result file; default evaluation/bench/results/<date>-<commit>.json.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes of the measured server (and of its trivial peer).")
@click.option("--duration", default=10.0, show_default=True, type=click.FloatRange(1, 600),
              help="Seconds of each HTTP load run.")
@click.option("--repeats", default=3, show_default=True, type=click.IntRange(1, 20),
              help="Runs of each HTTP load level (and rounds over the questions in process).")
@click.option("--concurrency", default="1,8,32", show_default=True, help="HTTP concurrency levels.")
@click.option("--limit", default=300, show_default=True, type=click.IntRange(1, 100000),
              help="Questions to use at most.")
@click.option("--small-kb", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Knowledge base for the `policykb ask` figure; default: the bundled corpus, ingested afresh.")
def bench_command(kb_dir: Path, questions: Path | None, only: str, out: Path | None, workers: int, duration: float,
                  repeats: int, concurrency: str, limit: int, small_kb: Path | None) -> None:
    """Measure search, HTTP, start-up and `ask` beside their peers; print a table, write JSON.

    The knowledge base is copied to a temporary folder first: it is never written. The server
    is run with the rate limits lifted (POLICYKB_RATE_LIMIT=0). wrk is used where installed
    (apt-get install wrk), else a small Python load generator; peers not installed are skipped.

    \b
    Examples:
      policykb bench --kb var/kb --only search,http
      policykb bench --kb /data/kb --questions stard/test/queries.jsonl --workers 2
    """
    from evaluation.bench import BenchError, BenchOptions, run_bench
    from evaluation.bench.report import default_path, render, write

    try:
        options = BenchOptions(kb_dir=kb_dir, questions=questions, only=_parts(only), limit=limit,
                               rounds=repeats, duration_s=duration, repeats=repeats,
                               concurrency=_levels(concurrency), workers=workers, small_kb=small_kb)
        result = run_bench(options, progress=lambda message: click.echo(f"  {message}", err=True))
    except (BenchError, KBError) as error:
        raise click.ClickException(str(error)) from None
    path = write(result, out or default_path(result))
    click.echo(render(result))
    click.echo(f"\nwritten: {path}")
