"""Responsibility annotations become department tuples, leads first."""

from __future__ import annotations

import pytest

from ingest.departments import ends_with_department_note, extract_departments


@pytest.mark.parametrize(
    ("text", "departments"),
    [
        ("推进工作。（责任部门：行政审批局、金融监管局）", ("行政审批局", "金融监管局")),
        ("推进工作。牵头单位：X局；责任单位：Y局、Z局", ("X局", "Y局", "Z局")),
        ("推进工作。（责任部门：市政府办公室牵头，各板块各部门参与）", ("市政府办公室", "各板块各部门")),
        ("推进工作。（责任单位：市财政局；牵头单位：市工信局）", ("市工信局", "市财政局")),
        ("推进工作。[责任单位：市国资委、市财政局，各县（市）区政府]", ("市国资委", "市财政局", "各县（市）区政府")),
        ("推进工作。（责任单位：市司法局、市工信局、市公安局等）", ("市司法局", "市工信局", "市公安局")),
        ("推进工作。(责任单位：市财政局、市财政局)", ("市财政局",)),
        ("推进工作。（责任\n部门：财政局）", ("财政局",)),
        ("各责任单位要高度重视，抓好落实。", ()),
        ("没有任何注记的文字。", ()),
    ],
)
def test_extract_departments(text: str, departments: tuple[str, ...]) -> None:
    assert extract_departments(text) == departments


def test_a_bare_note_stops_at_the_next_item_of_a_flattened_page() -> None:
    assert extract_departments("加强保障。牵头单位：市商务局 二、减轻负担。") == ("市商务局",)


@pytest.mark.parametrize(
    ("text", "ends"),
    [
        ("推进工作。（责任部门：财政局）", True),
        ("推进工作。（责任部门：财政局）。", True),
        ("推进工作。\n牵头单位：X局；责任单位：Y局", True),
        ("（责任部门：财政局）之后还有正文。", False),
        ("推进工作。（详见附件）", False),
    ],
)
def test_ends_with_department_note(text: str, ends: bool) -> None:
    assert ends_with_department_note(text) is ends
