"""SIGKILL ``policykb ingest`` and ``policykb build`` at random moments: nothing is lost.

The quick part of the crash harness (``tests/reliability/crash.py``): five kills of each
command over a small corpus, each followed by the invariant checks, then one uninterrupted
run that must reach an uncrashed run's digest. The long run (50 kills of each) is
``.venv/bin/python -m tests.reliability.crash --kills 50``.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from tests.reliability.crash import crash_build, crash_ingest, run, write_corpus
from tests.reliability.kbstate import check, content_digest

KILLS = 5
INGEST_DOCUMENTS = 80
BUILD_DOCUMENTS = 20


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crash")


def _report(figures) -> str:
    return figures.line() + "".join(f"\n  {problem}" for problem in figures.problems)


def test_killing_ingest_loses_nothing(work: Path) -> None:
    corpus = work / "ingest-corpus" / "laws.jsonl"
    write_corpus(corpus, INGEST_DOCUMENTS)
    figures = crash_ingest(work, corpus, KILLS, random.Random(), fresh_every=2)
    print(_report(figures))
    assert figures.kills == KILLS, _report(figures)
    assert figures.mid_run >= 1, _report(figures)
    assert figures.problems == [], _report(figures)
    assert figures.integrity_ok == figures.kills
    assert figures.digest_equal, _report(figures)


def test_killing_build_leaves_a_whole_generation_or_the_old_one(work: Path) -> None:
    corpus = work / "build-corpus" / "laws.jsonl"
    write_corpus(corpus, BUILD_DOCUMENTS)
    stored = work / "stored"
    run(["ingest", str(corpus), "--kb", str(stored), "--no-build"], stored, work / "stored.log")
    figures = crash_build(work, stored, KILLS, random.Random())
    print(_report(figures))
    assert figures.kills == KILLS, _report(figures)
    assert figures.mid_run >= 1, _report(figures)
    assert figures.problems == [], _report(figures)
    assert figures.integrity_ok == figures.kills
    assert figures.digest_equal and figures.index_equal, _report(figures)


def test_the_checks_see_a_partial_document_and_a_damaged_generation(work: Path) -> None:
    """The checks themselves can fail: a segment removed behind the store's back and an index
    file changed after its manifest was written are both reported."""
    import sqlite3

    source = work / "build-reference"
    if not source.exists():
        pytest.skip("needs the build scenario's knowledge base")
    damaged = work / "damaged"
    shutil.copytree(source, damaged)
    assert check(damaged).ok
    before = content_digest(damaged)
    conn = sqlite3.connect(damaged / "kb.sqlite")
    with conn:
        conn.execute("DELETE FROM segments WHERE segment_id = (SELECT max(segment_id) FROM segments)")
    conn.close()
    generation = damaged / "index" / (damaged / "index" / "CURRENT").read_text().strip()
    with (generation / "segment_ids.npy").open("ab") as handle:
        handle.write(b" ")
    problems = check(damaged).problems
    assert any("segments stored" in p for p in problems), problems
    assert any("does not match its manifest" in p for p in problems), problems
    assert content_digest(damaged) != before
