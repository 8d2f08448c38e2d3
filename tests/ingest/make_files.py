"""Build the binary fixtures (Word, PDF, HTML, CSV) from the seed 公文, at test time.

Binary fixtures are never committed: each builder writes a realistic file of its format
from the seed text into a temporary folder, with the artifacts a reader must handle
(Word list numbering that exists only as numbering definitions, tracked changes, running
PDF headers and page numbers, a page break inside a word, a government web page's
navigation, share bar, scripts and footer). Tests then check that the seed's structure
comes back out of each of them.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from tests.conftest import SEED

DOC_NUMBER = "常政办发〔2019〕143号"
#: Text of the Word header and footer: unique, so a test can prove it never reaches the text.
DOCX_HEADER = "常熟市人民政府办公室（页眉）" + DOC_NUMBER
DOCX_FOOTER = "常熟市人民政府办公室印发（页脚）"
#: Text the seed Word file deletes as a tracked change: must not reach the text either.
DELETED = "（征求意见稿）"
TABLE_ROWS = (("附件", "常熟市2019年政务公开工作任务分解表"), ("联系人", "市政府办公室政务公开科"))
#: Where the PDF's forced page break cuts a word, as the seed's own extraction did: "“一" / "号答”".
PAGE_SPLIT = "“一"
#: Boilerplate of the web page: none of it may reach a segment.
HTML_BOILERPLATE = (
    "扫一扫在手机打开当前页", "分享到", "首页", "政务服务", "互动交流", "走进常熟", "当前位置", "打印本页",
    "关闭窗口", "版权所有", "苏ICP备", "网站标识码", "alert(1)", "color:red", "相关链接", "网站地图", "iframe",
)

_HEADING = re.compile(r"^(?P<label>[一二三四五六七八九十]+、)(?P<rest>.+)$")  # "一、做好政务发布解读回应工作"
_ITEM = re.compile(r"^(?P<label>（[一二三四五六七八九十]+）)(?P<rest>.+)$", re.DOTALL)  # "（一）推动建设…"
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def seed_blocks() -> list[str]:
    """The seed's paragraphs after cleaning, as a writer would have typed them."""
    from ingest import clean_text

    return clean_text(SEED.read_text(encoding="utf-8")).split("\n\n")


# -- Word ------------------------------------------------------------------------------

_ABSTRACT_NUM = f"""<w:abstractNum xmlns:w="{_W}" w:abstractNumId="90">
  <w:multiLevelType w:val="multilevel"/>
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="%1、"/>
    <w:lvlJc w:val="left"/><w:suff w:val="nothing"/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/><w:lvlText w:val="（%2）"/>
    <w:lvlJc w:val="left"/><w:suff w:val="nothing"/></w:lvl>
</w:abstractNum>"""
_NUM = f'<w:num xmlns:w="{_W}" w:numId="90"><w:abstractNumId w:val="90"/></w:num>'


def _add_numbering(document) -> None:
    """Define a 一、/（一） list the way Word does: an abstractNum and a num instance."""
    from docx.oxml import parse_xml

    numbering = document.part.numbering_part.element
    first_num = numbering.find(f"{{{_W}}}num")
    first_num.addprevious(parse_xml(_ABSTRACT_NUM))  # abstractNums must precede nums
    numbering.append(parse_xml(_NUM))


def _number(paragraph, level: int) -> None:
    num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    num_pr.get_or_add_ilvl().val = level
    num_pr.get_or_add_numId().val = 90


def _add_runs(paragraph, text: str, size: int = 37) -> None:
    """Several runs per paragraph, cut mid-word, as Word's revision ids leave them."""
    for start in range(0, len(text), size):
        paragraph.add_run(text[start : start + size])


def _tracked_change(paragraph) -> None:
    """Turn the middle of a paragraph into a tracked insertion and add a tracked deletion."""
    from docx.oxml import parse_xml

    runs = paragraph._p.findall(f"{{{_W}}}r")
    inserted = parse_xml(f'<w:ins xmlns:w="{_W}" w:id="1" w:author="审核" w:date="2019-10-30T00:00:00Z"/>')
    deleted = parse_xml(
        f'<w:del xmlns:w="{_W}" w:id="2" w:author="审核" w:date="2019-10-30T00:00:00Z">'
        f"<w:r><w:delText>{DELETED}</w:delText></w:r></w:del>"
    )
    runs[1].addprevious(inserted)
    inserted.append(runs[1])
    inserted.addnext(deleted)


