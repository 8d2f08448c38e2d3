"""segment_text: the seed's golden segmentation, regulations, flattened pages and windows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest import clean_text, segment_text
from ingest.structure import MAX_WINDOW, starts_with_marker

SEED = Path(__file__).resolve().parents[2] / "corpus" / "seed" / "changshu-2019-zhengwu-gongkai-yaodian.txt"

SECTIONS = [
    "一、做好政务发布解读回应工作",
    "二、推进政务运行公开透明",
    "三、深化重点领域信息公开",
    "四、加强政务公开平台建设",
    "五、夯实政务公开工作基础",
]
LEAD_AND_BOARDS = ("市政府办公室", "各板块各部门")
#: anchor -> (item label, departments), in document order
ITEMS = {
    "s1.1": ("（一）推动建设公开透明营商环境", ("行政审批局", "金融监管局")),
    "s1.2": (
        "（二）强化政策宣传解读回应力度",
        (
            "发改委",
            "工信局",
            "农业农村局",
            "生态环境局",
            "金融监管局",
            "卫健委",
            "医保局",
            "市场监管局",
            "人社局",
            "公安局",
            "住建局",
        ),
    ),
    "s1.3": ("（三）积极扩大公众参与", ("市政府办公室", "行政审批局", "便民服务中心")),
    "s2.1": ("（一）推进行政决策公开", ("市政府办公室",)),
    "s2.2": ("（二）推进重要部署执行和结果公开", ("市政府办公室", "审计局", "司法局")),
    "s2.3": ("（三）推进行政执法和办事服务公开", ("司法局", "行政审批局")),
    "s2.4": ("（四）推进政务公开标准化规范化工作", LEAD_AND_BOARDS),
    "s3.1": ("（一）深化重大建设项目批准与实施领域政府信息公开", ("行政审批局", "资源规划局", "住建局")),
    "s3.2": ("（二）深化公共资源配置领域政府信息公开", ("行政审批局",)),
    "s3.3": ("（三）推进社会公益事业建设领域政府信息公开", ("农业农村局", "民政局", "市场监管局", "生态环境局")),
    "s3.4": ("（四）深化财政信息公开", ("财政局",)),
    "s3.5": ("（五）强化重点民生领域的信息公开", ("人社局", "教育局", "卫健委", "医保局", "资源规划局", "应急局")),
    "s4.1": ("（一）提升政府网站服务管理水平", LEAD_AND_BOARDS),
    "s4.2": ("（二）推动政务新媒体有序发展", LEAD_AND_BOARDS),  # its 责任部门 line was split over a blank line
    "s5.1": ("（一）加强组织领导和工作落实", LEAD_AND_BOARDS),
    "s5.2": ("（二）认真组织新修订《政府信息公开条例》实施", LEAD_AND_BOARDS),
    "s5.3": ("（三）做好机构改革后信息公开相关基础工作", LEAD_AND_BOARDS),
}


def assert_offsets(text: str, segments) -> None:
    anchors = [segment.anchor for segment in segments]
    assert len(anchors) == len(set(anchors)), "anchors must be unique"
    assert [segment.start for segment in segments] == sorted(segment.start for segment in segments)
    for segment in segments:
        assert segment.text == text[segment.start : segment.end]
        assert segment.text and segment.text == segment.text.strip()


@pytest.fixture(scope="module")
def seed() -> tuple[str, tuple]:
    text = clean_text(SEED.read_text(encoding="utf-8"))
    return text, segment_text(text)


def test_seed_offsets(seed) -> None:
    assert_offsets(*seed)


def test_seed_has_five_sections_and_seventeen_items(seed) -> None:
    _, segments = seed
    items = [segment for segment in segments if segment.section_path]
    assert list(dict.fromkeys(segment.section_path[0] for segment in items)) == SECTIONS
    assert [segment.anchor for segment in items] == list(ITEMS)
    for segment in items:
        label, departments = ITEMS[segment.anchor]
        assert segment.section_path == (SECTIONS[int(segment.anchor[1]) - 1], label)
        assert segment.locator == label[:3]
        assert segment.text.startswith(label)
        assert segment.departments == departments, segment.anchor
        assert re.search(r"（责任部门：[^）]+）$", segment.text), "the 责任部门 line stays in the item"


def test_seed_item_three_four(seed) -> None:
    _, segments = seed
    item = next(segment for segment in segments if segment.anchor == "s3.4")
    assert item.section_path == ("三、深化重点领域信息公开", "（四）深化财政信息公开")
    assert item.locator == "（四）"
    assert item.text == (
        "（四）深化财政信息公开。按规定扎实推进政府预决算信息公开工作，及时组织部门开展部门预决算信息公开，"
        "定期公开政府债务限额、余额以及政府债券等信息。（责任部门：财政局）"
    )


def test_seed_rejoined_words_are_inside_their_items(seed) -> None:
    _, segments = seed
    by_anchor = {segment.anchor: segment.text for segment in segments}
    assert "12345平台“一号答”服务体系" in by_anchor["s1.3"]
    assert "重点做好批准服务信息" in by_anchor["s3.1"]
    assert "（责任部门：市政府办公室牵头，各板块各部门参与）" in by_anchor["s4.2"]
    assert "行业条线公共企事业单位" in by_anchor["s5.2"]


def test_seed_text_outside_items_is_in_windows(seed) -> None:
    _, segments = seed
    windows = [segment for segment in segments if not segment.section_path]
    assert [segment.anchor for segment in windows] == [f"p{i}" for i in range(1, len(windows) + 1)]
    assert all(segment.locator == "" and len(segment.text) <= MAX_WINDOW for segment in windows)
    head = "".join(segment.text for segment in windows)
    for needle in ("常政办发〔2019〕143号", "今年是新中国成立70周年", "各板块各部门要结合实际", "抄送：市委各部门"):
        assert needle in head
    assert segments[0].text.startswith("常熟市人民政府办公室文件")
    assert segments[-1].text.endswith("2019年11月1日印发") and segments[-1].anchor.startswith("p")


LAW = """## 第一章  总则

