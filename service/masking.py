"""Personal numbers out of free text, before anything is stored or logged.

Callers tell a hotline who they are: ``我身份证110105194912310021，手机138 1234 5678，能办吗``. Such
text is searched as it came, but only its masked form may be written anywhere (PIPL; RELIABILITY
I9). :func:`mask` replaces, with a typed placeholder:

* 身份证号: 18 characters whose ISO 7064 MOD 11-2 check character is right (GB 11643), and the
  old 15-digit form (region code, a valid YYMMDD birth date, sequence number);
* 银行卡号: 16 to 19 digits passing the Luhn check;
* 手机号: mainland mobiles, 11 digits starting 1[3-9], with or without +86/0086;
* e-mail addresses.

Numbers may be written with spaces or dashes between groups (``6222 0212 3456 7890 123``,
``138-1234-5678``) and in full-width digits; invisible characters are removed first, so a
zero-width space cannot hide a number. What is not personal stays: 文号 (常政办发〔2019〕143号),
article numbers (第十二条, 第12条), dates (2019-11-01), money (5000元, 1,200.50元). A check digit
is what tells a card from any other long number, so a card number that fails it is kept. An
18-digit number that fails the ID check but has an ID's shape (a region code, then a real
birth date) is masked all the same: a mistyped or invented ID is still someone's.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

ID_CARD = "[身份证号]"
MOBILE = "[手机号]"
BANK_CARD = "[银行卡号]"
EMAIL = "[邮箱]"

#: Full-width ASCII (！ to ～) and the ideographic space, mapped one character to one character,
#: so positions found in the mapped text are positions in the original.
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
#: e.g. zhang.san+1@example.com.cn
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
#: A chain of digit groups joined by one space or dash: "138 1234 5678", "6222-0212-3456-7890-123",
#: "11010519491231002X"; not touching other digits or letters of a longer token.
_CHAIN = re.compile(r"(?<![0-9])[0-9]+(?:[ \-][0-9]+)*[Xx]?(?![0-9])")
_GROUP = re.compile(r"[0-9]+[Xx]?")
#: A mobile with its optional country code, as the digits of a chain: 8613812345678, 13812345678.
_MOBILE_DIGITS = re.compile(r"(?:0086|86)?1[3-9][0-9]{9}")
_ID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_ID_CHECK = "10X98765432"
#: Groups shorter than this cannot sit inside a written-out number ("2019-11-01 2020" is dates).
_MIN_INNER_GROUP = 3
#: "+86 138 1234 5678": the country code is the one short group a number may start with.
_COUNTRY_CODES = ("86", "0086")
#: The longest a personal number can be written: a 19-digit card (a mobile with 0086 is 15).
_MAX_DIGITS = 19


def mask(text: str) -> str:
    """``text`` with every 身份证号, 银行卡号, 手机号 and e-mail address replaced by a placeholder.

    Invisible characters (Unicode format characters such as zero-width spaces and bidi
    controls) are removed as well: they carry nothing a reader needs and could split a number.
    """
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    plain = text.translate(_HALF_WIDTH)
    spans = [(m.start(), m.end(), EMAIL) for m in _EMAIL.finditer(plain)]
    for match in _CHAIN.finditer(plain):
        if not any(start < match.end() and match.start() < end for start, end, _ in spans):
            spans += _number_spans(plain, match.start(), match.group())
    for start, end, label in sorted(spans, reverse=True):
        text = text[:start] + label + text[end:]
    return text


def _number_spans(text: str, offset: int, chain: str) -> list[tuple[int, int, str]]:
    """The personal numbers in one chain of digit groups, longest first from the left."""
    groups = [(offset + m.start(), offset + m.end(), m.group()) for m in _GROUP.finditer(chain)]
    found = []
    i = 0
    while i < len(groups):
        last, digits = i, 0  # no personal number is longer than _MAX_DIGITS: bounds the work on long chains
        while last < len(groups) and digits + len(groups[last][2]) <= _MAX_DIGITS:
            digits += len(groups[last][2])
            last += 1
        for j in range(last - 1, i - 1, -1):
            parts = [group for _, _, group in groups[i:j + 1]]
            inner = parts[1:-1] if parts[0] in _COUNTRY_CODES else parts[:-1]
            if any(len(part) < _MIN_INNER_GROUP or part[-1] in "Xx" for part in inner):
                continue
            label = _kind("".join(parts))
            if label:
                start = groups[i][0]
                if label == MOBILE and start > 0 and text[start - 1] == "+":
                    start -= 1
                found.append((start, groups[j][1], label))
                i = j
                break
        i += 1
    return found


def _kind(digits: str) -> str | None:
    """Which placeholder a run of digits (spaces and dashes removed) needs, if any."""
    if len(digits) == 18 and (is_id_card(digits) or _id_shaped(digits)):
        return ID_CARD
    if digits[-1] in "Xx":
        return None
    if len(digits) == 15 and is_old_id_card(digits):
        return ID_CARD
    if 16 <= len(digits) <= 19 and luhn_valid(digits):
        return BANK_CARD
    if _MOBILE_DIGITS.fullmatch(digits):
        return MOBILE
    return None


def is_id_card(number: str) -> bool:
    """An 18-character 身份证号 whose last character is its ISO 7064 MOD 11-2 check (GB 11643)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == number[17].upper()


def _id_shaped(number: str) -> bool:
    """Region code first (1-8), a birth date from 1900 to today in characters 7-14."""
    if not number[:17].isdigit() or number[0] not in "12345678":
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def is_old_id_card(number: str) -> bool:
    """A 15-digit 身份证号 of the first generation: region code (1-8…), YYMMDD birth date, sequence."""
    if len(number) != 15 or not number.isdigit() or number[0] not in "12345678":
        return False
    try:
        date(1900 + int(number[6:8]), int(number[8:10]), int(number[10:12]))
    except ValueError:
        return False
    return True


def luhn_valid(number: str) -> bool:
    """The Luhn (mod 10) check that every bank card number carries."""
    if not number.isdigit():
        return False
    total = 0
    for position, digit in enumerate(reversed(number)):
        value = int(digit)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0
