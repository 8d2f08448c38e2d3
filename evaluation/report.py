"""The analysts' report: ``report.json`` (the data) and ``report.html`` (one self-contained page).

The page has no script, no stylesheet link, no font or image fetched from anywhere: charts
are inline SVG (:mod:`evaluation.charts`), styles are inline. Everything that came from a
question set or a document (questions, answers, titles, passages, ids) is HTML-escaped on the
way in, here, and nowhere is markup taken from the data.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from evaluation.charts import bar_chart, colour, recall_curves
from evaluation.experiment import Evaluation
from evaluation.runs import write_trec

STYLE = """
body{font-family:sans-serif;margin:24px;color:#222;max-width:1180px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}
.best{font-weight:bold}.meta{font-size:13px;color:#555}.q{margin:18px 0;padding:10px;border:1px solid #ddd}
.q h3{font-size:15px;margin:0 0 6px}.ok{color:#087f23}.no{color:#b00020}.small{font-size:12px;color:#555}
.sig{font-weight:bold;color:#087f23}.chip{display:inline-block;width:10px;height:10px;margin-right:4px}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _num(value: float) -> str:
    return f"{value:.3f}"


def _metrics_table(report: dict[str, Any]) -> str:
    measures, labels = report["measures"], report["labels"]
    best = {m: max(v[m] for v in report["metrics"].values()) for m in measures}
    timing = {c["name"]: c for c in report["configurations"]}
    head = "".join(f"<th>{_e(labels[m])}</th>" for m in measures)
    rows = []
    for i, (name, values) in enumerate(report["metrics"].items()):
        cells = "".join(f'<td class="n{" best" if values[m] == best[m] else ""}">{_num(values[m])}</td>'
                        for m in measures)
        rows.append(f'<tr><td><span class="chip" style="background:{colour(i)}"></span>{_e(name)}</td>{cells}'
                    f'<td class="n">{timing[name]["ms_per_question"]:.1f}</td></tr>')
    return f"<table><tr><th>configuration</th>{head}<th>ms / question</th></tr>{''.join(rows)}</table>"


def _parts_table(report: dict[str, Any]) -> str:
    parts = report["metrics_by_part"]
    if len(parts) < 2:
        return ""
    shown = ("R@10", "RR@10", "nDCG@10")
    head = "".join(f"<th>{_e(name)} {_e(report['labels'][m])}</th>" for name in report["metrics"] for m in shown)
    rows = "".join(
        f"<tr><td>{_e(part)}</td><td>{_e(data['gold'])}</td><td class='n'>{data['questions']}</td>"
        + "".join(f"<td class='n'>{_num(data['metrics'][name][m])}</td>" for name in report["metrics"] for m in shown)
        + "</tr>" for part, data in parts.items())
    return (f"<h2>By part of the set</h2><table><tr><th>part</th><th>gold</th><th>questions</th>{head}</tr>"
            f"{rows}</table>")


def _comparisons(report: dict[str, Any]) -> str:
    rows = []
    for row in report["comparisons"]:
        verdict = '<span class="sig">yes</span>' if row["significant"] else "no"
        rows.append(f"<tr><td>{_e(row['configuration'])}</td><td>{_e(report['labels'].get(row['measure'], row['measure']))}"
                    f"</td><td class='n'>{_num(row['reference_mean'])}</td><td class='n'>{_num(row['mean'])}</td>"
                    f"<td class='n'>{row['delta']:+.3f}</td><td class='n'>{row['p_randomisation']:.4f}</td>"
                    f"<td class='n'>{row['p_holm']:.4f}</td><td class='n'>{row['p_ttest']:.4f}</td><td>{verdict}</td></tr>")
    reference = _e(report["settings"]["reference"])
    return (f"<h2>Is the difference real? (paired tests against {reference})</h2>"
            "<p class='meta'>Fisher's randomisation test (10,000 paired swaps, two-sided) and the paired t-test on "
            "per-question values; Holm-adjusted within each measure; significant means adjusted p &lt; 0.05.</p>"
            "<table><tr><th>configuration</th><th>measure</th><th>reference</th><th>this</th><th>Δ</th>"
            "<th>p (randomisation)</th><th>p (Holm)</th><th>p (t-test)</th><th>significant</th></tr>"
            f"{''.join(rows)}</table>")


def _passage_line(passage: dict[str, Any], prefix: str = "") -> str:
    if passage.get("missing"):
        return f"<li>{prefix}<code>{_e(passage['segment_id'])}</code> <span class='no'>(not in the index)</span></li>"
    number = f" {_e(passage['doc_number'])}" if passage.get("doc_number") else ""
    path = " › ".join(passage.get("section_path") or [])
    return (f"<li>{prefix}<strong>{_e(passage.get('title'))}</strong>{number} — {_e(passage.get('locator'))}"
            f" <span class='small'>{_e(path)} · <code>{_e(passage['segment_id'])}</code></span>"
            f"<br><span class='small'>{_e(passage.get('excerpt'))}</span></li>")


def _expected(expected: dict[str, Any]) -> str:
    if expected["kind"] == "document":
        items = "".join(f"<li><strong>{_e(d['title'])}</strong> <code>{_e(d['doc_id'])}</code></li>" for d in expected["documents"])
        return f"<p>Expected (any passage of):</p><ul>{items}</ul>"
    if expected["kind"] == "answer":
        where = "".join(_passage_line(p) for p in expected["passages"]) or "<li class='no'>no passage holds it</li>"
        return (f"<p>Expected answer: «{_e(expected['answer'])}» in <strong>{_e(expected['title'])}</strong> "
                f"<code>{_e(expected['doc_id'])}</code></p><ul>{where}</ul>")
    more = f"<li class='small'>… and {expected['more']} more</li>" if expected.get("more") else ""
    return f"<p>Expected passages:</p><ul>{''.join(_passage_line(p) for p in expected['passages'])}{more}</ul>"


def _worst(report: dict[str, Any]) -> str:
    blocks = []
    for item in report["worst"]:
        ranks = ", ".join(f"{_e(name)}: {rank if rank else '—'}" for name, rank in item["first_relevant"].items())
        returned = "".join(_passage_line(p, f"{p['rank']}. " + ("<span class='ok'>✓</span> " if p["relevant"]
                                                               else "<span class='no'>✗</span> "))
                           for p in item["returned"]) or f"<li class='no'>nothing ({_e(item['reason'] or item['error'])})</li>"
        blocks.append(f"<div class='q'><h3>{_e(item['qid'])}: {_e(item['question'])}</h3>"
                      f"<p class='small'>{_e(item['part'])} · MRR@10 {_num(item['measures']['RR@10'])} · first relevant "
                      f"rank by configuration: {ranks}</p>{_expected(item['expected'])}"
                      f"<p>Returned by {_e(report['settings']['primary'])}:</p><ol style='list-style:none;padding-left:8px'>"
                      f"{returned}</ol></div>")
    return (f"<h2>The {len(report['worst'])} worst questions for {_e(report['settings']['primary'])}</h2>"
            f"{''.join(blocks)}")


def _reasons(unreachable: dict[str, Any]) -> str:
    return ", ".join(f"{why}: {count}" for why, count in unreachable["by_reason"].items()) or "none"


def render_html(report: dict[str, Any]) -> str:
    """The report as one HTML page with no external resource."""
    kb, question_set, settings = report["kb"], report["set"], report["settings"]
    gold = ", ".join(f"{count} {_e(kind)}" for kind, count in question_set["gold"].items() if count)
    unreachable = report["unreachable_gold"]
    counts = kb.get("counts") or {}
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>policykb evaluation: {_e(question_set['name'])}</title>
<style>{STYLE}</style></head><body>
<h1>Answer quality: {_e(question_set['name'])}</h1>
<p class="meta">{question_set['questions']} questions ({gold} gold) from <code>{_e(question_set['path'])}</code>
{f"· split {_e(question_set['split'])}" if question_set.get('split') else ""}<br>
Knowledge base <code>{_e(kb['kb_dir'])}</code>, {_e(kb['generation'])}: {_e(counts.get('segments'))} segments,
{_e(counts.get('documents'))} documents; manifest SHA-256 <code>{_e(kb['manifest_sha256'][:16])}</code><br>
Top {settings['top_k']} passages per question, statuses {_e(', '.join(settings['statuses']))}; metrics by
{_e(report['metric_library'])}; created {_e(report['created_at'])}.</p>
<h2>Metrics</h2>{_metrics_table(report)}
<p class="meta">Recall@k: passage gold, share of gold passages in the top k; document gold, share of gold documents
with a passage in the top k; answer-text gold, whether a passage of the right document containing the answer is in the
top k. MRR@10: mean of 1/rank of the first relevant item (0 beyond 10).</p>
{bar_chart(report['metrics'], report['measures'], report['labels'])}
<h2>Recall at k</h2>{recall_curves({name: {int(k): v for k, v in curve.items()}
                                    for name, curve in report['recall_curve'].items()})}
{_parts_table(report)}
{_comparisons(report) if report['comparisons'] else ''}
<h2>Gold that cannot be found</h2><p>{unreachable['questions']} questions ({unreachable['share']:.1%}) cannot be
answered by any returned passage ({_e(_reasons(unreachable))}); every configuration scores 0 on them.</p>
{_worst(report)}
</body></html>
"""


def write_outputs(evaluation: Evaluation, out: Path) -> dict[str, Path]:
    """Write one TREC run file per configuration, ``report.json`` and ``report.html`` under ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for run in evaluation.runs:
        written[run.configuration.name] = write_trec(run, out / "runs" / f"{run.configuration.name}.trec")
    for entry in evaluation.report["configurations"]:
        entry["run_file"] = str(written[entry["name"]].relative_to(out))
    (out / "report.json").write_text(json.dumps(evaluation.report, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "report.html").write_text(render_html(evaluation.report), encoding="utf-8")
    return {**written, "report.json": out / "report.json", "report.html": out / "report.html"}
