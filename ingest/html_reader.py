"""Web pages from government sites to text: the article only, with the page's own metadata.

The page states what the text often does not: the headline in ``<meta name="ArticleTitle">``
(the ``<title>`` carries the site name too), the publication date in ``PubDate``, the
文号 and 发布机构 in the 信息公开 table above the article. Those are read from the whole
page, while the text is only the main content block (``ingest.html_content``), so
navigation, share bars and footers never reach a segment. Scripts, styles and iframes
are removed before anything is read.

lxml's HTML parser is used directly: it is maintained, fast, tolerant of the broken
markup government CMSs produce, and never fetches external resources. trafilatura was
measured on the same fixtures: equal on a modern page, but on an old table-layout page
it kept the navigation, "扫一扫在手机打开当前页", print/close links and the ICP footer
(12 boilerplate strings leaked; 0 here), and it reads no 文号.
"""

from __future__ import annotations

import codecs
import re
from typing import Any

import lxml.html
from lxml.etree import ParserError

from ingest.decode import DecodeError, decode_bytes
from ingest.errors import CorruptFile, IngestError
from ingest.extracted import Extracted
from ingest.gongwen import DOC_NUMBER, normalise_doc_number, parse_date
from ingest.html_content import main_content, render, strip_chrome

__all__ = ["read_html"]

#: A declared charset in the page head: '<meta charset="gb2312">', 'content="text/html; charset=GBK"'.
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*(?P<charset>[\w.:-]+)""", re.IGNORECASE)
#: An XML declaration, which lxml refuses in an already decoded string: '<?xml version="1.0" encoding="utf-8"?>'.
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
#: A labelled 文号 in the page: "文号：常政办发〔2019〕143号", "发文字号 | 国办发〔2020〕5号".
_LABELLED_NUMBER = re.compile(r"(?:发文字号|文\s*号)\s*[：:|]?\s*[|｜]?\s*(?=" + DOC_NUMBER.pattern + ")")
#: A labelled date: "发布日期：2019-11-05", "发文日期 | 2019年11月1日", "成文日期：…".
_LABELLED_DATE = re.compile(r"(?:发布|成文|发文|公开)(?:日期|时间)\s*[：:|]?\s*[|｜]?\s*(?P<date>[\d年月日\-./ ]{8,16})")
#: A labelled issuer: "发布机构：常熟市人民政府办公室".
_LABELLED_ISSUER = re.compile(r"(?:发布机构|发文机关|发文单位)\s*[：:|]\s*[|｜]?\s*(?P<issuer>[^\s|｜]{2,30})")
#: What a <title> appends to the headline: "…的通知_常熟市人民政府", "… - 中国政府网".
_TITLE_SUFFIX = re.compile(r"\s*(?:[_|｜]|\s[-–—]\s).*$")
_GB = {"gb2312", "gbk", "gb_2312-80", "x-gbk", "cp936", "euc-cn"}
_TITLE_META = ("articletitle", "og:title", "dc.title")
_DATE_META = ("pubdate", "publishdate", "firstpublishedtime", "article:published_time", "dc.date", "date")
_ISSUER_META = ("contentsource", "source", "dc.publisher", "author")


def read_html(data: bytes) -> Extracted:
    """Main text of a web page, with title, date (``publish``), 文号 and issuer from the page."""
    page = _decode(data)
    try:
        root = lxml.html.document_fromstring(_XML_DECLARATION.sub("", page, count=1))
    except (ParserError, ValueError) as error:
        raise CorruptFile(f"corrupt: not parseable as HTML ({error})") from error
    meta = _meta(root)
    page_title = _page_title(root)
    for element in list(root.iter("script", "style", "noscript", "iframe", "template", "head")):
        element.drop_tree()
    page_text = " ".join(render(root).split())  # the whole page: the 信息公开 table is outside the article
    metadata: dict[str, Any] = {"format": "html"}
    if number := _doc_number(page_text):
        metadata["doc_number"] = number
    if date := _date(meta, page_text):
        metadata["publish"] = date
    if issuer := _issuer(meta, page_text):
        metadata["issuer"] = issuer
    for key, name in (("keywords", "keywords"), ("description", "description"), ("og:url", "url")):
        if meta.get(key):
            metadata[name] = meta[key]
    if page_title:
        metadata["page_title"] = page_title
    strip_chrome(root)  # before looking for an <h1>: a site logo is often one
    title = _title(root, meta)
    text = render(main_content(root))
    if not text.strip():
        raise IngestError("the page has no main text")
    return Extracted(text=text, title=title, metadata=metadata)


def _decode(data: bytes) -> str:
    """A byte-order mark decides, then strict UTF-8, then the declared charset, then decode_bytes.

    Bytes that are valid UTF-8 are UTF-8 whatever the page declares (CMSs often keep a
    stale "gb2312" after converting); a declared Big5 or GBK is honoured before falling
    back to GB18030, which would otherwise read Big5 bytes as wrong but valid characters.
    """
    if not data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        if match := _CHARSET.search(data[:4096]):
            declared = match["charset"].decode("ascii", "replace").lower()
            encoding = "gb18030" if declared in _GB else declared
            try:
                return data.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                pass  # a wrong declaration is common; fall through to the strict guess
    try:
        return decode_bytes(data)
    except DecodeError as error:
        raise IngestError(f"cannot decode: {error}") from error


def _meta(root: lxml.html.HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for element in root.iter("meta"):
        key = (element.get("name") or element.get("property") or "").strip().lower()
        value = " ".join((element.get("content") or "").split())
        if key and value and key not in found:
            found[key] = value
    return found


def _title(root: lxml.html.HtmlElement, meta: dict[str, str]) -> str | None:
    """The headline as the page states it for this article: its meta title, else its <h1>.

    ``<title>`` is not trusted for this (old sites put only the site name there); it is
    kept as ``page_title`` and the document's own 公文 title or first line wins instead.
    """
    for key in _TITLE_META:
        if meta.get(key):
            return meta[key]
    for heading in root.iter("h1"):
        if text := " ".join(heading.text_content().split()):
            return text
    return None


def _page_title(root: lxml.html.HtmlElement) -> str | None:
    """``<title>`` without the site name it usually ends with: "…的通知_常熟市人民政府" -> "…的通知"."""
    title = root.find(".//title")
    if title is None or not (text := " ".join(title.text_content().split())):
        return None
    return _TITLE_SUFFIX.sub("", text) or text


def _doc_number(page_text: str) -> str | None:
    match = _LABELLED_NUMBER.search(page_text)
    if match is None:
        return None
    number = DOC_NUMBER.match(page_text, match.end())
    return normalise_doc_number(number.group(0)) if number else None


def _date(meta: dict[str, str], page_text: str) -> str | None:
    for key in _DATE_META:
        if meta.get(key) and (date := parse_date(meta[key])):
            return date
    match = _LABELLED_DATE.search(page_text)
    return parse_date(match["date"]) if match else None


def _issuer(meta: dict[str, str], page_text: str) -> str | None:
    match = _LABELLED_ISSUER.search(page_text)
    if match:
        return match["issuer"]
    return next((meta[key] for key in _ISSUER_META if meta.get(key)), None)
