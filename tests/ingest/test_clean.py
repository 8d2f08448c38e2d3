"""clean_text on the seed's real PDF damage, and the things it must leave alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import clean_text

SEED = Path(__file__).resolve().parents[2] / "corpus" / "seed" / "changshu-2019-zhengwu-gongkai-yaodian.txt"

#: (as extracted, as it must read after cleaning)
SPLIT_WORDS = [
    ("12345平台“一\n\n号答”", "12345平台“一号答”"),
    ("（责任\n\n部门：市政府办公室牵头", "（责任部门：市政府办公室牵头"),
    ("重\n\n点做好批准服务信息", "重点做好批准服务信息"),
    ("行业条线公\n\n共企事业单位", "行业条线公共企事业单位"),
    ("不见面审批（服务）改革、\n\n“证照分离”改革", "不见面审批（服务）改革、“证照分离”改革"),
    ("政策微调\n\n和改进工作", "政策微调和改进工作"),
    ("招生范围、\n\n招生程序", "招生范围、招生程序"),
]


@pytest.fixture(scope="module")
def raw() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def cleaned(raw: str) -> str:
    return clean_text(raw)


@pytest.mark.parametrize(("broken", "joined"), SPLIT_WORDS)
def test_words_split_over_a_blank_line_are_rejoined(raw: str, cleaned: str, broken: str, joined: str) -> None:
    assert broken in raw  # the fixture really has the damage
    assert joined in cleaned
    assert broken not in cleaned


def test_no_split_word_is_left_anywhere(cleaned: str) -> None:
    assert "一\n\n号答" not in cleaned
    assert "（责任\n" not in cleaned


def test_spaces_around_numbers_go(raw: str, cleaned: str) -> None:
    assert "常熟市 2019 年" in raw
    for fixed in ("常熟市2019年政务公开工作要点", "等9类信息", "新中国成立70周年"):
        assert fixed in cleaned
    assert " 2019 " not in cleaned and "等 9 类" not in cleaned


def test_real_paragraph_breaks_stay(cleaned: str) -> None:
    lines = [line for line in cleaned.split("\n") if line]
    assert lines[:3] == [
        "常熟市人民政府办公室文件",
        "常政办发〔2019〕143号",
        "市政府办公室关于印发《常熟市2019年政务公开工作要点》的通知",
    ]
    assert lines[3].startswith("各镇人民政府，") and lines[3].endswith("直属单位（公司）：")
    for line in (
        "常熟市人民政府办公室",
        "2019年11月1日",
        "（此件公开发布）",
        "一、做好政务发布解读回应工作",
        "2019年11月1日印发",
    ):
        assert line in lines
    assert lines[-3].startswith("抄送：")
    assert lines[-2:] == ["常熟市人民政府办公室", "2019年11月1日印发"]
    # the paragraph after the last item's 责任部门 line is a paragraph of its own
    assert "各板块各部门参与）\n\n各板块各部门要结合实际" in cleaned


def test_every_item_keeps_its_own_paragraph(cleaned: str) -> None:
    starts = [line[:3] for line in cleaned.split("\n") if line.startswith("（") and line[2] == "）"]
    assert len(starts) == 17


def test_newlines_trailing_spaces_and_blank_runs() -> None:
    assert clean_text("第一段。  \r\n\r\n\r\n\r\n第二段。\r第三段。\t") == "第一段。\n\n第二段。\n第三段。"


def test_invisible_characters_go_everything_else_stays() -> None:
    text = "政\u200b务\u200c公\u200d开\u2060\ufeff\u202a条\u202e例\u2066\u2069 ＡＢＣ１２３ 條例 ①"
    assert clean_text(text) == "政务公开条例 ＡＢＣ１２３ 條例 ①"  # no NFKC, no simplification


def test_spaces_that_separate_things_stay() -> None:
    # a headline before a date, and cells of a table flattened onto one line
    assert (
        clean_text("工业和信息化部组织开展督导检查 2020年2月4日，为做好")
        == "工业和信息化部组织开展督导检查 2020年2月4日，为做好"
    )
    assert clean_text("序号 队长 联系电话 1 余斌 13870934") == "序号 队长 联系电话 1 余斌 13870934"
    assert clean_text("通过 LPR 降低融资成本，发挥24 小时热线作用") == "通过LPR降低融资成本，发挥24小时热线作用"


def test_headers_titles_and_markers_are_not_joined() -> None:
    text = "某某市人民政府文件\n\n关于做好春运、复工工作的通知\n\n各区政府：\n\n一、总体要求\n\n（一）加强领导\n\n1.明确分工"
    assert clean_text(text) == text


def test_markdown_tables_and_page_numbers() -> None:
    table = "| 条文 | 罪名 |\n| 第一条 | 某罪 |"
    assert clean_text(table) == table
    assert (
        clean_text("本条例所称的口岸，是指供人员\n\n- 2 -\n\n直接出入国境的港口。")
        == "本条例所称的口岸，是指供人员直接出入国境的港口。"
    )
