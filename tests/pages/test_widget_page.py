"""The citizens' widget on its demo host page, in a real browser: a cited answer with a link to
the source passage, the hotline instead of passages when there is no answer, isolation from
the host page's CSS, and markup in documents shown as text."""

from __future__ import annotations

from typing import Any

from tests.pages.conftest import XSS_SEGMENT, XSS_TEXT, shot, wait_until

WIDGET_RED = "rgb(179, 38, 30)"


def open_widget(page: Any) -> Any:
    """The demo page with the chat panel opened; returns the panel's frame."""
    page.goto("/widget-demo")
    bubble = page.locator("[data-policykb-widget] button")
    bubble.wait_for()
    bubble.click()
    frame_element = page.locator("[data-policykb-widget] iframe")
    frame_element.wait_for()
    frame = frame_element.element_handle().content_frame()
    frame.wait_for_selector("body[data-ready='true']")
    return frame


def ask(frame: Any, question: str) -> Any:
    """Ask in the panel and return the reply that answers it."""
    before = frame.locator(".msg.bot:not(.pending)").count()
    frame.locator("#question").fill(question)
    frame.locator("#question").press("Enter")
    wait_until(frame, f"document.querySelectorAll('.msg.bot:not(.pending)').length > {before}")
    return frame.locator(".msg.bot:not(.pending)").last


def test_the_widget_answers_with_cited_passages_and_links_to_the_source(page: Any) -> None:
    frame = open_widget(page)
    reply = ask(frame, "领取失业保险金期间能享受医疗保险待遇吗")
    assert "answer" in reply.get_attribute("class")
    first = reply.locator("blockquote.cite").first
    assert first.get_attribute("data-segment-id") == "lawrefbook:24e933d71ff9#a54"
    assert "失业人员在领取失业保险金期间" in first.locator(".passage").inner_text()
    assert first.locator(".passage mark.term").count() >= 1
    assert first.locator(".source").inner_text() == "——《中华人民共和国社会保险法》（主席令第35号） 第五十四条"
    # A short answer: the passages near the best one only (the first article and the subsidy
    # rule that merely mention 保险 are left out).
    assert reply.locator("blockquote.cite").count() == 1
    assert frame.locator(".msg.user").last.inner_text() == "领取失业保险金期间能享受医疗保险待遇吗"
    shot(page, "widget")
    # The link opens the whole document at the passage, on the service's own passage page.
    href = first.locator("a.open").get_attribute("href")
    assert href == "/passage?segment=lawrefbook%3A24e933d71ff9%23a54"
    assert first.locator("a.open").get_attribute("rel") == "noopener noreferrer"
    page.goto(href)
    page.locator("#doc mark.cited").wait_for()
    assert page.locator("#doc mark.cited").inner_text() == "失业人员在领取失业保险金期间，参加职工基本医疗保险，享受基本医疗保险待遇。"
    assert page.locator("#doc .doc-title").inner_text() == "中华人民共和国社会保险法"


def test_no_answer_offers_the_hotline_instead_of_passages(page: Any) -> None:
    frame = open_widget(page)
    # Filler and punctuation (no_searchable_terms) and an everyday question (no_answer).
    for question in ("你好", "？？？", "周末去哪里看电影好"):
        reply = ask(frame, question)
        assert "no-answer" in reply.get_attribute("class")
        assert reply.locator("blockquote").count() == 0
        assert reply.locator(".hotline a").inner_text() == "12345"
        assert reply.locator(".hotline a").get_attribute("href") == "tel:12345"
    shot(page, "widget-no-answer")


def test_the_hotline_number_comes_from_the_page_or_the_service(page: Any, server: Any) -> None:
    page.goto("/widget/frame?hotline=0512-52712345")
    page.wait_for_selector("body[data-ready='true']")
    assert "0512-52712345" in ask(page, "你好").locator(".hotline").inner_text()
    page.goto("/widget/frame?hotline=<b>javascript:alert(1)</b>")
    page.wait_for_selector("body[data-ready='true']")
    assert ask(page, "你好").locator(".hotline a").inner_text() == "12345"


def test_the_host_page_css_does_not_reach_the_widget(page: Any) -> None:
    open_widget(page)
    # The demo page's hostile CSS paints its own buttons pink and hides every iframe.
    assert page.locator("button.site-button").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(255, 105, 180)"
    bubble = page.locator("[data-policykb-widget] button")
    assert bubble.evaluate("b => getComputedStyle(b).backgroundColor") == WIDGET_RED
    assert page.locator("[data-policykb-widget] iframe").is_visible()
    # The close button in the panel closes it through a message to the loader.
    frame = page.locator("[data-policykb-widget] iframe").element_handle().content_frame()
    frame.locator("#close").click()
    wait_until(page, "document.querySelector('[data-policykb-widget]').shadowRoot"
               ".querySelector('iframe').getBoundingClientRect().height === 0")
    assert bubble.get_attribute("aria-expanded") == "false"


def test_markup_in_a_document_is_shown_as_text_in_the_widget(page: Any) -> None:
    frame = open_widget(page)
    ask(frame, "垃圾分类<img src=x onerror=alert(9)>")
    assert frame.locator(".msg.user").last.inner_text() == "垃圾分类<img src=x onerror=alert(9)>"
    reply = ask(frame, "垃圾分类怎么投放")
    hostile = reply.locator(f"blockquote[data-segment-id='{XSS_SEGMENT}']")
    assert hostile.count() == 1
    assert "<script>window.__pwned='text';alert('text')</script>" in hostile.locator(".passage").inner_text()
    assert "<script>window.__pwned='title'</script>" in hostile.locator(".source").inner_text()
    assert frame.locator("#log img, #log script, #log svg").count() == 0
    page.goto(hostile.locator("a.open").get_attribute("href"))
    page.locator("#doc mark.cited").wait_for()
    assert page.locator("#doc mark.cited").inner_text() == XSS_TEXT
    assert page.locator("#doc img, #doc script").count() == 0



def test_a_listed_site_of_another_origin_embeds_the_widget(page: Any, watch: Any, listed_site: str) -> None:
    watch.host_origins.append(listed_site)
    page.goto(f"{listed_site}/index.html")
    page.locator("[data-policykb-widget] button").click()
    frame = page.locator("[data-policykb-widget] iframe").element_handle().content_frame()
    frame.wait_for_selector("body[data-ready='true']")
    reply = ask(frame, "领取失业保险金期间能享受医疗保险待遇吗")
    assert reply.locator("blockquote.cite").first.get_attribute("data-segment-id") == "lawrefbook:24e933d71ff9#a54"
    assert "0512-52712345" in ask(frame, "你好").locator(".hotline").inner_text()
    # The site cannot read the conversation: the frame is of another origin.
    assert page.evaluate("""() => document.querySelector('[data-policykb-widget]').shadowRoot
        .querySelector('iframe').contentDocument === null""")


def test_a_site_not_listed_cannot_frame_the_widget(page: Any, watch: Any, unlisted_site: str) -> None:
    watch.host_origins.append(unlisted_site)
    page.goto(f"{unlisted_site}/index.html")
    page.locator("[data-policykb-widget] button").click()
    frame = page.locator("[data-policykb-widget] iframe").element_handle().content_frame()
    wait_until(page, "true")
    page.wait_for_timeout(1000)
    assert frame.evaluate("document.body ? document.body.dataset.ready || null : null") is None
    refused = [error for error in watch.errors if "frame-ancestors" in error]
    assert refused, watch.errors
    watch.errors[:] = [error for error in watch.errors if error not in refused]
