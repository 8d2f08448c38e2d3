"""Cut a cleaned document into citable segments along its own structure.

A citation is only as good as its address: "第五十四条" or "三、（四）" lets a reader
check the answer in the original, a character range does not. So segments follow the
document's numbering — 第X编/章/节/条 in regulations, 一、（一）1.（1）① in 公文 — and
only text without numbering (the 公文 head, closing matter, flattened web pages) falls
back to sentence-aligned windows. Offsets always point into the text given, so
``segment.text == text[segment.start:segment.end]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from itertools import pairwise

from ingest.departments import DEPARTMENT_NOTE, ends_with_department_note, extract_departments
from ingest.gongwen import DATE, NUMERAL, is_closing_line, numeral_value
from kb import Segment

__all__ = ["MAX_LEAF", "MAX_WINDOW", "TARGET_WINDOW", "segment_text", "starts_with_marker"]

#: Windows aim at this many characters, about a paragraph of a 公文.
TARGET_WINDOW = 300
#: No window is longer, even inside one very long sentence.
MAX_WINDOW = 500
#: The longest next-window sentence a window repeats at its end.
OVERLAP_SENTENCE = 150
#: A structural leaf longer than this is cut into windows too (``a12.p2``).
MAX_LEAF = 1500
#: A numbered item whose sub-items together run to at most this many characters is also
#: cited whole (``s2.1.all``): list answers ("1.…；2.…；3.…") span several short items.
MAX_GROUP = 600
#: ... and none of them is longer than this: items of a list, not paragraphs of their own.
MAX_GROUPED_ITEM = 160
#: Path labels of items whose heading runs into the body are cut here.
MAX_LABEL = 40
#: A 第X章 paragraph longer than this is body text that happens to begin with one.
MAX_HEADING = 60

#: A markdown heading prefix: "## ".
_MD = re.compile(r"(?P<hashes>#{1,6})[ \t\u3000]*")
_CN = "[一二三四五六七八九十百]+"
#: A structural marker at the start of a paragraph, one named group per kind:
#: "第一编" "第二分编" "第三章" "第一节" (part); "第五十四条" "第五十四条之一" (article);
#: "三、" (cn); "（四）" "(四)" (pcn); "1." "1．" "1、" but not "1.5" (ar); "（1）" "⑴" (par); "①" (circ).
MARKER = re.compile(
    rf"第(?P<part>{NUMERAL})(?P<part_kind>分编|编|章|节)(?![的中规和或至及之、，。；])"
    rf"|第(?P<article>{NUMERAL})条(?:之(?P<article_sub>{NUMERAL}))?(?![款项的中规和或至及之、，。；])"
    rf"|(?P<cn>{_CN})、|[（(](?P<pcn>{_CN})[）)]"
    r"|(?P<ar>\d{1,3})[.．、](?!\d)|(?P<ar_char>[⒈-⒛])"
    r"|[（(](?P<par>\d{1,3})[）)]|(?P<par_char>[⑴-⒇])"
    r"|(?P<circ>[①-⑳])"
)
#: Where a sentence ends: "。", "；", "？”", or a line break.
_SENTENCE_END = re.compile(r"[。！？；!?;…]+[”’」』]*|\n+")
#: Where a sentence too long for one window may be cut: after a comma, 顿号 or colon.
_SOFT_BREAK = re.compile(r"[，、：,:\s]")
#: Where an inline heading's label ends, at a full stop or (in flattened pages) a space:
#: "（四）深化财政信息公开。按规定…" -> "（四）深化财政信息公开", "一、工作原则 施工现场…" -> "一、工作原则".
_LABEL_END = re.compile(r"[。！？；!?;]|\s+")
_PUNCTUATION = re.compile(r"[。，；：！？、,;:!?]")
_GAP = re.compile(r"[^\S\n]+")
#: A signature and date closing a flattened line, before the end or the 版记 and attachments:
#: " 国家卫生健康委 2020年1月25日", " 某办公室 2020年2月7日 （此件公开发布）".
_SIGNED_DATE = re.compile(
    r"(?<=\s)(?:[^\s。，；：！？,;:]{2,40}[^\S\n]+)?" + DATE.pattern + r"(?=\s*$|\s+(?:[（(]此件|抄\s*送|附\s*件))"
)
_LINE = re.compile(r"[^\n]+")

_PART_RANK = {"编": 0.0, "分编": 1.0, "章": 2.0, "节": 3.0}
_MD_RANK = {1: 1.5, 2: 2.0, 3: 3.0}
_OUTLINE_RANK = {"cn": 5.0, "pcn": 6.0, "ar": 7.0, "par": 8.0, "circ": 9.0}
_ARTICLE_RANK = 10.0
_CHAR_BASE = {"ar_char": ("ar", 0x2488), "par_char": ("par", 0x2474), "circ": ("circ", 0x2460)}


@dataclass
class _Block:
    """One paragraph (or one item of a flattened line), whitespace stripped."""

    start: int
    end: int
    inline: bool
    kind: str | None = None
    number: int = 0
    sub: int | None = None
    marker: str = ""
    hashes: int = 0
    part_kind: str = ""


@dataclass
class _Node:
    block: _Block
    rank: float
    label: str
    path: tuple[str, ...]
    numbers: tuple[int, ...]
    own_end: int
    extra: bool
    noted: bool
    children: int = 0
    end: int = 0  # where the item ends, its sub-items included
    longest_child: int = 0


def starts_with_marker(line: str) -> bool:
    """Whether a paragraph opens with a heading or numbering marker (or a markdown heading)."""
    line = line.lstrip()
    return line.startswith("#") or MARKER.match(line) is not None


def segment_text(text: str) -> tuple[Segment, ...]:
    """Segment a cleaned document: structural leaves where it has numbering, windows elsewhere.

    Anchors are unique within the document (``~2`` is appended on a collision) and
    segments come in document order.
    """
    blocks = list(_blocks(text))
    article_mode = sum(block.kind == "article" for block in blocks) >= 2
    builder = _Builder(text, article_mode)
    for index, block in enumerate(blocks):
        builder.feed(block, blocks[index + 1] if index + 1 < len(blocks) else None)
    builder.finish()
    segments = sorted(builder.segments, key=lambda segment: segment.start)
    seen: dict[str, int] = {}
    for index, segment in enumerate(segments):
        seen[segment.anchor] = seen.get(segment.anchor, 0) + 1
        if seen[segment.anchor] > 1:
            segments[index] = replace(segment, anchor=f"{segment.anchor}~{seen[segment.anchor]}")
    return tuple(segments)


def _blocks(text: str):
    """Paragraphs, also split inside a line before a marker or after a department note.

    Flattened web pages keep their items on one line separated by spaces; a split there is
    only provisional (``inline``) until the builder sees the numbering continue.
    """
    for line in _LINE.finditer(text):
        line_start, line_end = line.span()
        cuts = {line_start: False}
        for gap in _GAP.finditer(text, line_start, line_end):
            if gap.start() > line_start and gap.end() < line_end and MARKER.match(text, gap.end(), line_end):
                cuts[gap.end()] = True
        if "日" in line.group():
            for signed in _SIGNED_DATE.finditer(text, line_start, line_end):
                if signed.start() > line_start:
                    cuts.setdefault(signed.start(), True)
        if "部门" in line.group() or "单位" in line.group():
            for note in DEPARTMENT_NOTE.finditer(text, line_start, line_end):
                after = _GAP.match(text, note.end(), line_end)
                if after and after.end() < line_end:
                    cuts.setdefault(after.end(), True)
        positions = sorted(cuts)
        for index, start in enumerate(positions):
            end = positions[index + 1] if index + 1 < len(positions) else line_end
            start, end = _strip(text, start, end)
            block = _classify(text, _Block(start, end, inline=cuts[positions[index]])) if start < end else None
            if block is not None:
                yield block


def _classify(text: str, block: _Block) -> _Block | None:
    """Find the block's marker, if any; None for an empty markdown heading ("###")."""
    md = None if block.inline or text[block.start] != "#" else _MD.match(text, block.start, block.end)
    if md:
        block.hashes, block.start = len(md.group("hashes")), md.end()
        if block.start >= block.end:
            return None
    match = MARKER.match(text, block.start, block.end)
    if match is None:
        block.kind = "md" if md else None
        return block
    block.marker = match.group(0)
    kind = next(name for name, value in match.groupdict().items() if value is not None)
    if kind == "part":
        if not md and block.end - block.start > MAX_HEADING:
            return block
        block.part_kind = match.group("part_kind")
        block.number = numeral_value(match.group("part"))
    elif kind == "article":
        block.number = numeral_value(match.group("article"))
        sub = match.group("article_sub")
        block.sub = numeral_value(sub) if sub else None
    elif kind in _CHAR_BASE:
        kind, base = _CHAR_BASE[kind]
        block.number = ord(block.marker) - base + 1
    else:
        block.number = numeral_value(match.group(kind))
    block.kind = kind
    return block


