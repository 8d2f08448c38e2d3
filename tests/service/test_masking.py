"""Masking: thousands of generated valid personal numbers in realistic sentences, none survives;
the numbers a policy question is made of (文号, articles, dates, money) all do."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest

from service.masking import BANK_CARD, EMAIL, ID_CARD, MOBILE, is_id_card, is_old_id_card, luhn_valid, mask

ROUNDS = 2000
FULL_WIDTH = str.maketrans("0123456789+-@.", "０１２３４５６７８９＋－＠．")
PREFIXES = ["", "我的", "身份证号：", "请问", "电话", "手机 ", "卡号是", "（", "ID:", "联系", "号码为\u3000"]
SUFFIXES = ["", "，能办吗？", "。", " 谢谢", "）", "怎么查", "的公积金能取吗", "\n", "!", "，急"]


def id_card(rng: random.Random) -> str:
    region = f"{rng.randint(11, 82)}{rng.randint(0, 9999):04d}"
    born = date(1930, 1, 1) + timedelta(days=rng.randint(0, 30000))
    body = f"{region}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    return body + "10X98765432"[total % 11]


def old_id_card(rng: random.Random) -> str:
    born = date(1930, 1, 1) + timedelta(days=rng.randint(0, 25000))
    return f"{rng.randint(11, 82)}{rng.randint(0, 9999):04d}{born:%y%m%d}{rng.randint(0, 999):03d}"


def luhn_complete(body: str) -> str:
    for check in "0123456789":
        if luhn_valid(body + check):
            return body + check
    raise AssertionError("unreachable")


def bank_card(rng: random.Random) -> str:
    length = rng.randint(16, 19)
    body = rng.choice(["62", "4", "5", "9"]) + "".join(str(rng.randint(0, 9)) for _ in range(length - 1))
    return luhn_complete(body[:length - 1])


def mobile(rng: random.Random) -> str:
    return f"1{rng.randint(3, 9)}{rng.randint(0, 999_999_999):09d}"


def email(rng: random.Random) -> str:
    local = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789._") for _ in range(rng.randint(1, 12)))
    local = local.strip(".") or "a"
    domain = rng.choice(["qq.com", "163.com", "example.gov.cn", "mail.sz-hr.org", "126.com"])
    return f"{local}@{domain}"


def written(number: str, rng: random.Random) -> str:
    """The number as a person might type it: plain, grouped by spaces or dashes, full width."""
    style = rng.choice(["plain", "groups", "full", "country"])
    if style == "groups" and number.isdigit() and len(number) == 11:
        separator = rng.choice([" ", "-"])
        return separator.join([number[:3], number[3:7], number[7:]])
    if style == "groups" and len(number) >= 15 and "@" not in number:
        separator = rng.choice([" ", "-"])
        return separator.join(number[i:i + 4] for i in range(0, len(number), 4))
    if style == "full":
        return number.translate(FULL_WIDTH)
    if style == "country" and number.isdigit() and len(number) == 11:
        return rng.choice(["+86 ", "+86-", "+86", "0086 ", "86"]) + number
    return number


def digits_only(text: str) -> str:
    return re.sub(r"[\s\-]", "", text.translate(str.maketrans("０１２３４５６７８９", "0123456789")))


@pytest.mark.parametrize("kind", ["id_card", "old_id_card", "bank_card", "mobile", "email"])
def test_generated_personal_numbers_never_survive(kind: str) -> None:
    rng = random.Random(f"mask-{kind}")
    make = {"id_card": id_card, "old_id_card": old_id_card, "bank_card": bank_card, "mobile": mobile,
            "email": email}[kind]
    label = {"id_card": ID_CARD, "old_id_card": ID_CARD, "bank_card": BANK_CARD, "mobile": MOBILE,
             "email": EMAIL}[kind]
    leaks = []
    for _ in range(ROUNDS):
        number = make(rng)
        text = rng.choice(PREFIXES) + written(number, rng) + rng.choice(SUFFIXES)
        masked = mask(text)
        core = number.lower() if kind == "email" else number
        # An 18- or 19-digit card may also read as an ID: masked either way, the label may differ.
        typed = label in masked or (kind == "bank_card" and ID_CARD in masked)
        if core in digits_only(masked).lower() or not typed:
            leaks.append((text, masked))
    assert leaks == [], f"{len(leaks)} of {ROUNDS} leaked, e.g. {leaks[:3]}"


def test_several_numbers_in_one_question_are_all_masked() -> None:
    rng = random.Random("mask-mixed")
    for _ in range(ROUNDS // 4):
        numbers = [id_card(rng), mobile(rng), bank_card(rng), mobile(rng)]
        rng.shuffle(numbers)
        joiners = [rng.choice([" ", "，", "和", "、", "; ", "\n"]) for _ in numbers]
        text = "".join(j + written(n, rng) for j, n in zip(joiners, numbers)) + "这些信息能办理吗"
        masked = mask(text)
        flat = digits_only(masked)
        assert not any(n in flat for n in numbers), (text, masked)


def test_the_catalogue_example_is_stored_as_specified() -> None:
    assert mask("身份证110105194912310021 手机13812345678 能办吗") == "身份证[身份证号] 手机[手机号] 能办吗"
    assert mask("身份证号11010519491231002X") == "身份证号[身份证号]"
    assert mask("联系我 zhang.san@example.com.cn 或 +86 138-1234-5678") == "联系我 [邮箱] 或 [手机号]"
    assert mask("卡号 6222 0212 3456 7890 128") == f"卡号 {BANK_CARD}"


def test_invisible_characters_cannot_hide_a_number() -> None:
    assert mask("手机138\u200b1234\u200b5678") == "手机[手机号]"
    assert mask("\u202e13812345678") == "[手机号]"


NOT_PERSONAL = [
    "常政办发〔2019〕143号文件规定了什么",
    "苏府规字〔2015〕2号第三条怎么理解",
    "国办发[2020]12号和国发【2019】3号有什么区别",
    "社会保险法第十二条、第五十四条",
    "劳动合同法第82条规定二倍工资",
    "2019-11-01至2020-12-31期间缴纳的",
    "2019年11月1日起施行",
    "2019.11.01 2020.01.01 两个日期",
    "创业补贴5000元，一次性补贴1,200.50元，最高3.5万元",
    "补贴标准为每人每月300元、500元、800元",
    "热线12345和0512-52895000",
    "年满80周岁，90周岁以上提高标准",
    "2019-11-01 2020-01-01 2021-03-15",
    "文号常政办发〔2019〕143号，2019年11月1日印发，第（四）条，金额20000元",
    "统一社会信用代码91320581MA1XYZ1234",
    "订单号 20191101 1234 56",
]


@pytest.mark.parametrize("text", NOT_PERSONAL)
def test_the_numbers_a_policy_question_is_made_of_survive(text: str) -> None:
    assert mask(text) == text


def test_generated_non_personal_numbers_survive() -> None:
    rng = random.Random("mask-keep")
    changed = []
    for _ in range(ROUNDS):
        year = rng.randint(1990, 2030)
        text = rng.choice([
            f"常政办发〔{year}〕{rng.randint(1, 300)}号",
            f"第{rng.randint(1, 300)}条",
            f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            f"{year}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
            f"{rng.randint(1, 999_999)}元",
            f"{rng.randint(1, 9999):,}.{rng.randint(0, 99):02d}元",
            f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}至{year + 1}-{rng.randint(1, 12):02d}-"
            f"{rng.randint(1, 28):02d}",
        ])
        if mask(text) != text:
            changed.append(text)
    assert changed == []


def test_the_checks_themselves() -> None:
    assert is_id_card("11010519491231002X") and not is_id_card("110105194912310020")
    assert is_old_id_card("110105491231002") and not is_old_id_card("110105491331002")
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_long_runs_of_numbers_cost_little() -> None:
    import time

    started = time.perf_counter()
    for text in ["1 " * 1000, "12-" * 700, "9" * 5000, ("13812345678 " * 150)]:
        mask(text)
    assert time.perf_counter() - started < 0.5
    assert mask("13812345678 " * 3) == "[手机号] [手机号] [手机号] "
