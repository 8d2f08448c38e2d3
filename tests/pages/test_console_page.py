"""The agent console in a real browser: search with highlights, the department as a transfer
suggestion, the citation copied to the clipboard, the document opened at the passage, filters,
the keyboard, and markup in documents shown as text."""

from __future__ import annotations

import json
from typing import Any

from tests.pages.conftest import DOGS_NEW, DOGS_OLD, XSS_SEGMENT, XSS_TEXT, XSS_TITLE, shot, wait_until

ZHENGWU_CITATION = ("根据《常熟市2019年政务公开工作要点》（常政办发〔2019〕43号）三、（四）：推进基层政务公开标准化规范化，"
                    "各镇（街道）要在政府网站集中公开政务公开目录。（责任部门：市政务办、各镇人民政府）")
ZHENGWU_PASSAGE = "推进基层政务公开标准化规范化，各镇（街道）要在政府网站集中公开政务公开目录。"


def search(page: Any, question: str) -> Any:
    """Type a question as an agent would (key by key) and wait for the answer to be painted."""
    page.goto("/")
    page.wait_for_selector("body[data-ready='true']")
    assert page.evaluate("document.activeElement.id") == "q", "the search box has the focus on arrival"
    page.keyboard.type(question, delay=20)
    wait_until(page, f"document.body.dataset.paintedQuestion === {json.dumps(question)}")
    return page.locator("#hits .hit")


def test_typing_a_question_shows_ranked_passages_with_terms_highlighted(page: Any) -> None:
    hits = search(page, "政务公开目录在哪里公开")
    first = hits.first
    assert "常熟市2019年政务公开工作要点" in first.locator(".hit-title").inner_text()
    assert first.locator(".doc-number").inner_text() == "常政办发〔2019〕43号"
    assert first.locator("time").inner_text() == "2019-05-10"
    assert first.locator(".status").inner_text() == "现行有效"
    assert first.locator(".section-path").inner_text() == "三、重点任务 › （四）"
    assert first.locator(".locator").inner_text() == "（四）"
    assert first.locator(".department").inner_text() == "转办：市政务办、各镇人民政府"
    marked = first.locator(".hit-text mark.term").all_inner_texts()
    assert marked and all(term in ZHENGWU_PASSAGE for term in marked)
    assert any("政务公开" in term or "目录" in term for term in marked)
    assert first.locator(".hit-text").inner_text() == ZHENGWU_PASSAGE
    assert int(page.evaluate("document.body.dataset.paintMs")) > 0
    shot(page, "console")


def test_c_copies_a_ready_to_read_citation(page: Any) -> None:
    search(page, "政务公开目录在哪里公开")
    page.keyboard.press("ArrowDown")
    assert page.locator("#hits .hit.selected .rank").inner_text() == "1"
    page.keyboard.press("c")
    page.wait_for_selector("#toast:not([hidden])")
    assert page.evaluate("navigator.clipboard.readText()") == ZHENGWU_CITATION
    assert page.locator("#toast").inner_text() == f"已复制：{ZHENGWU_CITATION}"


def test_enter_opens_the_document_scrolled_to_the_cited_passage(page: Any) -> None:
    search(page, "失业保险金期间医疗保险待遇")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    cited = page.locator("#doc mark.cited")
    cited.wait_for()
    assert cited.inner_text() == "失业人员在领取失业保险金期间，参加职工基本医疗保险，享受基本医疗保险待遇。"
    assert page.locator("#doc .doc-title").inner_text() == "中华人民共和国社会保险法"
    assert page.locator("#doc .segment-place").inner_text() == "第五章 失业保险 › 第五十四条"
    assert cited.locator("mark.term").count() >= 1
    wait_until(page, """() => {
        const box = document.querySelector('#doc mark.cited').getBoundingClientRect();
        const pane = document.querySelector('#doc-pane').getBoundingClientRect();
        return box.top >= pane.top && box.bottom <= pane.bottom;
    }""")
    # c copies the open passage's citation; Esc closes the document and returns to the hits.
    page.keyboard.press("c")
    page.wait_for_selector("#toast:not([hidden])")
    assert page.evaluate("navigator.clipboard.readText()").startswith("根据《中华人民共和国社会保险法》（主席令第35号）第五十四条：失业人员")
    shot(page, "document-view")
    page.keyboard.press("Escape")
    assert page.locator("#doc").is_hidden()
    assert page.evaluate("document.activeElement.classList.contains('hit')")


