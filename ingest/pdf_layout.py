"""PDF text lines to paragraphs: drop running headers and page numbers, rejoin what pages cut.

A PDF keeps no paragraphs, only positioned lines. Printed 公文 repeat the 文号 or the
issuer at the top of every page and a page number ("- 3 -", "第3页 共12页") at the
foot, and a page break falls wherever the line ran out, often inside a word. Both
break search and citations, and ``ingest.clean`` cannot repair them from plain text
(a 27-character line without punctuation looks like a heading to it). Here they are
decided from geometry instead: a line that runs to the right margin continues in the
next line unless that one is indented; a line is a running header or footer when it
sits at the same edge position with the same text (digits aside) on most pages.
Functions here are pure, over :class:`Line` tuples, so any PDF library can feed them.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from statistics import median

__all__ = ["Line", "is_page_number", "paragraphs", "strip_running_lines"]

#: A page-number line: "- 3 -", "— 12 —", "第3页", "第 3 页 共 12 页", "3/12", "Page 3 of 12", "3".
PAGE_NUMBER = re.compile(
    r"^\s*(?:[-—－–‒]\s*\d{1,4}\s*[-—－–‒]|第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?"
    r"|共\s*\d{1,4}\s*页\s*第\s*\d{1,4}\s*页|\d{1,4}\s*/\s*\d{1,4}|page\s*\d{1,4}(?:\s*of\s*\d{1,4})?|\d{1,4})\s*$",
    re.IGNORECASE,
)
#: Spaces between two CJK characters or punctuation marks: "公 开" -> "公开" (justified lines).
_CJK_GAP = re.compile(r"(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’]) +(?=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’])")
_DIGITS = re.compile(r"\d+")
#: Lines at each end of a page that may be a running header or footer.
EDGE_LINES = 2
#: A running line appears at its edge on at least this share of the pages.
RUNNING_SHARE = 0.5
#: Punctuation that ends a paragraph when it ends a line followed by an indented one.
_FINAL = set("。！？；：!?;:…")


@dataclass(frozen=True)
class Line:
    """One visual line of a page; ``top`` grows down the page, sizes and positions in points."""

    text: str
    x0: float
    x1: float
    top: float
    size: float


def is_page_number(text: str) -> bool:
    """Whether a line is only a page number: "- 3 -" or "第3页 共12页"."""
    return PAGE_NUMBER.match(text) is not None


def strip_running_lines(pages: list[list[Line]]) -> list[list[Line]]:
    """Pages without their running headers, footers and page numbers.

    Only the first and last :data:`EDGE_LINES` lines of a page are candidates, and a
    repeated line must sit near the same height on the other pages too, so the body's
    own "常政办发〔2019〕143号" under the 发文机关标志 stays while the header copy goes.
    """
    edges = [_edge_indices(page) for page in pages]
    seen: Counter[str] = Counter()
    tops: dict[str, list[float]] = {}
    for page, indices in zip(pages, edges, strict=True):
        keys = set()
        for index in indices:
            key = _key(page[index], index, len(page))
            keys.add(key)
            tops.setdefault(key, []).append(page[index].top)
        seen.update(keys)
    needed = max(2, round(RUNNING_SHARE * len(pages)))
    result = []
    for page, indices in zip(pages, edges, strict=True):
        drop = set()
        for index in indices:
            line = page[index]
            key = _key(line, index, len(page))
            repeated = seen[key] >= needed and abs(line.top - median(tops[key])) <= 2 * line.size
            if is_page_number(line.text) or repeated:
                drop.add(index)
        result.append([line for index, line in enumerate(page) if index not in drop])
    return result


def paragraphs(pages: list[list[Line]]) -> list[str]:
    """Paragraph texts, lines joined where the layout says they continue (also across pages)."""
    body = [line for page in pages for line in page if line.text.strip()]
    if not body:
        return []
    body_size = Counter(round(line.size) for line in body for _ in line.text).most_common(1)[0][0]
    main = [line for line in body if round(line.size) == body_size] or body
    left = min(line.x0 for line in main)
    right = max(line.x1 for line in main)
    steps = [b.top - a.top for page in pages for a, b in pairwise(page)
             if round(a.size) == round(b.size) == body_size and b.top > a.top]
    leading = median(steps) if steps else body_size * 1.5
    out: list[str] = []
    previous: Line | None = None
    previous_page = -1
    for page_number, page in enumerate(pages):
        for line in page:
            text = _CJK_GAP.sub("", line.text.strip())
            if not text:
                continue
            same_page = previous_page == page_number
            if previous is not None and _continues(previous, line, left, right, leading, same_page):
                joiner = " " if out[-1][-1:].isascii() and out[-1][-1:].isalnum() and text[0].isascii() else ""
                out[-1] += joiner + text
            else:
                out.append(text)
            previous, previous_page = line, page_number
    return out


def _continues(previous: Line, line: Line, left: float, right: float, leading: float, same_page: bool) -> bool:
    """Whether ``line`` carries on the paragraph that ``previous`` belongs to."""
    tolerance = line.size
    if abs(previous.size - line.size) > 0.5:
        return False
    if same_page and line.top - previous.top > 1.6 * max(leading, line.size):
        return False  # a blank line's worth of space: a paragraph break
    full = previous.x1 >= right - tolerance
    indented = line.x0 > left + tolerance
    centred_previous = _centred(previous, left, right)
    centred = _centred(line, left, right)
    if centred and (full or centred_previous) and previous.text.strip()[-1:] not in _FINAL:
        return True  # a title wrapped onto a second centred line
    return full and not indented


def _centred(line: Line, left: float, right: float) -> bool:
    margin_left, margin_right = line.x0 - left, right - line.x1
    return margin_left > line.size and abs(margin_left - margin_right) <= line.size


def _edge_indices(page: list[Line]) -> list[int]:
    count = len(page)
    return sorted(set(range(min(EDGE_LINES, count))) | set(range(max(0, count - EDGE_LINES), count)))


def _key(line: Line, index: int, count: int) -> str:
    """Text with digits masked, and which edge: "top:常政办发〔#〕#号", "bottom:- # -"."""
    edge = "top" if index < EDGE_LINES else "bottom"
    return edge + ":" + _DIGITS.sub("#", "".join(line.text.split()))