def _content_control(paragraph) -> None:
    """Wrap a body paragraph in a content control (``w:sdt``), as Word templates do."""
    from docx.oxml import parse_xml

    control = parse_xml(f'<w:sdt xmlns:w="{_W}"><w:sdtPr><w:alias w:val="公开属性"/></w:sdtPr><w:sdtContent/></w:sdt>')
    paragraph._p.addprevious(control)
    control.find(f"{{{_W}}}sdtContent").append(paragraph._p)


def write_seed_docx(path: Path, *, numbered: bool = True) -> Path:
    """The seed as a Word file: 一、/（一） as automatic numbering, a table, a header and footer."""
    from docx import Document as WordDocument
    from docx.enum.text import WD_BREAK

    document = WordDocument()
    if numbered:
        _add_numbering(document)
    section = document.sections[0]
    section.header.paragraphs[0].text = DOCX_HEADER
    section.footer.paragraphs[0].text = DOCX_FOOTER
    for block in seed_blocks():
        if block.startswith("抄送"):  # the table sits between the closing sentence and the 版记
            table = document.add_table(rows=len(TABLE_ROWS), cols=2)
            for row, values in zip(table.rows, TABLE_ROWS, strict=True):
                for cell, value in zip(row.cells, values, strict=True):
                    cell.text = value
        paragraph = document.add_paragraph()
        heading, item = _HEADING.match(block), _ITEM.match(block)
        if numbered and heading:
            _number(paragraph, 0)
            block = heading["rest"]
        elif numbered and item:
            _number(paragraph, 1)
            block = item["rest"]
        lines = block.split("\n")
        for number, line in enumerate(lines):
            _add_runs(paragraph, line)
            if number < len(lines) - 1:
                paragraph.runs[-1].add_break(WD_BREAK.LINE)  # signature and date: one paragraph, two lines
        if block.startswith("经研究"):
            _tracked_change(paragraph)
        if block.startswith("（此件"):
            _content_control(paragraph)
    document.save(path)
    return path


# -- PDF -------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = 595.0, 842.0
LEFT, RIGHT, TOP, BOTTOM = 90.0, 505.0, 760.0, 90.0
BODY_SIZE, TITLE_SIZE, HEAD_SIZE = 15.0, 18.0, 24.0
LEADING = 27.0


def _wrap(text: str, width: float, size: float, first_indent: float) -> list[tuple[float, str]]:
    """Lines of ``text`` (with their x offset) that fill ``width`` character by character."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, line, indent = [], "", first_indent
    for char in text:
        if line and stringWidth(line + char, "STSong-Light", size) > width - indent:
            lines.append((indent, line))
            line, indent = "", 0.0
        line += char
    if line:
        lines.append((indent, line))
    return lines


def _layout(blocks: list[str]) -> list[tuple[str, float, float, str]]:
    """Every line as (kind, size, x, text); kind "break" forces a new page."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    width = RIGHT - LEFT
    out: list[tuple[str, float, float, str]] = []

    def centered(text: str, size: float) -> None:
        for _, line in _wrap(text, width, size, 0.0):
            out.append(("line", size, LEFT + (width - stringWidth(line, "STSong-Light", size)) / 2, line))

    for number, block in enumerate(blocks):
        if number == 0:
            centered(block, HEAD_SIZE)
        elif number in (1, 2) or block == "常熟市2019年政务公开工作要点":
            centered(block, BODY_SIZE if number == 1 else TITLE_SIZE)
        elif "\n" in block or block.endswith("印发") or block == "常熟市人民政府办公室":
            for line in block.split("\n"):  # signature, date and 印发 lines: right-aligned
                x = RIGHT - 2 * BODY_SIZE - stringWidth(line, "STSong-Light", BODY_SIZE)
                out.append(("line", BODY_SIZE, x, line))
        else:
            indent = 0.0 if block.startswith(("各镇", "抄送")) else 2 * BODY_SIZE
            pieces = block.split(PAGE_SPLIT, 1) if PAGE_SPLIT in block else [block]
            if len(pieces) == 2:
                pieces[0] += PAGE_SPLIT
            for piece_number, piece in enumerate(pieces):
                if piece_number:
                    out.append(("break", 0.0, 0.0, ""))
                wrapped = _wrap(piece, width, BODY_SIZE, indent if not piece_number else 0.0)
                for number_in_piece, (x, line) in enumerate(wrapped):
                    kind = "justified" if number_in_piece < len(wrapped) - 1 else "line"
                    out.append((kind, BODY_SIZE, LEFT + x, line))
        out.append(("gap", 0.0, 0.0, ""))
    return out


