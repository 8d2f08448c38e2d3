"""Inline SVG charts for the analysts' report: no plotting library, no external file, no script.

Charts are drawn as SVG text so the report stays one self-contained HTML file that opens
offline, prints, and can be mailed. Every label is HTML-escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

#: Colour-blind-safe palette (Okabe & Ito), one colour per configuration in order.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = 'font-family="sans-serif" font-size="12"'


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _svg_open(width: int, height: int, label: str) -> str:
    return f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{label}">'


def _legend(names: Sequence[str], x: float, y: float) -> list[str]:
    parts = []
    for i, name in enumerate(names):
        parts.append(f'<rect x="{x}" y="{y + i * 18}" width="12" height="12" fill="{colour(i)}"/>'
                     f'<text x="{x + 18}" y="{y + i * 18 + 10}" {FONT}>{escape(name)}</text>')
    return parts


def _y_axis(left: float, top: float, height: float, width: float) -> list[str]:
    parts = []
    for step in range(6):
        value = step / 5
        y = top + height - value * height
        parts.append(f'<line x1="{left}" x2="{left + width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{value:.1f}</text>')
    return parts


def bar_chart(values: Mapping[str, Mapping[str, float]], measures: Sequence[str], labels: Mapping[str, str],
              *, width: int = 1100, height: int = 320) -> str:
    """Grouped bars: one group per measure, one bar per configuration, values in [0, 1]."""
    names = list(values)
    left, top, bottom, legend_width = 40, 20, 40, 170
    plot_w, plot_h = width - left - legend_width, height - top - bottom
    group_w = plot_w / max(len(measures), 1)
    bar_w = group_w * 0.8 / max(len(names), 1)
    parts = [_svg_open(width, height, "metrics per configuration"), *_y_axis(left, top, plot_h, plot_w)]
    for g, measure in enumerate(measures):
        x0 = left + g * group_w + group_w * 0.1
        for i, name in enumerate(names):
            value = max(0.0, min(1.0, values[name].get(measure, 0.0)))
            h = value * plot_h
            x = x0 + i * bar_w
            parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w * 0.92:.1f}" height="{h:.1f}" '
                         f'fill="{colour(i)}"><title>{escape(name)} {escape(labels.get(measure, measure))}: '
                         f'{value:.3f}</title></rect>')
            if bar_w >= 22:
                parts.append(f'<text x="{x + bar_w * 0.46:.1f}" y="{top + plot_h - h - 3:.1f}" text-anchor="middle" '
                             f'font-family="sans-serif" font-size="9">{value:.2f}</text>')
        parts.append(f'<text x="{left + g * group_w + group_w / 2:.1f}" y="{height - bottom + 18}" '
                     f'text-anchor="middle" {FONT}>{escape(labels.get(measure, measure))}</text>')
    parts += _legend(names, width - legend_width + 20, top)
    parts.append("</svg>")
    return "".join(parts)


def recall_curves(curves: Mapping[str, Mapping[int, float]], *, width: int = 1100, height: int = 340) -> str:
    """Recall@k against k (log scale), one line per configuration."""
    names = list(curves)
    ks = sorted({k for curve in curves.values() for k in curve}) or [1]
    left, top, bottom, legend_width = 40, 20, 40, 170
    plot_w, plot_h = width - left - legend_width, height - top - bottom
    span = math.log(ks[-1]) if ks[-1] > 1 else 1.0

    def x_of(k: int) -> float:
        return left + (math.log(k) / span) * plot_w if ks[-1] > 1 else left + plot_w / 2

    parts = [_svg_open(width, height, "recall at k"), *_y_axis(left, top, plot_h, plot_w)]
    for k in ks:
        parts.append(f'<text x="{x_of(k):.1f}" y="{height - bottom + 16}" text-anchor="middle" {FONT}>{k}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 4}" text-anchor="middle" {FONT}>k (log scale)</text>')
    for i, name in enumerate(names):
        points = [(x_of(k), top + plot_h - max(0.0, min(1.0, v)) * plot_h) for k, v in sorted(curves[name].items())]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour(i)}" stroke-width="2"/>')
        for (x, y), (k, v) in zip(points, sorted(curves[name].items())):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour(i)}">'
                         f'<title>{escape(name)} Recall@{k}: {v:.3f}</title></circle>')
    parts += _legend(names, width - legend_width + 20, top)
    parts.append("</svg>")
    return "".join(parts)