class _Builder:
    """Walks the blocks once, keeping the open headings on a stack."""

    def __init__(self, text: str, article_mode: bool) -> None:
        self.text = text
        self.article_mode = article_mode
        self.stack: list[_Node] = []
        self.segments: list[Segment] = []
        self.loose: tuple[int, int] | None = None
        self.window_count = 0
        self.top_children = 0
        self.last_article = 0
        self.last_number: dict[float, int] = {}  # the last number opened at each rank
        self.closed = False  # the open leaf has ended (annotation, closing matter)

    def feed(self, block: _Block, following: _Block | None) -> None:
        rank = self._rank(block)
        if rank is not None and (not block.inline or self._continues(block, rank)):
            self._open(block, rank)
        else:
            self._body(block, following)

    def finish(self) -> None:
        self._flush_loose()
        while self.stack:
            self._close(self.stack.pop())

    def _rank(self, block: _Block) -> float | None:
        if block.kind == "part":
            return _PART_RANK[block.part_kind]
        if block.kind == "md":
            return _MD_RANK.get(block.hashes, 3.5)
        if block.kind == "article":
            return _ARTICLE_RANK if self.article_mode else None
        if block.kind is None:
            return None
        if not self.article_mode:
            return _OUTLINE_RANK[block.kind]
        if block.hashes:  # "## 一、附则" above the articles of a judicial interpretation
            return 4.0 + _OUTLINE_RANK[block.kind] / 10
        after_marker = block.start + len(block.marker)
        heading = block.end - block.start <= 30 and not _PUNCTUATION.search(self.text, after_marker, block.end)
        return 4.5 if block.kind == "cn" and heading else None  # else numbering inside an article

    def _continues(self, block: _Block, rank: float) -> bool:
        """An inline marker counts only where it continues the numbering, which plain text rarely does."""
        if block.kind == "article":
            return block.number == self.last_article + (0 if block.sub else 1)
        same = next((node for node in reversed(self.stack) if node.rank == rank), None)
        if same is not None:
            return block.number == same.block.number + 1
        if self.stack and rank <= self.stack[-1].rank:
            return False
        # a new level starts at 1, or carries on across sections ("一、… 4." then "二、 5.")
        return block.number in (1, self.last_number.get(rank, -1) + 1)

    def _open(self, block: _Block, rank: float) -> None:
        self._flush_loose()
        while self.stack and self.stack[-1].rank >= rank:
            self._close(self.stack.pop())
        parent = self.stack[-1] if self.stack else None
        if parent is not None:
            parent.children += 1
        else:
            self.top_children += 1
        ordinal = parent.children if parent else self.top_children
        label, extra = self._label(block)
        self.stack.append(
            _Node(
                block=block,
                rank=rank,
                label=label,
                path=(parent.path if parent else ()) + (label,),
                numbers=(parent.numbers if parent else ()) + (block.number if block.kind != "md" else ordinal,),
                own_end=block.end,
                end=block.end,
                extra=extra,
                noted=ends_with_department_note(self.text[block.start : block.end]),
            )
        )
        self.closed = False
        self.last_number[rank] = block.number
        if block.kind == "article":
            self.last_article = block.number

    def _label(self, block: _Block) -> tuple[str, bool]:
        """The path label, and whether the block holds more text than the label."""
        if block.kind == "article":
            return re.sub(r"\s+", "", block.marker), True
        raw = self.text[block.start : block.end]
        cut = None
        if block.kind not in ("part", "md"):
            cut = _LABEL_END.search(raw, len(block.marker) + 1)
        label = " ".join(raw[: cut.start() if cut else len(raw)].split())
        extra = cut is not None and raw[cut.end() :].strip() != ""
        return (label[:MAX_LABEL] + "…" if len(label) > MAX_LABEL else label), extra

    def _body(self, block: _Block, following: _Block | None) -> None:
        leaf = self.stack[-1] if self.stack and not self.closed else None
        if leaf is None or leaf.noted or self._closing(block, following):
            self.closed = bool(self.stack)
            self.loose = (self.loose[0] if self.loose else block.start, block.end)
            return
        leaf.own_end, leaf.extra = block.end, True
        leaf.end = max(leaf.end, block.end)
        leaf.noted = ends_with_department_note(self.text[block.start : block.end])

    def _closing(self, block: _Block, following: _Block | None) -> bool:
        """版记, dates, and a signature line just above a date end the body of a 公文."""
        line = self.text[block.start : block.end]
        if is_closing_line(line):
            return True
        if following is None or len(line) > 40 or _PUNCTUATION.search(line):
            return False
        return is_closing_line(self.text[following.start : following.end])

    def _close(self, node: _Node) -> None:
        if self.stack:
            parent = self.stack[-1]
            parent.end = max(parent.end, node.end)
            parent.longest_child = max(parent.longest_child, node.end - node.block.start)
        if not node.children or node.extra:  # else a heading line whose text lives in its children's paths
            self._leaf(node)
        self._group(node)

    def _leaf(self, node: _Node) -> None:
        start, end = node.block.start, node.own_end
        if node.block.kind == "article" and self.article_mode:
            anchor = f"a{node.block.number}" + (f"-{node.block.sub}" if node.block.sub else "")
            locator = node.label
        else:
            anchor = _outline_anchor(node)
            locator = node.block.marker or node.label
        departments = extract_departments(self.text[start:end])
        spans = _windows(self.text, start, end) if end - start > MAX_LEAF else [(start, end)]
        for index, (window_start, window_end) in enumerate(spans, 1):
            self.segments.append(
                Segment(
                    anchor=f"{anchor}.p{index}" if len(spans) > 1 else anchor,
                    locator=locator,
                    section_path=node.path,
                    start=window_start,
                    end=window_end,
                    text=self.text[window_start:window_end],
                    departments=departments,
                )
            )

    def _group(self, node: _Node) -> None:
        """Cite an outline item whole, with its sub-items, when they are several and short."""
        start, end = node.block.start, node.end
        if self.article_mode or node.children < 2 or node.block.kind in ("part", "md", "article") \
                or end - start > MAX_GROUP or node.longest_child > MAX_GROUPED_ITEM:
            return
        end = _strip(self.text, start, end)[1]
        self.segments.append(
            Segment(
                anchor=_outline_anchor(node) + ".all",
                locator=node.block.marker or node.label,
                section_path=node.path,
                start=start,
                end=end,
                text=self.text[start:end],
                departments=extract_departments(self.text[start:end]),
            )
        )

    def _flush_loose(self) -> None:
        if self.loose is None:
            return
        for start, end in _windows(self.text, *self.loose):
            self.window_count += 1
            window = self.text[start:end]
            self.segments.append(
                Segment(
                    anchor=f"p{self.window_count}",
                    locator="",
                    section_path=(),
                    start=start,
                    end=end,
                    text=window,
                    departments=extract_departments(window),
                )
            )
        self.loose = None


