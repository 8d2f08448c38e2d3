"""``policykb bench`` on a knowledge base of the bundled corpus: every part runs, the JSON holds
the machine, versions, commit and each figure beside its peer, and the measured knowledge
base is never written. Peers and wrk that are not installed are reported as skipped."""

from __future__ import annotations

import gc
import hashlib
import json
import shutil
import sqlite3
import traceback
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from evaluation.bench import BenchError, BenchOptions, run_bench
from evaluation.bench.workspace import copy_kb, publish_copy_of_current
from kb import KnowledgeBase
from policykb.cli import cli
from tests.conftest import REPO


@pytest.fixture(scope="module")
def corpus_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kb_dir = tmp_path_factory.mktemp("bench") / "kb"
    result = CliRunner().invoke(cli, ["ingest", str(REPO / "corpus"), "--kb", str(kb_dir)])
    assert result.exit_code == 0, result.output
    # settle the store before it is digested: the ingest's connection may still hold a
    # write-ahead log that the next connection to close would fold into kb.sqlite
    gc.collect()
    with closing(sqlite3.connect(kb_dir / "kb.sqlite")) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return kb_dir


def _digest(kb_dir: Path) -> dict[str, str]:
    """Every file's digest, less SQLite's shared-memory file and an empty write-ahead log (a
    reader of a WAL database creates them; they hold no content)."""
    return {str(path.relative_to(kb_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(kb_dir.rglob("*")) if path.is_file() and not path.name.endswith("-shm")
            and not (path.name.endswith("-wal") and path.stat().st_size == 0)}


def test_bench_search_and_http_write_every_field(corpus_kb: Path, tmp_path: Path) -> None:
    before = _digest(corpus_kb)
    out = tmp_path / "run.json"
    result = CliRunner().invoke(cli, ["bench", "--kb", str(corpus_kb), "--only", "search,http", "--duration", "1",
                                      "--repeats", "1", "--concurrency", "1,4", "--limit", "12", "--out", str(out)])
    assert result.exit_code == 0, (result.output, "".join(traceback.format_exception(*result.exc_info)))
    assert "/v1/ask c4" in result.output and f"written: {out}" in result.output
    run = json.loads(out.read_text(encoding="utf-8"))
    assert run["machine"]["cpu_count"] >= 1 and run["machine"]["memory_bytes"] > 0 and run["machine"]["cpu_model"]
    for package in ("python", "numpy", "fastapi", "uvicorn", "policykb"):
        assert run["versions"][package], package
    assert len(run["git"]["commit"]) == 40
    search = run["search"]
    for mode in ("hybrid", "bm25", "dense"):
        figure = search["policykb"][mode]
        assert figure["n"] == 12 and 0 < figure["p50_ms"] <= figure["p99_ms"]
        assert figure["p50_over_rounds"]["median"] > 0
    peers = search["bm25_peers"]
    for peer in ("rank_bm25", "bm25s"):
        assert "skipped" in peers[peer] or 0 <= peers[peer]["top10_agreement"] <= 1, peers[peer]
    assert search["dense_peer"]["recall_at_10_vs_exact"] >= 0.9  # the bundled corpus is searched exactly
    http = run["http"]
    assert http["generator"] in ("wrk", "python-asyncio") and http["server_settings"]["POLICYKB_RATE_LIMIT"] == "0"
    for level in ("c1", "c4"):
        figure = http["levels"][level]
        assert figure["ask"]["rps"]["median"] > 0 and figure["trivial"]["rps"]["median"] > 0
        assert figure["ask"]["errors"] == 0 and figure["ask"]["non_2xx"] == 0
        assert 0 < figure["ask_rps_percent_of_trivial"]["median"]
        assert figure["healthz_during_asks"]["failures"] == 0
    assert http["memory_after_load_mib"]["VmHWM"] >= http["memory_after_load_mib"]["VmRSS"] > 0
    assert http["answer_bytes"] > 1000
    assert _digest(corpus_kb) == before  # measured through a copy: not even a query log was written


def test_bench_startup_and_ask_from_the_shell(corpus_kb: Path) -> None:
    run = run_bench(BenchOptions(kb_dir=corpus_kb, only=("startup", "ask"), launches=1, small_kb=corpus_kb,
                                 limit=5))
    startup = run["startup"]
    assert 0 < startup["serve_to_ready_s"]["median"] < 120
    switch = startup["index_switch"]
    assert switch["errors"] == 0 and switch["first_new_answer_after_s"] is not None
    assert switch["answers_before"]["n"] > 0 and switch["answers_after"]["n"] > 0
    assert run["ask_cli"]["wall_s"]["median"] > 0


def test_parts_outside_the_list_are_one_clean_line(corpus_kb: Path) -> None:
    result = CliRunner().invoke(cli, ["bench", "--kb", str(corpus_kb), "--only", "search,speed"])
    assert result.exit_code == 1 and "search, http, startup, ask" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(BenchError, match="not a knowledge base"):
        run_bench(BenchOptions(kb_dir=corpus_kb / "absent"))


def test_the_copy_switches_generation_and_the_original_stays(corpus_kb: Path, tmp_path: Path) -> None:
    before = _digest(corpus_kb)
    copy = copy_kb(corpus_kb, tmp_path / "copy")
    served = KnowledgeBase(copy, follow_current=False)
    first = served.warm_up()
    name = publish_copy_of_current(copy)
    assert served.current_generation() == name != first
    fresh = KnowledgeBase(copy)
    try:
        assert fresh.warm_up() == name and fresh.search("政务公开", top_k=3).generation == name
    finally:
        fresh.close()
        served.close()
    assert _digest(corpus_kb) == before
    shutil.rmtree(copy)


def test_kept_results_name_paths_relative_to_the_project() -> None:
    from evaluation.bench.machine import REPO, shown_path

    assert shown_path(REPO / "corpus") == "corpus"
    assert shown_path(REPO.parent / "shared" / "corpus") == "../shared/corpus"
    outside = Path("/policykb-nowhere") / "bench-copy" / "small-kb"  # neither in the project nor beside it
    assert shown_path(outside) == "small-kb"
