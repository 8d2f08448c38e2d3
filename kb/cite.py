"""Turn a matched segment into what a reader cites: marked snippet and match offsets.

Matching is done on a same-length folded copy of the text (see
``kb.normalize.fold_same_length``), so every offset found points into the stored text
exactly as the document says it.
"""

from __future__ import annotations

import html
from bisect import bisect_left, bisect_right
from itertools import accumulate
from collections.abc import Sequence

from kb.normalize import fold_same_length

SNIPPET_CHARS = 160


def match_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int]]:
    """Non-overlapping ``(start, end)`` spans of ``terms`` in ``text``, longest terms first."""
    folded = fold_same_length(text)
    taken = [False] * len(text)
    spans = []
    for term in sorted(set(terms), key=lambda t: (-len(t), t)):
        if not term:
            continue
        position = folded.find(term)
        while position != -1:
            end = position + len(term)
            if not any(taken[position:end]):
                spans.append((position, end))
                for i in range(position, end):
                    taken[i] = True
            position = folded.find(term, end)
    return sorted(spans)


def snippet(text: str, spans: Sequence[tuple[int, int]], *, width: int = SNIPPET_CHARS) -> str:
    """An HTML-safe excerpt of about ``width`` characters with matches in ``<mark>``.

    The window is placed where the most matched characters fall; everything outside the
    marks is HTML-escaped, so the snippet can be shown as HTML without risk.
    """
    if len(text) <= width:
        begin, end = 0, len(text)
    else:
        best, begin = -1, 0
        # spans are sorted and do not overlap: their ends are sorted too, so the spans a
        # window meets are one slice, found by bisection, and their length a difference of sums
        starts = [s for s, _ in spans]
        ends = [e for _, e in spans]
        covered_before = list(accumulate((e - s for s, e in spans), initial=0))
        for start, _ in spans or [(0, 0)]:
            window_start = max(0, min(start - width // 4, len(text) - width))
            window_end = window_start + width
            first, last = bisect_right(ends, window_start), bisect_left(starts, window_end)
            covered = 0
            if first < last:  # whole spans, less what the first and last stick out of the window
                covered = (covered_before[last] - covered_before[first] - max(0, window_start - starts[first])
                           - max(0, ends[last - 1] - window_end))
            if covered > best:
                best, begin = covered, window_start
        end = begin + width
    parts = ["…" if begin > 0 else ""]
    cursor = begin
    for start, stop in spans:
        if start < begin or stop > end:
            continue
        parts.append(html.escape(text[cursor:start]))
        parts.append(f"<mark>{html.escape(text[start:stop])}</mark>")
        cursor = stop
    parts.append(html.escape(text[cursor:end]))
    parts.append("…" if end < len(text) else "")
    return "".join(parts)