第一条 为了规范示例管理，制定本条例。

第二条 本条例适用于本市。

本条例所称示例，是指下列事项：

（一）第一类事项；

（二）第二类事项。

## 第二章  管理

### 第一节 一般规定

第三条 市人民政府负责示例管理工作。

第三条之一 区人民政府负责本区示例管理工作。

第四条 违反本条例第二条规定的，依法处理。
"""


def test_law_articles_are_the_leaves() -> None:
    text = clean_text(LAW)
    segments = segment_text(text)
    assert_offsets(text, segments)
    assert [(s.anchor, s.locator, s.section_path) for s in segments] == [
        ("a1", "第一条", ("第一章 总则", "第一条")),
        ("a2", "第二条", ("第一章 总则", "第二条")),
        ("a3", "第三条", ("第二章 管理", "第一节 一般规定", "第三条")),
        ("a3-1", "第三条之一", ("第二章 管理", "第一节 一般规定", "第三条之一")),
        ("a4", "第四条", ("第二章 管理", "第一节 一般规定", "第四条")),
    ]
    article_two = segments[1].text
    assert article_two.startswith("第二条 本条例适用于本市。\n\n本条例所称示例")
    assert article_two.endswith("（二）第二类事项。")  # its second paragraph and its items stay in it
    assert "第四条 违反本条例第二条规定的，依法处理。" == segments[-1].text


def test_colliding_anchors_get_suffixes() -> None:
    text = "第一条 甲。\n\n第二条 乙。\n\n附件\n\n第一条 丙。\n\n第二条 丁。"
    anchors = [segment.anchor for segment in segment_text(text)]
    assert anchors == ["a1", "a2", "a1~2", "a2~2"]


def test_outline_levels_and_markers() -> None:
    text = (
        "一、总体要求\n\n(一)工作目标。全面推进。\n\n1.第一项。具体内容。\n\n（1）细项。内容。\n\n①要点。内容。\n\n"
        "2.增长1.5个百分点的目标不是新条目。\n\n二、保障措施\n\n加强领导，落实责任。"
    )
    segments = segment_text(text)
    assert_offsets(text, segments)
    assert [(s.anchor, s.locator) for s in segments] == [
        ("s1.1", "(一)"),
        ("s1.1.all", "(一)"),  # (一) with its two short items, cited whole as well
        ("s1.1.1", "1."),
        ("s1.1.1.1", "（1）"),
        ("s1.1.1.1.1", "①"),
        ("s1.1.2", "2."),
        ("s2", "二、"),
    ]
    assert segments[0].section_path == ("一、总体要求", "(一)工作目标")
    assert segments[-1].text == "二、保障措施\n\n加强领导，落实责任。"  # a section's own text is its segment


def test_flattened_page_keeps_its_numbering_and_departments() -> None:
    text = (
        "关于支持企业的若干措施 各单位： 为支持企业，特制定如下措施： 一、稳定生产 1.保障供应。做好保障。"
        " 2.优化通行。提供便利。（牵头单位：市商务局；责任单位：市交通局、各县（市、区）政府等） 二、减轻负担"
        " 3.减免房租。给予补贴。（责任单位：市财政局） 以上措施自印发之日起实施。"
    )
    segments = segment_text(text)
    assert_offsets(text, segments)
    assert [s.anchor for s in segments] == ["p1", "s1.all", "s1.1", "s1.2", "s2.3", "p2"]
    assert segments[3].departments == ("市商务局", "市交通局", "各县（市、区）政府")
    assert segments[3].section_path == ("一、稳定生产", "2.优化通行")
    assert segments[4].departments == ("市财政局",)
    assert segments[5].text == "以上措施自印发之日起实施。"
    group = segments[1]  # 一、 with its items 1. and 2., so that an answer listing both is one passage
    assert group.text.startswith("一、稳定生产") and group.text.endswith("各县（市、区）政府等）")
    assert group.section_path == ("一、稳定生产",) and group.departments == segments[3].departments


def test_unstructured_text_becomes_sentence_windows() -> None:
    sentences = [f"第{i}句话讲述政策内容，说明适用范围和办理方式，并列明相关要求与时限。" for i in range(60)]
    text = " ".join(sentences)
    segments = segment_text(text)
    assert_offsets(text, segments)
    assert [s.anchor for s in segments] == [f"p{i}" for i in range(1, len(segments) + 1)]
    assert all(len(s.text) <= MAX_WINDOW and s.text.endswith("。") for s in segments)
    assert all(len(s.text) >= 200 for s in segments[:-1])  # packed towards the target, not one sentence each
    for previous, following in zip(segments, segments[1:]):  # nothing lost; one short sentence may repeat
        assert following.start <= previous.end + 1
        assert previous.end <= following.start or text[following.start : previous.end].count("。") == 1
    assert segments[0].start == 0 and segments[-1].end == len(text)


def test_a_very_long_sentence_is_still_cut() -> None:
    text = "、".join(["某某事项"] * 400) + "。"
    segments = segment_text(text)
    assert len(segments) > 3 and all(len(s.text) <= MAX_WINDOW for s in segments)
    assert "".join(s.text for s in segments) == text


def test_a_long_leaf_is_cut_into_windows() -> None:
    body = "".join(f"第{i}项要求应当落实到位并接受监督检查。" for i in range(120))
    text = f"第一条 {body}\n\n第二条 短条文。"
    segments = segment_text(text)
    assert_offsets(text, segments)
    windows = [s for s in segments if s.anchor.startswith("a1.p")]
    assert [s.anchor for s in windows] == [f"a1.p{i}" for i in range(1, len(windows) + 1)] and len(windows) > 3
    assert all(s.locator == "第一条" and s.section_path == ("第一条",) for s in windows)
    assert segments[-1].anchor == "a2"


@pytest.mark.parametrize(
    ("line", "marker"),
    [
        ("一、总体要求", True),
        ("（一）加强领导", True),
        ("(二)加强领导", True),
        ("1.明确分工", True),
        ("1．明确", True),
        ("1、明确", True),
        ("（1）细项", True),
        ("①要点", True),
        ("第三章 附则", True),
        ("第十条之一 内容", True),
        ("## 附则", True),
        ("1.5亿元用于补贴", False),
        ("12345平台", False),
        ("第十条规定的情形", False),
        ("号答”服务", False),
    ],
)
def test_starts_with_marker(line: str, marker: bool) -> None:
    assert starts_with_marker(line) is marker


def test_short_list_items_are_also_cited_together() -> None:
    """An answer that lists several short items ("1.…；2.…；3.…") spans their passages; the
    item holding them is cited whole too, with its own anchor, beside each item."""
    items = "".join(f"\n\n{n}.第{n}项材料（原件1份）。" for n in range(1, 5))
    text = f"一、申请材料{items}\n\n二、办理时限\n\n1.五个工作日内办结。"
    segments = segment_text(text)
    assert_offsets(text, segments)
    group = next(s for s in segments if s.anchor == "s1.all")
    assert all(f"{n}.第{n}项材料" in group.text for n in range(1, 5))
    assert {s.anchor for s in segments} >= {"s1.1", "s1.2", "s1.3", "s1.4", "s2.1"}
    assert not any(s.anchor.startswith("s2.") and s.anchor.endswith(".all") for s in segments)  # one item only


def test_long_items_and_articles_are_not_grouped(seed) -> None:
    law = "\n\n".join(f"第{n}条 本条规定第{n}项内容。" for n in "一二三")
    assert not any(s.anchor.endswith(".all") for s in segment_text(f"## 第一章 总则\n\n{law}"))
    assert not any(s.anchor.endswith(".all") for s in seed[1])  # the seed's items are paragraphs, not a list


def test_a_window_never_swallows_the_whole_next_window() -> None:
    # found by the property tests: a window ran on into a next window of one short sentence
    # and held all of it, so the same characters were cited twice
    text = "社会保险" * 100 + "\n一"
    segments = segment_text(text)
    assert [(s.start, s.end) for s in segments] == [(0, 400), (401, 402)]
    assert all(text[s.start:s.end] == s.text for s in segments)


def test_a_window_never_runs_on_over_a_next_window_that_is_one_sentence_and_spaces() -> None:
    """The next window " 。\\n" is cited as "。": running on to its end would cite it twice (found by
    the property tests: p1 0-402 held all of p2 401-402)."""
    from ingest.structure import _overlap

    text = "社" * 399 + "。" + " 。\n"
    assert _overlap(text, [(0, 400), (400, 403)]) == [(0, 400), (400, 403)]
