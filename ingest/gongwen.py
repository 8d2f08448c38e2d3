"""公文 conventions: the metadata a government document carries in fixed places.

GB/T 9704 puts the 发文机关标志 ("…文件") and the 发文字号 at the top, the 标题
under them, the 成文日期 after the signature, and the 版记 (抄送, 印发机关和印发日期)
at the very end. Reading those places by rule is cheap and exact where a model would
be neither. The Chinese numerals of dates and of the 一、（一） numbering live here too,
because they are part of the same conventions and both dates and structure need them.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

__all__ = [
    "DATE",
    "DOC_NUMBER",
    "GongwenMetadata",
    "extract_metadata",
    "is_closing_line",
    "normalise_doc_number",
    "numeral_value",
    "parse_date",
]

_DIGITS = dict(zip("〇一二三四五六七八九", range(10), strict=True)) | {"○": 0, "零": 0, "Ｏ": 0, "两": 2}
_UNITS = {"十": 10, "百": 100, "千": 1000}

#: A number as it appears in 第X条, 一、 or dates: "五十四", "一百零五", "二〇一九", "12".
NUMERAL = r"[〇○零Ｏ一二两三四五六七八九十百千\d]+"

#: A date as written in Chinese: "2019年11月1日", "二〇一九年十一月一日", "2019 年 11 月 1 日".
DATE = re.compile(
    r"(?P<year>\d{4}|[〇○零Ｏ一二三四五六七八九]{4})\s*年\s*"
    r"(?P<month>\d{1,2}|[一二三四五六七八九十]{1,2})\s*月\s*"
    r"(?P<day>\d{1,2}|[一二三四五六七八九十]{1,3})\s*日"
)
#: A numeric date: "2020-05-14", "2020.5.14", "2020/05/14".
_ISO_DATE = re.compile(r"(?P<year>\d{4})[-./](?P<month>\d{1,2})[-./](?P<day>\d{1,2})")

#: A 发文字号 in any bracket style: "常政办发〔2019〕143号", "京政办发[2020]7号",
#: "苏政办发【2019】56号", "国发（2020）5号".
DOC_NUMBER = re.compile(
    r"(?P<prefix>[\u4e00-\u9fff]{1,12}?)\s*[〔\[【（(［〈]\s*(?P<year>(?:19|20|１９|２０)\d{2})\s*[〕\]】）)］〉]"
    r"\s*(?P<seq>第?\d{1,5})\s*号"
)
#: The 发文机关标志 line: "常熟市人民政府办公室文件".
_ISSUER_HEAD = re.compile(r"(?P<issuer>\S.{1,40}?)\s*文\s*件")
#: A standalone date, the 成文日期 under the signature: "2019年11月1日".
_DATE_UNIT = re.compile(r"(?<!\S)" + DATE.pattern + r"(?!\S)")
#: The date of the 印发 line of the 版记: "2019年11月1日印发".
_PRINTED = re.compile(DATE.pattern + r"\s*印\s*发(?!\S)")
#: The whole 印发 line, 印发机关 first: "常熟市人民政府办公室 2019年11月1日印发".
_PRINTED_LINE = re.compile(r"(?:[^\s\d]{2,40}\s*)?" + _PRINTED.pattern)
#: A signature and date on one line, as flattened pages have it: "国家卫生健康委 2020年1月25日".
_SIGNED_LINE = re.compile(r"[^\s\d。，；：！？,;:]{2,40}\s+" + DATE.pattern)
#: The 抄送 line of the 版记: "抄送：市委各部门，市人大办、市政协办。".
_CC = re.compile(r"(?:^|(?<=\s))抄\s*送\s*[：:]\s*(?P<cc>[^\n]+)", re.MULTILINE)
#: The 公开属性 mark: "（此件公开发布）", "（此件依申请公开）", "(此件不予公开)".
_PUBLICITY = re.compile(r"[（(]\s*(?P<value>此件[^（）()\n]{2,12}?)\s*[）)]")
#: The same as a labelled field: "公开属性：主动公开".
_PUBLICITY_FIELD = re.compile(r"公开(?:属性|方式|类型)\s*[：:]\s*(?P<value>[^\s，。；,;]{2,10})")
#: The words a 公文 title ends with, optionally followed by "（试行）": "…的通知", "…工作要点".
TITLE_ENDING = re.compile(
    r"(?:通知|意见|决定|办法|规定|方案|要点|公告|通告|通报|批复|复函|函|报告|细则|条例|规则|规划|纲要|"
    r"措施|指南|指引|计划|决议|命令|令|章程|标准|清单|目录|说明|解释|答复|公报)"
    r"(?:[（(][^（）()]{1,8}[）)])?$"
)
#: 印发/转发 of another document: "关于印发《常熟市2019年政务公开工作要点》的通知".
_ATTACHED = re.compile(r"(?:印发|转发|颁发|发布|公布)[^《》]{0,20}《(?P<title>[^《》]+)》")
#: Sentence punctuation: a line with none of it is a header, a title or a signature.
_SENTENCE_PUNCT = re.compile(r"[。，；：！？,;!?]")
#: 版记 lines that end a document's body: "抄送：…", "主题词：…".
_CLOSING_PREFIX = re.compile(r"(?:抄\s*送|主\s*题\s*词)\s*[：:]")

HEAD_UNITS = 12
MAX_TITLE = 120


@dataclass(frozen=True)
class GongwenMetadata:
    """What a 公文 says about itself; every field is None when the text does not say it."""

    issuer: str | None = None
    doc_number: str | None = None
    title: str | None = None
    attached_title: str | None = None
    signed_date: str | None = None
    printed_date: str | None = None
    publicity: str | None = None
    cc: str | None = None


def numeral_value(numeral: str) -> int:
    """The value of a Chinese or Arabic numeral: "五十四" -> 54, "二〇一九" -> 2019, "１２" -> 12."""
    if numeral.isdigit():
        return int(numeral)
    if not any(ch in _UNITS for ch in numeral):  # digit by digit, as in years
        return int("".join(str(_digit(ch)) for ch in numeral))
    total = current = 0
    for ch in numeral:
        if ch in _UNITS:
            total += (current or 1) * _UNITS[ch]
            current = 0
        else:
            current = _digit(ch)
    return total + current


def _digit(ch: str) -> int:
    return _DIGITS[ch] if ch in _DIGITS else int(ch)


def parse_date(text: str) -> str | None:
    """The first date in ``text`` as ISO ``YYYY-MM-DD``; None when there is no valid one."""
    match = DATE.search(text) or _ISO_DATE.search(text)
    if match is None:
        return None
    try:
        day = datetime.date(*(numeral_value(match.group(part)) for part in ("year", "month", "day")))
    except ValueError:
        return None
    return day.isoformat()


def normalise_doc_number(text: str) -> str:
    """The first 发文字号 in ``text`` with 〔〕 brackets: "京政办发[2020]7号" -> "京政办发〔2020〕7号".

    Raises ValueError when ``text`` contains no 发文字号.
    """
    match = DOC_NUMBER.search(text)
    if match is None:
        raise ValueError(f"no 发文字号 in {text!r}")
    return _canonical(match)


def is_closing_line(line: str) -> bool:
    """Whether a paragraph belongs to the end matter: a date line, 印发, 抄送 or 公开属性."""
    line = line.strip()
    if len(line) > 200:
        return False
    return bool(
        DATE.fullmatch(line)
        or _SIGNED_LINE.fullmatch(line)
        or _PRINTED_LINE.fullmatch(line)
        or _CLOSING_PREFIX.match(line)
        or _PUBLICITY.fullmatch(line)
    )


def extract_metadata(text: str) -> GongwenMetadata:
    """Read the 公文 fields of a cleaned text by the positions GB/T 9704 gives them."""
    head = _head_units(text)
    issuer = next((m.group("issuer") for u in head[:3] if (m := _ISSUER_HEAD.fullmatch(u))), None)
    doc_number, at = None, len(head)
    for index, unit in enumerate(head):
        match = DOC_NUMBER.match(unit)
        if match and (match.end() == len(unit) or unit[match.end()].isspace()):
            doc_number, at = _canonical(match), index
            break
    # GB/T 9704 puts the title under the 文号; web copies often put it above
    title = _title(head[at + 1 :]) or _title(head[:at])
    attached = _ATTACHED.search(title) if title else None
    signed_date, signature = _signed(text)
    matches = list(_PRINTED.finditer(text))
    printed = matches[-1] if matches else None  # the 版记 is at the end: keep the last one
    printed_by = _unit_before(text, printed.start()) if printed else None
    return GongwenMetadata(
        issuer=issuer or signature or printed_by,
        doc_number=doc_number,
        title=title,
        attached_title=attached.group("title") if attached else None,
        signed_date=signed_date,
        printed_date=parse_date(printed.group(0)) if printed else None,
        publicity=_publicity(text),
        cc=_cc(text),
    )


def _canonical(match: re.Match[str]) -> str:
    seq = match.group("seq").translate(_FULLWIDTH_DIGITS)
    return f"{match.group('prefix')}〔{match.group('year').translate(_FULLWIDTH_DIGITS)}〕{seq}号"


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _head_units(text: str) -> list[str]:
    """The first lines, with long lines (flattened web pages) cut at whitespace runs."""
    units: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        units.extend(re.split(r"\s+", line) if len(line) > 80 else [line])
        if len(units) >= HEAD_UNITS:
            break
    return units[:HEAD_UNITS]


def _title(units: list[str]) -> str | None:
    """The first unit, or two adjacent units (a title wrapped over two lines), that reads as a title."""
    for index, unit in enumerate(units):
        if "。" in unit or unit.endswith(("：", ":")):
            return None  # the 主送 line or the body: the title comes before them
        if _ISSUER_HEAD.fullmatch(unit):
            continue
        candidates = [unit]
        if index + 1 < len(units) and not _SENTENCE_PUNCT.search(unit):
            candidates.append(unit + units[index + 1])
        for candidate in candidates:
            if 4 <= len(candidate) <= MAX_TITLE and TITLE_ENDING.search(candidate) and "。" not in candidate:
                return candidate
    return None


def _signed(text: str) -> tuple[str | None, str | None]:
    """The 成文日期 (the first standalone date) and the signature just before it."""
    for match in _DATE_UNIT.finditer(text):
        date = parse_date(match.group(0))
        if date is None:
            continue
        return date, _unit_before(text, match.start())
    return None, None


def _unit_before(text: str, position: int) -> str | None:
    """The line or whitespace-delimited unit before ``position`` when it reads as a signature."""
    before = text[max(0, position - 60) : position].rstrip()
    unit = re.split(r"\s", before)[-1] if before else ""
    if not 2 <= len(unit) <= 40 or _SENTENCE_PUNCT.search(unit) or DATE.search(unit):
        return None
    return None if unit.startswith(("（", "(", "#")) else unit


def _publicity(text: str) -> str | None:
    match = _PUBLICITY.search(text) or _PUBLICITY_FIELD.search(text)
    return match.group("value") if match else None


def _cc(text: str) -> str | None:
    match = _CC.search(text)
    if match is None:
        return None
    value = re.split(r"\s", match.group("cc").strip())[0].rstrip("。.")
    return value or None
