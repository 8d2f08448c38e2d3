"""The ingest benchmark times every phase, beside the peer, and writes its figures as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from policykb import bench_ingest

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def test_phases_add_up_and_the_peer_is_measured(tmp_path: Path, capsys) -> None:
    out = tmp_path / "figures.json"
    bench_ingest.main(["--kb", str(tmp_path / "kb"), str(CORPUS), "--workers", "1", "--out", str(out)])
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["documents"] >= 1 and figures["segments"] > 0 and figures["failed"] == 0
    phases = figures["phases_seconds"]
    assert list(phases) == list(bench_ingest.PHASES)
    assert all(seconds >= 0 for seconds in phases.values())
    assert phases["tokenise"] > 0 and phases["write"] > 0 and phases["training"] > 0
    assert abs(sum(phases.values()) - figures["total_seconds"]) < 0.5
    assert figures["peer"]["one_core_seconds"] > 0 and figures["peer"]["sampled_characters"] == figures["characters"]
    printed = capsys.readouterr().out
    assert "total" in printed and "jieba.lcut" in printed and "training" in printed
