"""Word's automatic numbering, rendered as the reader of the document sees it.

In a 公文 typed in Word, "一、" and "（一）" are often not characters in the text at all:
they are list numbering (``w:numPr`` on the paragraph or its style, defined in
``numbering.xml``). Without them a 一、 heading is indistinguishable from body text and
the structure (and every ``s3.4`` anchor) is lost, so the counters are replayed here in
document order, the way Word does: per list, a level restarts when a higher level
advances, ``lvlText`` ("%1、", "（%2）", "%1.%2") says how to show them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from xml.etree.ElementTree import Element

__all__ = ["ListNumbering", "format_number"]

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
LEVELS = 9
_CN_DIGITS = "〇一二三四五六七八九"  # digit by digit, as in years: 二〇一九
_COUNTING_DIGITS = "零一二三四五六七八九"  # counting, as in 一百零五
_LEGAL_SIMPLIFIED = "零壹贰叁肆伍陆柒捌玖"
_LEGAL_TRADITIONAL = "零壹貳參肆伍陸柒捌玖"
_IDEOGRAPH_TRADITIONAL = "甲乙丙丁戊己庚辛壬癸"
_IDEOGRAPH_ZODIAC = "子丑寅卯辰巳午未申酉戌亥"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_PARENTHESISED = "⑴⑵⑶⑷⑸⑹⑺⑻⑼⑽⑾⑿⒀⒁⒂⒃⒄⒅⒆⒇"
_FULL_STOP = "⒈⒉⒊⒋⒌⒍⒎⒏⒐⒑⒒⒓⒔⒕⒖⒗⒘⒙⒚⒛"
_ROMAN = ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"),
          (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
#: A label ending in full-width punctuation needs no space before the text: "一、", "（一）", "1．";
#: "1." and "(a)" get one, as Word's tab after the number shows.
_TIGHT_END = set("、）】．。，：")


def _chinese(n: int, digits: str = _COUNTING_DIGITS, units: str = "十百千") -> str:
    """1 -> 一, 10 -> 十, 11 -> 十一, 20 -> 二十, 105 -> 一百零五 (as chineseCounting shows them)."""
    if n <= 0 or n >= 10000:
        return str(n)
    parts: list[str] = []
    zero = False
    for power, unit in ((1000, units[2]), (100, units[1]), (10, units[0]), (1, "")):
        digit = n // power % 10
        if digit == 0:
            zero = bool(parts)
            continue
        if zero:
            parts.append(digits[0])
            zero = False
        parts.append(("" if digit == 1 and power == 10 and n < 20 else digits[digit]) + unit)
    return "".join(parts)


def _roman(n: int) -> str:
    out = []
    for value, numeral in _ROMAN:
        count, n = divmod(n, value)
        out.append(numeral * count)
    return "".join(out)


def _from(table: str, n: int) -> str:
    return table[n - 1] if 1 <= n <= len(table) else str(n)


_FORMATS: dict[str, Callable[[int], str]] = {
    "decimal": str,
    "decimalZero": lambda n: f"{n:02d}",
    "decimalFullWidth": lambda n: str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    "decimalEnclosedCircle": lambda n: _from(_CIRCLED, n),
    "decimalEnclosedCircleChinese": lambda n: _from(_CIRCLED, n),
    "decimalEnclosedParen": lambda n: _from(_PARENTHESISED, n),
    "decimalEnclosedFullstop": lambda n: _from(_FULL_STOP, n),
    "chineseCounting": _chinese,
    "chineseCountingThousand": _chinese,
    "taiwaneseCounting": _chinese,
    "taiwaneseCountingThousand": _chinese,
    "japaneseCounting": _chinese,
    "ideographDigital": lambda n: "".join(_CN_DIGITS[int(d)] for d in str(n)),
    "chineseLegalSimplified": lambda n: _chinese(n, _LEGAL_SIMPLIFIED, "拾佰仟"),
    "ideographLegalTraditional": lambda n: _chinese(n, _LEGAL_TRADITIONAL, "拾佰仟"),
    "ideographTraditional": lambda n: _IDEOGRAPH_TRADITIONAL[(n - 1) % 10],
    "ideographZodiac": lambda n: _IDEOGRAPH_ZODIAC[(n - 1) % 12],
    "upperLetter": lambda n: chr(ord("A") + (n - 1) % 26) * ((n - 1) // 26 + 1),
    "lowerLetter": lambda n: chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1),
    "upperRoman": _roman,
    "lowerRoman": lambda n: _roman(n).lower(),
    "bullet": lambda n: "",
    "none": lambda n: "",
}


def format_number(value: int, number_format: str) -> str:
    """``value`` in a ``w:numFmt`` format: (3, "chineseCounting") -> "三"; unknown formats as decimal."""
    formatter: Callable[[int], str] = _FORMATS.get(number_format, str)
    return formatter(value)


@dataclass(frozen=True)
class _Level:
    number_format: str = "decimal"
    text: str = ""
    start: int = 1
    restart: int | None = None  # restart when a level below this one advances; None: any higher level
    legal: bool = False  # w:isLgl: show every level's number as decimal
    tight: bool = False  # w:suff="nothing"
    style: str | None = None


def _val(element: Element | None, name: str = "val") -> str | None:
    return None if element is None else element.get(W + name)


def _parse_level(lvl: Element) -> _Level:
    start, restart = _val(lvl.find(W + "start")), _val(lvl.find(W + "lvlRestart"))
    return _Level(
        number_format=_val(lvl.find(W + "numFmt")) or "decimal",
        text=_val(lvl.find(W + "lvlText")) or "",
        start=int(start) if start and start.lstrip("-").isdigit() else 1,
        restart=int(restart) if restart and restart.isdigit() else None,
        legal=lvl.find(W + "isLgl") is not None and _val(lvl.find(W + "isLgl")) not in ("0", "false"),
        tight=_val(lvl.find(W + "suff")) == "nothing",
        style=_val(lvl.find(W + "pStyle")),
    )


class ListNumbering:
    """The numbering of one document, replayed paragraph by paragraph (call in document order)."""

    def __init__(self, numbering: Element | None, styles: Element | None) -> None:
        self._abstract: dict[str, dict[int, _Level]] = {}
        self._style_links: dict[str, str] = {}  # abstractNumId -> numbering style it points to
        self._nums: dict[str, tuple[str, dict[int, int]]] = {}
        for abstract in numbering.iter(W + "abstractNum") if numbering is not None else ():
            key = _val(abstract, "abstractNumId") or ""
            levels = {int(_val(lvl, "ilvl") or 0): _parse_level(lvl) for lvl in abstract.iter(W + "lvl")}
            self._abstract[key] = levels
            if (link := _val(abstract.find(W + "numStyleLink"))) is not None:
                self._style_links[key] = link
        for num in numbering.iter(W + "num") if numbering is not None else ():
            overrides = {}
            for override in num.iter(W + "lvlOverride"):
                if (start := _val(override.find(W + "startOverride"))) is not None and start.isdigit():
                    overrides[int(_val(override, "ilvl") or 0)] = int(start)
            self._nums[_val(num, "numId") or ""] = (_val(num.find(W + "abstractNumId")) or "", overrides)
        self._styles = self._style_numbering(styles)
        self._counters: dict[str, list[int | None]] = {}

    @staticmethod
    def _style_numbering(styles: Element | None) -> dict[str, tuple[str | None, int | None]]:
        """numId and ilvl each paragraph style gives its paragraphs, following ``basedOn``."""
        own: dict[str, tuple[str | None, int | None]] = {}
        based_on: dict[str, str] = {}
        for style in styles.iter(W + "style") if styles is not None else ():
            style_id = _val(style, "styleId") or ""
            if (parent := _val(style.find(W + "basedOn"))) is not None:
                based_on[style_id] = parent
            num_pr = style.find(f"{W}pPr/{W}numPr")
            if num_pr is not None:
                ilvl = _val(num_pr.find(W + "ilvl"))
                own[style_id] = (_val(num_pr.find(W + "numId")), int(ilvl) if ilvl and ilvl.isdigit() else None)
        resolved = {}
        for style_id in set(own) | set(based_on):
            seen, current = set(), style_id
            while current not in own and current in based_on and current not in seen:
                seen.add(current)
                current = based_on[current]
            if current in own:
                resolved[style_id] = own[current]
        return resolved

    def label(self, paragraph: Element) -> str:
        """The number Word shows before ``paragraph`` plus its separator ("三、", "1. "), or ""."""
        style = _val(paragraph.find(f"{W}pPr/{W}pStyle"))
        num_id, ilvl = self._styles.get(style or "", (None, None))
        num_pr = paragraph.find(f"{W}pPr/{W}numPr")
        if num_pr is not None:
            num_id = _val(num_pr.find(W + "numId")) or num_id
            own_level = _val(num_pr.find(W + "ilvl"))
            ilvl = int(own_level) if own_level and own_level.isdigit() else ilvl
        if not num_id or num_id == "0" or num_id not in self._nums:
            return ""
        abstract_id, overrides = self._nums[num_id]
        abstract_id = self._resolve_link(abstract_id)
        levels = self._abstract.get(abstract_id, {})
        if ilvl is None:
            ilvl = next((n for n, level in levels.items() if style and level.style == style), 0)
        if ilvl not in levels or ilvl >= LEVELS:
            return ""
        key = f"num:{num_id}" if overrides else f"abstract:{abstract_id}"
        counters = self._counters.setdefault(key, [None] * LEVELS)
        start = {n: overrides.get(n, level.start) for n, level in levels.items()}
        current = counters[ilvl]
        counters[ilvl] = start[ilvl] if current is None else current + 1
        for deeper in range(ilvl + 1, LEVELS):
            restart = levels[deeper].restart if deeper in levels else None
            if restart is None or (restart != 0 and ilvl < restart):  # 0: never restarts
                counters[deeper] = None
        return self._render(levels, ilvl, counters, start)

    def _resolve_link(self, abstract_id: str) -> str:
        """An abstractNum that only points to a numbering style takes that style's definition."""
        link = self._style_links.get(abstract_id)
        if link is None:
            return abstract_id
        num_id, _ = self._styles.get(link, (None, None))
        target = self._nums.get(num_id or "", ("", {}))[0]
        return target if target and target not in self._style_links else abstract_id

    @staticmethod
    def _render(levels: dict[int, _Level], ilvl: int, counters: list[int | None], start: dict[int, int]) -> str:
        level = levels[ilvl]
        if level.number_format == "bullet":  # a symbol-font glyph, not a number anyone cites
            return ""
        text = level.text
        for n in range(1, LEVELS + 1):  # "%1" .. "%9": the counters of levels 0 .. 8
            if f"%{n}" not in text:
                continue
            source = levels.get(n - 1, _Level())
            counter = counters[n - 1]
            value = counter if counter is not None else start.get(n - 1, 1)
            shown = str(value) if level.legal else format_number(value, source.number_format)
            text = text.replace(f"%{n}", shown)
        text = text.strip()
        if not text:
            return ""
        return text if level.tight or text[-1] in _TIGHT_END else text + " "