def write_seed_pdf(path: Path, *, footer: str = "dash", header: str | None = DOC_NUMBER) -> Path:
    """The seed printed to PDF in STSong-Light: a running 文号 header, page numbers at the foot
    ("- 3 -" with ``footer="dash"``, "第3页 共12页" with ``footer="of"``), lines justified to
    the margin with character spacing as Word prints them, and a page break in a word."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen.canvas import Canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pages: list[list[tuple[float, float, float, str, float]]] = [[]]
    y = TOP
    for kind, size, x, text in _layout(seed_blocks()):
        if kind == "break" or (kind in ("line", "justified") and y < BOTTOM + 10):
            pages.append([])
            y = TOP
        if kind == "gap":
            y -= LEADING * 0.3
        elif kind in ("line", "justified"):
            spare = RIGHT - x - pdfmetrics.stringWidth(text, "STSong-Light", size)
            spacing = spare / max(len(text) - 1, 1) if kind == "justified" else 0.0
            pages[-1].append((size, x, y, text, spacing))
            y -= LEADING if size <= TITLE_SIZE else LEADING * 1.6
    canvas = Canvas(str(path), pagesize=(PAGE_WIDTH, PAGE_HEIGHT))
    canvas.setTitle("Microsoft Word - 143号.doc")
    for number, lines in enumerate(pages, start=1):
        if header:
            canvas.setFont("STSong-Light", 10.5)
            canvas.drawRightString(RIGHT, PAGE_HEIGHT - 50, header)
        canvas.setFont("STSong-Light", 10.5)
        label = f"- {number} -" if footer == "dash" else f"第{number}页 共{len(pages)}页"
        canvas.drawCentredString(PAGE_WIDTH / 2, 45, label)
        for size, x, y_line, text, spacing in lines:
            canvas.setFont("STSong-Light", size)
            canvas.drawString(x, y_line, text, charSpace=spacing)
        canvas.showPage()
    canvas.save()
    return path


def write_scanned_pdf(path: Path) -> Path:
    """A PDF whose only page is a picture of text: no text layer at all."""
    from PIL import Image, ImageDraw
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    image = Image.new("RGB", (600, 800), "white")
    draw = ImageDraw.Draw(image)
    for row in range(40, 760, 30):
        draw.rectangle((60, row, 540, row + 12), fill="black")  # lines of "text" as a scanner sees them
    canvas = Canvas(str(path), pagesize=(PAGE_WIDTH, PAGE_HEIGHT))
    canvas.drawImage(ImageReader(image), 0, 0, PAGE_WIDTH, PAGE_HEIGHT)
    canvas.showPage()
    canvas.save()
    return path


def write_encrypted_pdf(source: Path, path: Path, *, user_password: str = "143") -> Path:
    """``source`` encrypted with pypdf (AES-256): opening it needs ``user_password``."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password="owner-143", algorithm="AES-256")
    buffer = io.BytesIO()
    writer.write(buffer)
    path.write_bytes(buffer.getvalue())
    return path


# -- HTML ------------------------------------------------------------------------------

