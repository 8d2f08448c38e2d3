"""The result of a run as a table for people and a JSON file for comparison.

Files are named ``<date>-<commit>.json`` under ``evaluation/bench/results/`` by default, so
each kept run says when and at which commit it was measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def default_path(result: dict[str, Any]) -> Path:
    """``evaluation/bench/results/<YYYY-MM-DD>-<short commit>.json``."""
    commit = (result.get("git") or {}).get("commit") or "nocommit"
    return RESULTS_DIR / f"{result['measured_at'][:10]}-{commit[:10]}.json"


def write(result: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def _ms(figure: dict[str, Any] | None, name: str) -> str:
    value = (figure or {}).get(name)
    return "-" if value is None else f"{value:g}"


def _median(figure: dict[str, Any] | None) -> str:
    value = (figure or {}).get("median")
    return "-" if value is None else f"{value:g}"


def rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(figure, value, peer in the same run) for every measured figure."""
    table: list[tuple[str, str, str]] = []
    search = result.get("search")
    if search:
        peers = search.get("bm25_peers", {})
        dense = search.get("dense_peer", {})
        for mode, figure in search["policykb"].items():
            peer = ""
            if mode == "bm25":
                rank, fast = peers.get("rank_bm25", {}), peers.get("bm25s", {})
                peer = (f"rank-bm25 get_scores p50 {_ms(rank, 'p50_ms')} ms (agree {rank.get('top10_agreement', '-')}); "
                        f"bm25s top-10 p50 {_ms(fast, 'p50_ms')} ms (agree {fast.get('top10_agreement', '-')})"
                        if "skipped" not in fast else f"bm25s: {fast['skipped']}")
            elif mode == "dense":
                exact = dense.get("numpy_exact_matmul_argpartition", {})
                peer = (f"numpy exact p50 {_ms(exact, 'p50_ms')} ms; recall@10 vs exact "
                        f"{dense.get('recall_at_10_vs_exact', '-')}")
            table.append((f"search {mode} p50 / p99 / mean ms",
                          f"{_ms(figure, 'p50_ms')} / {_ms(figure, 'p99_ms')} / {_ms(figure, 'mean_ms')}", peer))
        bm25_only = peers.get("policykb_bm25_scores_top10")
        if bm25_only:
            table.append(("policykb BM25 scores+top-10 p50 ms", _ms(bm25_only, "p50_ms"), "(same terms as the peers)"))
    http = result.get("http")
    if http:
        for level, figure in http.get("levels", {}).items():
            ask, trivial = figure["ask"], figure["trivial"]
            table.append((f"/v1/ask {level} rps, p50 / p99 ms, errors",
                          f"{_median(ask['rps'])}, {_median(ask['p50_ms'])} / {_median(ask['p99_ms'])}, "
                          f"{ask['errors'] + ask['non_2xx']}",
                          f"trivial {_median(trivial['rps'])} rps, p99 {_median(trivial['p99_ms'])} ms: ask is "
                          f"{_median(figure['ask_rps_percent_of_trivial'])}%"))
            health = figure.get("healthz_during_asks", {})
            table.append((f"/healthz during asks {level} p50 / p99 / max ms",
                          f"{_ms(health, 'p50_ms')} / {_ms(health, 'p99_ms')} / {_ms(health, 'max_ms')}",
                          f"{health.get('n', 0)} probes, {health.get('failures', 0)} failed"))
        memory = http.get("memory_after_load_mib") or {}
        table.append(("server RSS after load MiB (peak)", f"{memory.get('VmRSS', '-')} ({memory.get('VmHWM', '-')})",
                      f"anon {memory.get('RssAnon', '-')}, file {memory.get('RssFile', '-')}, "
                      f"{memory.get('processes', '-')} process(es)"))
    startup = result.get("startup")
    if startup:
        table.append(("serve to first /readyz 200 s", _median(startup["serve_to_ready_s"]),
                      f"runs {startup['serve_to_ready_s'].get('runs')}"))
        switch = startup.get("index_switch", {})
        table.append(("index switch: first new answer after s", str(switch.get("first_new_answer_after_s", "-")),
                      f"answer p99 / max ms: before {_ms(switch.get('answers_before'), 'p99_ms')} / "
                      f"{_ms(switch.get('answers_before'), 'max_ms')}, while loading "
                      f"{_ms(switch.get('answers_while_loading'), 'p99_ms')} / "
                      f"{_ms(switch.get('answers_while_loading'), 'max_ms')}"))
    ask = result.get("ask_cli")
    if ask:
        table.append(("policykb ask from the shell s", _median(ask.get("wall_s")) if "wall_s" in ask
                      else f"failed: {ask.get('failed')}", "small KB"))
    return table


def render(result: dict[str, Any]) -> str:
    """The table, with the commit and machine on top."""
    git, box = result.get("git") or {}, result.get("machine") or {}
    head = (f"policykb bench at {str(git.get('commit'))[:10]}{' (dirty tree)' if git.get('dirty') else ''}, "
            f"{box.get('cpus_usable')} CPUs ({box.get('cpu_model')}), {result.get('questions')} questions")
    table = rows(result)
    width = max((len(name) for name, _, _ in table), default=10)
    value_width = max((len(value) for _, value, _ in table), default=10)
    lines = [head, ""]
    lines += [f"{name.ljust(width)}  {value.ljust(value_width)}  {peer}" for name, value, peer in table]
    if "http" in result:
        lines.append(f"\nload generator: {result['http']['generator']}; {result['http']['rate_limits']}")
    return "\n".join(lines)