def _outline_anchor(node: _Node) -> str:
    """The anchor of an outline item from its numbers: 三、（四） -> ``s3.4``."""
    return "s" + ".".join(str(number) for number in node.numbers)


def _windows(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence-aligned windows of about TARGET_WINDOW, never over MAX_WINDOW, each running on
    into the next one's first sentence when it is short (see ``_overlap``)."""
    cuts = [match.end() for match in _SENTENCE_END.finditer(text, start, end)]
    bounds = [start] + [cut for cut in cuts if start < cut < end] + [end]
    windows: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    for piece_start, piece_end in pairwise(bounds):
        for part_start, part_end in _hard_split(text, piece_start, piece_end):
            if current is None:
                current = (part_start, part_end)
            elif part_end - current[0] <= TARGET_WINDOW or (
                current[1] - current[0] < TARGET_WINDOW // 2 and part_end - current[0] <= MAX_WINDOW
            ):
                current = (current[0], part_end)
            else:
                windows.append(current)
                current = (part_start, part_end)
    if current is not None:
        windows.append(current)
    windows = _overlap(text, windows)
    stripped = (_strip(text, window_start, window_end) for window_start, window_end in windows)
    return [(window_start, window_end) for window_start, window_end in stripped if window_start < window_end]


def _overlap(text: str, windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Let each window run on into the first sentence of the next, when that sentence is short.

    A passage that answers a question often ends one sentence after a window boundary
    (measured on the epidemic notices: 21 answers fell across two windows); repeating one
    short sentence keeps such answers whole in one citable passage.
    """
    extended = []
    for (start, end), (next_start, next_end) in pairwise(windows):
        cut = _SENTENCE_END.search(text, next_start, next_end)
        sentence_end = cut.end() if cut else next_end
        # never the whole next window (as cited: its trailing spaces stripped): that would cite
        # the same characters twice, once inside this one
        if (sentence_end < _strip(text, next_start, next_end)[1] and sentence_end - next_start <= OVERLAP_SENTENCE
                and sentence_end - start <= MAX_WINDOW):
            end = sentence_end
        extended.append((start, end))
    return extended + windows[-1:]


def _hard_split(text: str, start: int, end: int):
    """Cut a sentence longer than MAX_WINDOW after a comma where possible, else anywhere."""
    while end - start > MAX_WINDOW:
        soft = [m.end() for m in _SOFT_BREAK.finditer(text, start + MAX_WINDOW // 2, start + MAX_WINDOW)]
        cut = soft[-1] if soft else start + MAX_WINDOW
        yield start, cut
        start = cut
    yield start, end


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