_PAGE = """<!DOCTYPE html>
<html lang="zh-CN"><head>
<meta charset="{charset}">
<title>市政府办公室关于印发《常熟市2019年政务公开工作要点》的通知_常熟市人民政府</title>
<meta name="SiteName" content="常熟市人民政府">
<meta name="ArticleTitle" content="市政府办公室关于印发《常熟市2019年政务公开工作要点》的通知">
<meta name="PubDate" content="2019-11-05 16:30">
<meta name="ContentSource" content="常熟市人民政府办公室">
<meta name="Keywords" content="政务公开,工作要点">
<style>.nav a {{ color:red }} body {{ font-family: SimSun }}</style>
<script>alert(1)</script>
<script src="/js/jquery.min.js"></script>
</head><body>
<div class="header"><div class="logo"><img src="/logo.png" alt="常熟市人民政府"></div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/zwgk/">政务公开</a></li>
<li><a href="/zwfw/">政务服务</a></li><li><a href="/hdjl/">互动交流</a></li><li><a href="/zjcs/">走进常熟</a></li></ul>
<form class="search"><input name="q" value="请输入关键字"><button>搜索</button></form></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk/">政务公开</a> &gt; 政府文件</div>
<div class="main">
<table class="xxgk-info">
<tr><td>索引号：</td><td>014177413/2019-00456</td><td>分类：</td><td>政务公开</td></tr>
<tr><td>发布机构：</td><td>常熟市人民政府办公室</td><td>发文日期：</td><td>2019-11-01</td></tr>
<tr><td>文号：</td><td>{doc_number}</td><td>主题词：</td><td>政务公开</td></tr>
</table>
<h1 class="article-title">市政府办公室关于印发《常熟市2019年政务公开工作要点》的通知</h1>
<div class="article-meta">发布时间：2019-11-05 16:30 来源：市政府办公室 浏览次数：1024 字号：[大 中 小]</div>
<div id="zoom" class="article-content">
{paragraphs}
</div>
<div class="share">分享到：<a href="#">微信</a> <a href="#">微博</a> <a href="#">QQ空间</a></div>
<div class="qrcode"><img src="/qr.png" alt=""><p>扫一扫在手机打开当前页</p></div>
<div class="tools"><a href="javascript:window.print()">【打印本页】</a> <a href="javascript:window.close()">【关闭窗口】</a></div>
<iframe src="https://example.gov.cn/counter" title="统计">iframe 统计</iframe>
<div class="related"><h3>相关链接</h3><ul>
<li><a href="/a/1.html">常熟市2018年政务公开工作要点</a></li>
<li><a href="/a/2.html">关于进一步做好政务公开工作的通知</a></li></ul></div>
</div>
<div class="footer"><p>主办：常熟市人民政府办公室 版权所有 <a href="/sitemap">网站地图</a></p>
<p>苏ICP备05012345号 网站标识码：3205810001</p><script>var _hmt = _hmt || [];</script></div>
</body></html>
"""


def seed_html(*, charset: str = "utf-8", with_doc_number_in_body: bool = True) -> bytes:
    """The seed as a government site publishes it: one <p> per paragraph inside the page chrome."""
    import html

    paragraphs = []
    for block in seed_blocks():
        if not with_doc_number_in_body and block == DOC_NUMBER:
            continue
        lines = "<br>".join(html.escape(line) for line in block.split("\n"))
        style = ' style="text-align:center"' if len(block) < 35 and "、" not in block else ""
        paragraphs.append(f"<p{style}>{lines}</p>")
    page = _PAGE.format(charset=charset, doc_number=DOC_NUMBER, paragraphs="\n".join(paragraphs))
    return page.encode(charset)


def write_mixed_pdf(path: Path) -> Path:
    """A text page followed by a scanned page: readable only in part, so it must not be stored."""
    from pypdf import PdfReader, PdfWriter

    text, scan = path.with_suffix(".text.pdf"), path.with_suffix(".scan.pdf")
    write_seed_pdf(text)
    write_scanned_pdf(scan)
    writer = PdfWriter()
    writer.add_page(PdfReader(text).pages[0])
    writer.add_page(PdfReader(scan).pages[0])
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def old_style_html() -> bytes:
    """The seed on an older site: a layout table, <br>-separated paragraphs indented with &nbsp;,
    the headline only in bold, the site name as <title>, GB2312 declared, chrome in table cells."""
    import html

    body = "<br>\n".join("&nbsp;&nbsp;&nbsp;&nbsp;" + html.escape(block).replace("\n", "<br>") for block in seed_blocks())
    page = f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>常熟市人民政府</title></head>
<body><table width="1000"><tr><td colspan="2"><a href="/">首页</a> | <a href="/zwgk">政务公开</a> |
<a href="/zwfw">政务服务</a> | <a href="/hdjl">互动交流</a></td></tr>
<tr><td width="200" valign="top"><a href="/1">走进常熟</a><br><a href="/2">网站地图</a><br><a href="/3">相关链接</a></td>
<td valign="top"><font size="4"><b>市政府办公室关于印发《常熟市2019年政务公开工作要点》的通知</b></font><br>
发布日期：2019-11-05<br>{body}<br><br>【打印本页】 【关闭窗口】<br>扫一扫在手机打开当前页</td></tr>
<tr><td colspan="2">版权所有：常熟市人民政府办公室 苏ICP备05012345号 网站标识码：3205810001</td></tr></table>
<script>alert(1)</script></body></html>"""
    return page.encode("gb18030")