def test_arrows_move_between_hits_and_slash_returns_to_the_search(page: Any) -> None:
    hits = search(page, "社会保险")
    assert hits.count() >= 2
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.locator("#hits .hit.selected .rank").inner_text() == "2"
    page.keyboard.press("ArrowUp")
    assert page.locator("#hits .hit.selected .rank").inner_text() == "1"
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    # Tab reaches a hit's buttons; Enter on one presses it (copies) rather than opening the document.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "copy"
    page.keyboard.press("Enter")
    page.wait_for_selector("#toast:not([hidden])")
    assert page.evaluate("navigator.clipboard.readText()").startswith("根据《")
    assert page.locator("#doc").is_hidden()


def test_filters_include_expired_documents_only_when_asked(page: Any) -> None:
    hits = search(page, "购房提取住房公积金需要什么材料")
    titles = hits.locator(".hit-title").all_inner_texts()
    assert not any("苏州市住房公积金提取管理办法" in title for title in titles)
    page.locator("#include-expired").check()
    wait_until(page, "[...document.querySelectorAll('#hits .hit-title')]"
                           ".some((t) => t.textContent.includes('苏州市住房公积金提取管理办法'))")
    expired = page.locator("#hits .hit", has_text="苏州市住房公积金提取管理办法").first
    assert expired.locator(".status").inner_text() == "已失效"
    assert expired.locator(".department").inner_text() == "转办：住房公积金管理中心"


def hit_documents(page: Any) -> list[str]:
    return page.evaluate("[...document.querySelectorAll('#hits .hit')].map((h) => h.dataset.segmentId.split('#')[0])")


def test_a_superseded_rule_shows_with_its_successor_when_asked_for_or_as_of_its_time(page: Any) -> None:
    search(page, "养犬登记怎么办理")
    assert DOGS_NEW in hit_documents(page) and DOGS_OLD not in hit_documents(page)
    page.locator("#include-superseded").check()
    wait_until(page, f"document.querySelector('#hits .hit[data-segment-id=\"{DOGS_OLD}#a5\"]')")
    old = page.locator(f"#hits .hit[data-segment-id='{DOGS_OLD}#a5']")
    assert old.locator(".status").inner_text() == "已被替代"
    old.locator("button.successor").click()
    wait_until(page, "document.querySelector('#doc .doc-title')?.textContent === '常熟市养犬管理办法'")
    page.locator("#include-superseded").uncheck()
    page.locator("#as-of").fill("2018-01-01")
    wait_until(page, f"document.querySelector('#hits .hit[data-segment-id=\"{DOGS_OLD}#a5\"]')")
    # In 2018 the 2016 rule was in force, so a search as of then finds it without the checkbox.
    assert DOGS_OLD in hit_documents(page)


def test_limiting_the_search_to_one_document(page: Any) -> None:
    search(page, "社会保险")
    page.locator("#hits .hit", has_text="常熟市大学生自主创业补贴实施细则").first.locator("button.only").click()
    page.wait_for_selector("#doc-filter:not([hidden])")
    wait_until(page, "[...document.querySelectorAll('#hits .hit')].length > 0 && "
                           "[...document.querySelectorAll('#hits .hit-title')]"
                           ".every((t) => t.textContent.includes('常熟市大学生自主创业补贴实施细则'))")
    page.locator("#doc-filter-clear").click()
    wait_until(page, "[...document.querySelectorAll('#hits .hit-title')]"
                           ".some((t) => t.textContent.includes('中华人民共和国社会保险法'))")


def test_markup_in_a_document_is_shown_as_text_in_the_console(page: Any) -> None:
    hits = search(page, "垃圾分类投放")
    hostile = page.locator(f"#hits .hit[data-segment-id='{XSS_SEGMENT}']")
    assert hostile.count() == 1
    assert "<script>window.__pwned='title'</script>" in hostile.locator(".hit-title").inner_text()
    assert "<img src=x onerror=" in hostile.locator(".hit-text").inner_text()
    assert hostile.locator(".department").inner_text() == "转办：市城管局<img src=x onerror=alert(3)>"
    assert hostile.locator(".doc-number").inner_text() == "常城管〔2023〕<i>1</i>号"
    assert page.locator("#hits img, #hits script, #hits svg, #hits b, #hits i").count() == 0
    hostile.click()
    page.keyboard.press("Enter")
    page.locator("#doc mark.cited").wait_for()
    assert page.locator("#doc .doc-title").inner_text() == XSS_TITLE
    assert page.locator("#doc mark.cited").inner_text() == XSS_TEXT
    assert page.locator("#doc img, #doc script, #doc svg").count() == 0
    shot(page, "console-markup-as-text")
    page.keyboard.press("c")
    page.wait_for_selector("#toast:not([hidden])")
    assert "<script>" in page.evaluate("navigator.clipboard.readText()")
    assert hits.count() >= 1
