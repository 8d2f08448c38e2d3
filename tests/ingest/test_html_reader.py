"""Web pages: the article only, with title, date, 文号 and issuer read from the page around it."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import IngestError, read_document
from ingest.html_reader import read_html
from tests.conftest import SEED
from tests.ingest import make_files


def _chrome_in(text: str) -> list[str]:
    return [marker for marker in make_files.HTML_BOILERPLATE if marker in text]


def test_a_government_page_gives_its_article_and_its_metadata() -> None:
    extracted = read_html(make_files.seed_html())
    assert extracted.title == "市政府办公室关于印发《常熟市2019年政务公开工作要点》的通知"
    assert extracted.metadata == {
        "format": "html", "doc_number": "常政办发〔2019〕143号", "publish": "2019-11-05", "issuer": "常熟市人民政府办公室",
        "keywords": "政务公开,工作要点", "page_title": "市政府办公室关于印发《常熟市2019年政务公开工作要点》的通知",
    }
    assert extracted.text.startswith("常熟市人民政府办公室文件\n\n常政办发〔2019〕143号\n\n")
    assert extracted.text.endswith("常熟市人民政府办公室\n\n2019年11月1日印发")
    assert _chrome_in(extracted.text) == []
    assert "索引号" not in extracted.text and "浏览次数" not in extracted.text


def test_the_same_page_in_gb18030_reads_the_same() -> None:
    assert read_html(make_files.seed_html(charset="gb18030")) == read_html(make_files.seed_html())


def test_a_wrong_charset_declaration_does_not_garble_the_text() -> None:
    page = make_files.seed_html().replace(b'<meta charset="utf-8">', b'<meta charset="gb2312">')
    assert read_html(page).text == read_html(make_files.seed_html()).text


def test_a_declared_big5_page_is_read_as_big5() -> None:
    page = '<html><head><meta charset="big5"></head><body><p>臺北市政府常見問答，申請流程說明。</p></body></html>'
    assert read_html(page.encode("big5")).text == "臺北市政府常見問答，申請流程說明。"


def test_the_doc_number_comes_from_the_page_when_the_article_lacks_it(tmp_path: Path) -> None:
    path = tmp_path / "notice.html"
    path.write_bytes(make_files.seed_html(with_doc_number_in_body=False))
    document = read_document(path)
    assert "常政办发〔2019〕143号" not in document.text
    assert document.doc_number == "常政办发〔2019〕143号"
    assert document.metadata["publish"] == "2019-11-05"


def test_an_old_table_layout_page_loses_its_chrome_and_keeps_its_structure(tmp_path: Path) -> None:
    path = tmp_path / f"{SEED.stem}.htm"
    path.write_bytes(make_files.old_style_html())
    document = read_document(path)
    assert _chrome_in(document.text) == []
    assert document.title == "市政府办公室关于印发《常熟市2019年政务公开工作要点》的通知"  # not the <title> "常熟市人民政府"
    assert document.metadata["page_title"] == "常熟市人民政府"
    items = [s for s in document.segments if s.anchor.startswith("s")]
    assert len(items) == 17 and items[0].section_path == ("一、做好政务发布解读回应工作", "（一）推动建设公开透明营商环境")


def test_a_logo_heading_is_not_the_title() -> None:
    page = ('<html><head><title>通知_某市政府</title></head><body><div class="logo"><h1>某市人民政府</h1></div>'
            '<div class="article"><p>各区人民政府，市各委办局：现将有关事项通知如下，请认真贯彻执行。</p></div></body></html>')
    extracted = read_html(page.encode())
    assert extracted.title is None and extracted.metadata["page_title"] == "通知"
    assert extracted.text == "各区人民政府，市各委办局：现将有关事项通知如下，请认真贯彻执行。"


def test_a_wrapper_named_like_chrome_is_kept_when_it_holds_the_article() -> None:
    page = make_files.seed_html().replace(b'<div class="main">', b'<div class="main-side layout">')
    assert read_html(page).text == read_html(make_files.seed_html()).text


def test_scripts_styles_and_iframes_never_reach_the_text() -> None:
    page = ("<html><body><div id='zoom'><p>第一条 为规范政务公开工作，制定本办法。</p>"
            "<script>document.write('注入的文字')</script><style>p { color: red }</style>"
            "<iframe src='x'>框架里的文字</iframe><noscript>请启用脚本</noscript>"
            "<p>第二条 本办法自发布之日起施行。</p></div></body></html>")
    assert read_html(page.encode()).text == "第一条 为规范政务公开工作，制定本办法。\n\n第二条 本办法自发布之日起施行。"


def test_a_page_without_text_is_refused() -> None:
    with pytest.raises(IngestError, match="no main text"):
        read_html("<html><body><nav><a href='/'>首页</a></nav><script>alert(1)</script></body></html>".encode())
