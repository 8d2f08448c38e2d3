"""The main content of a web page: drop the page's chrome, score blocks, render the best as text.

A government page is mostly chrome: navigation, breadcrumbs, a 信息公开 table, share
bars, "扫一扫在手机打开当前页", print/close links, related links, a footer with the ICP
licence. Indexing any of it makes every page match "首页" and cites a share bar. So:
non-content elements (scripts, styles, iframes, forms, nav/header/footer) and elements
whose class or id names chrome ("share", "qrcode", "crumb"…) are removed first; then
each remaining block is scored by the sentence punctuation of the text directly inside
it (Chinese prose is dense in "，。；", chrome is not), propagated to its parent and half
to its grandparent as readability does, and discounted by its share of link text; the
best block is rendered paragraph by paragraph, tables as "| a | b |" rows.
"""

from __future__ import annotations

import re
from collections import defaultdict

from lxml.html import HtmlElement

__all__ = ["CHROME_LINE", "CHROME_TAGS", "CHROME_WORDS", "DROP_TAGS", "main_content", "render", "strip_chrome"]

#: Elements whose content is never document text.
DROP_TAGS = (
    "script", "style", "noscript", "iframe", "frame", "frameset", "object", "embed", "template", "svg",
    "canvas", "form", "input", "button", "select", "textarea", "link", "meta", "head", "map", "audio", "video",
)
#: Elements that are chrome by their HTML5 name, unless they turn out to hold prose.
CHROME_TAGS = ("nav", "header", "footer", "aside")
#: An element named as chrome but holding this many sentence marks is kept: a layout wrapper
#: named "main-side" or a <header> around a whole article is not a share bar.
MAX_CHROME_PROSE = 20
#: class/id words that name page chrome on government sites ("bshare" and "jiathis" are share
#: widgets, "ewm"/"erweima" are 二维码, "dqwz" is 当前位置, "xgxx"/"xgwz" are 相关信息/文章).
CHROME_WORDS = frozenset({
    "nav", "navbar", "menu", "header", "footer", "foot", "share", "bshare", "jiathis", "qrcode", "qr", "ewm",
    "erweima", "crumb", "crumbs", "breadcrumb", "location", "position", "dqwz", "sidebar", "side", "related",
    "xgxx", "xgwz", "xglj", "print", "close", "toolbar", "tools", "copyright", "banner", "logo", "search",
    "login", "comment", "comments", "pagination", "pager", "skip", "fontsize",
})
#: A paragraph that is page chrome even inside the content block: "扫一扫在手机打开当前页",
#: "【打印本页】【关闭窗口】", "分享到：微信 微博", "字号：[大 中 小]", "浏览次数：1024".
CHROME_LINE = re.compile(
    r"^\s*(?:扫一扫在手机(?:上)?打开当前页|【?\s*(?:打印本页|关闭窗口|打印|关闭|返回顶部|收藏)\s*】?"
    r"|分享到[：:]?.*|字号[：:].{0,12}|浏览次数[：:]?\s*\d*|访问量[：:]?\s*\d*|责任编辑[：:].{0,20}"
    r"|(?:【\s*[^】]{1,6}\s*】\s*)+)\s*$"
)
_BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "dl", "dd",
    "dt", "blockquote", "pre", "table", "tr", "center", "figure", "figcaption", "address", "hr", "tbody", "thead",
})
_CANDIDATE_TAGS = frozenset({"div", "section", "article", "main", "td", "body", "center", "blockquote"})
#: Punctuation that marks running prose.
_PROSE = re.compile(r"[，。；：、！？,;]")
_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_WORD_SPLIT = re.compile(r"[\s_\-]+")


def strip_chrome(root: HtmlElement) -> None:
    """Remove non-content elements and elements named as chrome, in place."""
    for element in list(root.iter(*DROP_TAGS)):
        element.drop_tree()
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.tag in ("html", "body") or element.getparent() is None:
            continue
        names = f"{element.get('class', '')} {element.get('id', '')}".lower()
        named = element.tag in CHROME_TAGS or CHROME_WORDS.intersection(_WORD_SPLIT.split(names))
        if named and len(_PROSE.findall(element.text_content())) < MAX_CHROME_PROSE:
            element.drop_tree()


def main_content(root: HtmlElement) -> HtmlElement:
    """The block of ``root`` (already stripped of chrome) that holds the page's prose."""
    scores: dict[HtmlElement, float] = defaultdict(float)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        own = _own_text(element)
        if len(own) < 10:
            continue
        score = 1 + len(_PROSE.findall(own)) + min(len(own) / 100, 3)
        parent = element if element.tag in _CANDIDATE_TAGS else element.getparent()
        if parent is None:
            continue
        scores[parent] += score
        grandparent = parent.getparent()
        if grandparent is not None:
            scores[grandparent] += score / 2
    if not scores:
        return root
    return max(scores, key=lambda element: scores[element] * (1 - _link_density(element)))


def render(element: HtmlElement) -> str:
    """Text of ``element``: blocks separated by blank lines, <br> as a line break, tables as rows."""
    blocks: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = "".join(current)
        current.clear()
        lines = [_SPACE.sub(" ", line).strip(" \u00a0\u3000") for line in text.split("\n")]
        kept = [line for line in lines if line and not CHROME_LINE.match(line)]
        if kept:
            blocks.append("\n".join(kept))

    def walk(node: HtmlElement) -> None:
        if not isinstance(node.tag, str):
            current.append(node.tail or "")
            return
        if node.tag == "table":
            flush()
            if rows := _table_rows(node):
                blocks.append("\n".join(rows))
        elif node.tag == "br":
            current.append("\n")
        else:
            block = node.tag in _BLOCK_TAGS
            if block:
                flush()
            current.append(node.text or "")
            for child in node:
                walk(child)
            if block:
                flush()
        current.append(node.tail or "")

    current.append(element.text or "")
    for child in element:
        walk(child)
    flush()
    return "\n\n".join(blocks)


def _table_rows(table: HtmlElement) -> list[str]:
    rows = []
    for row in table.iter("tr"):
        if row.xpath("ancestor::table[1]")[0] is not table:
            continue  # a nested table's rows are part of its cell's text
        cells = [_SPACE.sub(" ", cell.text_content()).strip(" \u00a0\u3000").replace("|", "｜")
                 for cell in row if cell.tag in ("td", "th")]
        if any(cells):
            rows.append("| " + " | ".join(cells) + " |")
    return rows


def _own_text(element: HtmlElement) -> str:
    """Text directly inside ``element`` and its inline children, not inside child blocks."""
    parts = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str) and child.tag not in _BLOCK_TAGS and child.tag != "td":
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return _SPACE.sub("", "".join(parts))


def _link_density(element: HtmlElement) -> float:
    text = len(_SPACE.sub("", element.text_content()))
    links = sum(len(_SPACE.sub("", link.text_content())) for link in element.iter("a"))
    return links / text if text else 1.0
