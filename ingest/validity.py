"""What a document says about its own validity: when it takes effect, until when, what it repeals.

These statements sit in the closing paragraphs of 公文 and regulations:
"本办法自2020年1月1日起施行", "自印发之日起施行", "有效期至2022年12月31日", "有效期3年",
"原《常熟市…办法》（常政发〔2015〕12号）同时废止". They become the metadata keys
``effective_date``, ``expiry_date`` and ``repeals`` that ``kb`` resolves into versions
and status.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from ingest.gongwen import DOC_NUMBER, parse_date, normalise_doc_number

#: "自2020年1月1日起施行" / "自二〇二〇年一月一日起实施" -> the date.
EFFECTIVE_ON = re.compile(r"自\s*(?P<date>[^，。；,;]{6,20}?日)\s*起\s*(?:施行|实施|执行|生效)")
#: "自发布之日起施行", "自印发之日起实施": effective on the document's own date.
EFFECTIVE_ON_ISSUE = re.compile(r"自\s*(?:公布|发布|印发|下发|签发)之日起\s*(?:施行|实施|执行|生效)")
#: "有效期至2022年12月31日" -> the date.
VALID_UNTIL = re.compile(r"有效期(?:至|到|截至)\s*(?P<date>[^，。；,;）)]{6,20}?日)")
#: "有效期3年" / "有效期为五年" -> the number of years.
VALID_FOR = re.compile(r"有效期(?:为|暂定)?\s*(?P<years>\d{1,2}|[一二三四五六七八九十])\s*年")
#: "原《X》（Y号）同时废止" / "《X》同时废止" / "…号）同时废止": the clause naming what is repealed.
REPEAL_CLAUSE = re.compile(r"(?P<clause>[^。；;]{0,200}?)(?:同时|即行|予以)?废止")
#: How far before its "废止" a repeal clause may start: the clause (200) and "同时"/"即行"/"予以" (2).
_REPEAL_REACH = 202
#: A title in book-title marks, e.g. "《常熟市住房公积金管理办法》".
QUOTED_TITLE = re.compile(r"《(?P<title>[^《》]{2,80})》")
_CHINESE_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九十")}
#: A validity period speaks of the document itself only in a sentence that names it ("本办法…有效期3年",
#: "以上政策有效期至…"); "居民身份证的有效期为十年" in a law's body is about a certificate, not the law.
SELF_REFERENCE = re.compile(r"本(?:办法|规定|通知|意见|细则|条例|方案|措施|政策|公告|决定|规则|制度|文件|实施意见|若干措施)"
                            r"|(?:上述|以上|此次|前述)(?:政策|措施|规定)")
#: Where a sentence ends, for finding the sentence a match stands in.
_SENTENCE_ENDS = "。；;！!？?\n"


@dataclass(frozen=True)
class ValidityStatements:
    effective_date: str | None
    expiry_date: str | None
    repeals: tuple[str, ...]


def _years(value: str) -> int:
    return int(value) if value.isdigit() else _CHINESE_DIGITS[value]


def _add_years(iso: str, years: int) -> str:
    year, rest = iso[:4], iso[4:]
    if rest == "-02-29":
        rest = "-02-28"
    return f"{int(year) + years:04d}{rest}"


def _own(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """The first match of ``pattern`` whose sentence names the document itself (:data:`SELF_REFERENCE`)."""
    for match in pattern.finditer(text):
        sentence_start = max(text.rfind(end, 0, match.start()) for end in _SENTENCE_ENDS) + 1
        if SELF_REFERENCE.search(text, sentence_start, match.end()):
            return match
    return None


def _repeal_clauses(text: str) -> Iterator[re.Match[str]]:
    """``REPEAL_CLAUSE.finditer(text)``, the same matches, without trying every position.

    The pattern starts with a lazy run of up to 200 characters, so ``finditer`` tries that
    run at every character of a text that may hold no "废止" at all: a quarter of the
    parsing time of the whole law corpus. A match ends with a "废止" at most
    ``_REPEAL_REACH`` characters after its start, so no match can start more than that
    before the next "废止"; searching from there finds the same leftmost match.
    """
    position = 0
    while (found := text.find("废止", position)) >= 0:
        match = REPEAL_CLAUSE.search(text, max(position, found - _REPEAL_REACH))
        if match is None:  # cannot happen (an empty clause before "废止" matches); kept safe
            return
        yield match
        position = match.end()


def read_validity(text: str, *, issued: str | None = None) -> ValidityStatements:
    """The validity statements of a cleaned document text; ``issued`` is its own date (ISO)."""
    effective = None
    if match := EFFECTIVE_ON.search(text):
        effective = parse_date(match.group("date"))
    elif EFFECTIVE_ON_ISSUE.search(text):
        effective = issued
    expiry = None
    if match := _own(VALID_UNTIL, text):
        expiry = parse_date(match.group("date"))
    elif (match := _own(VALID_FOR, text)) and (effective or issued):
        expiry = _add_years(effective or issued or "", _years(match.group("years")))
    repeals: list[str] = []
    for clause in _repeal_clauses(text):
        body = clause.group("clause")
        if "废止" in body[-2:] or not ("《" in body or "号" in body):
            continue
        for number in DOC_NUMBER.finditer(body):
            repeals.append(normalise_doc_number(number.group(0)))
        repeals.extend(t.group("title") for t in QUOTED_TITLE.finditer(body))
    return ValidityStatements(effective, expiry, tuple(dict.fromkeys(repeals)))
