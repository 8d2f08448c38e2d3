"""Repair the damage PDF extraction does to Chinese text, and nothing more.

Page and column breaks cut words in two ("12345平台“一" / "号答”"), extraction puts
spaces around numbers ("常熟市 2019 年"), and web copies carry zero-width and bidi
controls. Each of these breaks exact-phrase search and citation snippets. Everything
else is kept as written: no NFKC, no traditional->simplified (matching normalises for
itself; a citation shows what the document says).
"""

from __future__ import annotations

import re

from ingest.gongwen import TITLE_ENDING, is_closing_line
from ingest.structure import starts_with_marker

__all__ = ["clean_text"]

#: Zero-width characters and bidi controls: invisible, but they split words for search.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u202a-\u202e\u2066-\u2069]")
#: Any line break other than "\n": "\r\n", "\r", form feed (a PDF page break), U+2028/U+2029.
_LINE_BREAK = re.compile("\r\n?|[\f\v\u2028\u2029]")
#: Whitespace at the end of a line.
_TRAILING_SPACE = re.compile(r"[^\S\n]+$", re.MULTILINE)
#: A page-number line left between pages: "- 2 -", "— 12 —", "第 3 页".
_PAGE_NUMBER = re.compile(
    r"^[^\S\n]*(?:[-—－–]\s*\d{1,3}\s*[-—－–]|第\s*\d{1,3}\s*页(?:\s*[,，/]?\s*共\s*\d{1,3}\s*页)?)[^\S\n]*$",
    re.MULTILINE,
)
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
#: A number as extraction spaces it out: "2019", "9", "1.5", "80%".
_NUMBER = r"\d+(?:[.,]\d+)*%?"
#: What follows a number in running text, so that the space before it is an artifact:
#: "年" in "2019 年", "类" in "9 类信息", "小时" in "24 小时". Characters that are also
#: surnames (万 余 张 周) count only before another unit: flattened tables put numbers
#: before names ("13 万普蓉") and those spaces separate cells.
_UNIT = (
    r"(?:[年月日号时分秒个项条款类岁元倍次件辆天家名位所批届%％]|小时|公里|吨|亩|周[年岁]"
    r"|[万亿余](?=[元人户名个家件亩吨千])|人(?![民力事大]))"
)
#: A Latin word or code between Chinese characters: "LPR", "APP", "COVID-19".
_LATIN = r"[A-Za-z][A-Za-z0-9+/_-]*[A-Za-z0-9]|[A-Za-z]"
#: Extraction spaces on both sides of a number: "常熟市 2019 年" -> "常熟市2019年", "等 9 类".
_SPACED_NUMBER = re.compile(rf"(?<=[{_CJK}]) +({_NUMBER}) +(?={_UNIT})")
#: An extraction space between a number and its unit: "常熟市2019 年" -> "常熟市2019年".
#: A space only before a number is kept: in "督导检查 2020年2月4日" it separates a title from a date.
_NUMBER_SPACE = re.compile(rf"(?<![\d.,A-Za-z])({_NUMBER}) +(?={_UNIT})")
#: Extraction spaces around a Latin word: "通过 LPR 降低" -> "通过LPR降低".
_SPACED_LATIN = re.compile(rf"(?<=[{_CJK}]) +({_LATIN}) +(?=[{_CJK}])")
#: Punctuation that ends a paragraph: after it a line break is a real paragraph break.
_FINAL = set("。！？；：!?;:…")
_CLOSING_BRACKETS = set("）)】]")
_CLOSING_QUOTES = set("”’」』")
#: Sentence punctuation inside a line: a line without any is a header, title or signature.
_PUNCTUATION = re.compile(r"[。，；：！？,;:!?]")
#: Lines without punctuation shorter than this are headers, titles or signatures, never cut text.
MAX_HEADER = 60
#: Titles may be longer, when they end like one ("…的通知").
MAX_TITLE = 120


def clean_text(text: str) -> str:
    """Repair PDF-extraction damage: invisible characters, line breaks, number spacing, split words."""
    text = _INVISIBLE.sub("", text)
    text = _LINE_BREAK.sub("\n", text)
    text = _TRAILING_SPACE.sub("", text)
    text = _PAGE_NUMBER.sub("", text)
    text = _SPACED_NUMBER.sub(r"\1", text)
    text = _NUMBER_SPACE.sub(r"\1", text)
    text = _SPACED_LATIN.sub(r"\1", text)
    text = _rejoin(text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _rejoin(text: str) -> str:
    """Join paragraphs that a page or column break cut in the middle of a sentence."""
    lines: list[str] = []
    last = -1  # index in ``lines`` of the last non-blank line
    for line in text.split("\n"):
        if not line.strip():
            lines.append("")
            continue
        if last >= 0 and _continues(lines[last], line):
            joiner = (
                " " if lines[last][-1].isascii() and lines[last][-1].isalnum() and line.lstrip()[0].isascii() else ""
            )
            lines[last] += joiner + line.lstrip()
            del lines[last + 1 :]
        else:
            lines.append(line)
            last = len(lines) - 1
    return "\n".join(lines)


def _continues(previous: str, line: str) -> bool:
    """Whether ``line`` carries on the sentence that ``previous`` left unfinished."""
    previous = previous.strip()
    if _ends_paragraph(previous) or _is_header(previous) or _is_markup(previous) or _is_markup(line):
        return False
    return not (starts_with_marker(line) or is_closing_line(line))


def _is_markup(line: str) -> bool:
    """Markdown table rows and HTML comments are laid out line by line on purpose."""
    line = line.strip()
    return line.startswith(("|", "<!--")) or line.endswith(("|", "-->"))


def _ends_paragraph(line: str) -> bool:
    last = line[-1]
    if last in _FINAL or last in _CLOSING_BRACKETS:  # "（责任部门：财政局）" closes an item
        return True
    return last in _CLOSING_QUOTES and len(line) > 1 and line[-2] in _FINAL


def _is_header(line: str) -> bool:
    """A header, 文号, title or signature line: short or title-shaped, without sentence punctuation."""
    if line.startswith("#"):
        return True
    if _PUNCTUATION.search(line):
        return False
    if "、" in line:  # "关于做好春运、复工工作的通知" is a title; other lines with 、 are lists
        return len(line) <= MAX_TITLE and TITLE_ENDING.search(line) is not None
    return len(line) < MAX_HEADER or TITLE_ENDING.search(line) is not None
