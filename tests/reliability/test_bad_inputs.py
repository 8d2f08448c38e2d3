"""The bad-input catalogue B1–B33 (../shared/RELIABILITY.md §3.3) against ``policykb serve``
on loopback and ``policykb ingest``.

One test per entry, the entry id in the test id. Every answer is checked the same way: no
5xx, an error is the JSON error shape with a code, and no body holds a stack trace or a
file-system path. Unless an entry stores something on purpose, the knowledge base is the
same afterwards: same content digest (``tests/reliability/kbstate.py``), same served
generation. Entries whose route is not in the server's OpenAPI are skipped with "route not
present", and start running when the route lands.
"""

from __future__ import annotations

import http.client
import io
import json
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.reliability.kbstate import content_digest, document_digests
from tests.reliability.served import leak_in, serving

REPO = Path(__file__).resolve().parents[2]
JOB_TIMEOUT_S = 120
#: Largest uploaded file the server is started with, so B25 can cross it cheaply.
MAX_UPLOAD_FILE_BYTES = 2 << 20
ID_NUMBER = "110105194912310021"
MOBILE = "13812345678"
#: What no body may hold: a stack trace, a source line, a server path.


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def code(self) -> str | None:
        try:
            return self.json["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return None


@dataclass
class Env:
    """The server, its knowledge base and what was asked of it."""

    base: str
    port: int
    kb_dir: Path
    log: Path
    key: str
    openapi: dict[str, Any]
    work: Path
    replies: list[Reply] = field(default_factory=list)
    _cli: dict[str, Any] | None = None

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
             *, key: bool = True) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        sent = dict(headers or {})
        if key:
            sent.setdefault("Authorization", f"Bearer {self.key}")
        started = time.monotonic()
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            reply = Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read(),
                          time.monotonic() - started)
        finally:
            connection.close()
        self.replies.append(reply)
        hygienic(reply, self.kb_dir)
        return reply

    def post_json(self, path: str, value: Any) -> Reply:
        return self.call("POST", path, json.dumps(value, ensure_ascii=False).encode("utf-8"),
                         {"Content-Type": "application/json"})

    def ask(self, question: Any, **extra: Any) -> Reply:
        return self.post_json("/v1/ask", {"question": question, **extra})

    def hits(self, question: str) -> list[str]:
        reply = self.ask(question, top_k=5)
        assert reply.status == 200, (question, reply.status, reply.body[:300])
        return [hit["segment_id"] for hit in reply.json["hits"]]

    def upload(self, files: list[tuple[str | bytes, bytes]]) -> Reply:
        body, content_type = multipart(files)
        return self.call("POST", "/v1/documents", body, {"Content-Type": content_type})

    def wait_for(self, job: dict[str, Any] | None) -> None:
        """Until the rebuild an upload started has finished (succeeded)."""
        if not job:
            return
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while time.monotonic() < deadline:
            reply = self.call("GET", f"/v1/jobs/{job['id']}")
            assert reply.status == 200, reply.body[:300]
            if reply.json["state"] in ("succeeded", "failed"):
                assert reply.json["state"] == "succeeded", reply.json
                return
            time.sleep(0.2)
        pytest.fail(f"job {job['id']} did not finish in {JOB_TIMEOUT_S} s")

    def state(self) -> tuple[str, str | None]:
        """The content digest and the served generation: "KB unchanged" compares these."""
        return content_digest(self.kb_dir), self.call("GET", "/healthz").json.get("generation")

    def has(self, method: str, path: str) -> bool:
        return method.lower() in self.openapi.get("paths", {}).get(path, {})


def hygienic(reply: Reply, kb_dir: Path) -> None:
    """No server error; errors in the JSON shape with a code; no trace or path in any body."""
    assert reply.status < 500, (reply.status, reply.body[:500])
    text = reply.body.decode("utf-8", errors="replace")
    leak = leak_in(text, kb_dir, REPO)
    assert leak is None, f"{leak!r} in a {reply.status} body: {text[:500]}"
    if reply.status >= 400:
        assert reply.headers.get("content-type", "").startswith("application/json"), reply.headers
        assert reply.code, text[:300]


def multipart(files: list[tuple[str | bytes, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body with each file in the field ``files``; a file name given as
    bytes is sent as those bytes (control characters and all)."""
    boundary = "policykb-reliability-boundary"
    out = io.BytesIO()
    for name, data in files:
        raw = name if isinstance(name, bytes) else name.replace('"', "%22").encode("utf-8")
        out.write(f"--{boundary}\r\n".encode())
        out.write(b'Content-Disposition: form-data; name="files"; filename="' + raw + b'"\r\n')
        out.write(b"Content-Type: application/octet-stream\r\n\r\n")
        out.write(data)
        out.write(b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


# -- the catalogue -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    run: Callable[[Env], None]
    routes: tuple[tuple[str, str], ...]
    unchanged: bool


CATALOGUE: dict[str, Entry] = {}
ASK = (("post", "/v1/ask"),)
FEEDBACK = (("post", "/v1/feedback"),)
UPLOAD = (("post", "/v1/documents"), ("get", "/v1/jobs/{job_id}"))


def entry(entry_id: str, routes: tuple[tuple[str, str], ...] = (), *, unchanged: bool = True):
    def register(function: Callable[[Env], None]) -> Callable[[Env], None]:
        CATALOGUE[entry_id] = Entry(function, routes, unchanged)
        return function
    return register


@entry("B1", ASK)
def empty_question(env: Env) -> None:
    reply = env.ask("")
    assert (reply.status, reply.code) == (422, "question_empty")


@entry("B2", ASK)
def whitespace_question(env: Env) -> None:
    for question in ("　　", "\t\n", " ", "\u3000\r\n\t "):
        reply = env.ask(question)
        assert (reply.status, reply.code) == (422, "question_empty"), repr(question)


@entry("B3", ASK)
def punctuation_question(env: Env) -> None:
    reply = env.ask("？？？！！。。")
    assert reply.status == 200 and reply.json["hits"] == [] and reply.json["reason"] == "no_searchable_terms"


@entry("B4", ASK)
def very_long_question(env: Env) -> None:
    reply = env.ask("社保" * 50_000)
    assert reply.status in (413, 422) and reply.code == "question_too_long", reply.body[:200]
    # refused before tokenising: jieba alone takes hundreds of milliseconds on 100,000 characters
    assert reply.seconds < 0.25, reply.seconds


@entry("B5", ASK)
def question_at_the_boundary(env: Env) -> None:
    question = ("用人单位未按时足额缴纳社会保险费怎么办" * 30)[:500]
    reply = env.ask(question)
    assert reply.status == 200 and reply.json["hits"], reply.body[:200]


@entry("B6", ASK)
def emoji(env: Env) -> None:
    for question in ("😀😀😀", "👨‍👩‍👧‍👦"):
        reply = env.ask(question)
        assert reply.status == 200 and reply.json["hits"] == [], question
        assert reply.json["reason"] == "no_searchable_terms", reply.json["reason"]
    assert env.hits("社保😀怎么交") == env.hits("社保怎么交")


@entry("B7", ASK)
def zero_width_characters(env: Env) -> None:
    clean = env.hits("社会保险费")
    assert clean
    for dirty in ("社\u200b会保险费", "\ufeff社会保险费", "社会\u2060保险费", "社会保\u200d险费"):
        assert env.hits(dirty) == clean, repr(dirty)
    _cli_document_contains(env, "zero-width.txt", "社会保险")


@entry("B8", ASK + FEEDBACK)
def bidi_controls(env: Env) -> None:
    reply = env.ask("\u202e社会保险费\u2066怎么缴纳\u2069")
    assert reply.status == 200
    assert not any(ch in json.dumps(reply.json["terms"]) for ch in "\u202e\u2066\u2069")
    assert [h["segment_id"] for h in reply.json["hits"]] == env.hits("社会保险费怎么缴纳")
    feedback = env.post_json("/v1/feedback", {"query_id": reply.json["query_id"], "verdict": "helpful",
                                              "comment": "\u202e有用\u2066"})
    assert feedback.status == 201, feedback.body[:300]
    assert "\u202e" not in env.log.read_text(encoding="utf-8", errors="replace")


@entry("B9", ASK)
def full_and_half_width(env: Env) -> None:
    assert env.hits("ＡＢＣ１２３社会保险费") == env.hits("ABC123社会保险费")
    assert env.hits("（一）住房公积金提取") == env.hits("(一)住房公积金提取")
    _cli_document_contains(env, "full-width.txt", "住房公积金")


@entry("B10", ASK)
def traditional_characters(env: Env) -> None:
    traditional, simplified = env.hits("社會保險費怎麼繳納"), env.hits("社会保险费怎么缴纳")
    assert simplified
    assert len(set(traditional) & set(simplified)) >= 0.8 * len(simplified), (traditional, simplified)


@entry("B11", ASK)
def gbk_body(env: Env) -> None:
    reply = env.call("POST", "/v1/ask", '{"question": "社保怎么交"}'.encode("gbk"), {"Content-Type": "application/json"})
    assert (reply.status, reply.code) == (400, "invalid_utf8")
    assert b'{"question"' not in env.log.read_bytes()  # the body is not logged


@entry("B12", ASK + FEEDBACK)
def malformed_utf8(env: Env) -> None:
    for path in ("/v1/ask", "/v1/feedback"):
        for body in (b'{"question": "\xff\xfe"}', b'{"question": "\xc0\xaf"}', b'{"question": "\xed\xa0\x80"}',
                     b'{"question": "\\ud800", "query_id": "\\ud800", "verdict": "helpful"}'):
            reply = env.call("POST", path, body, {"Content-Type": "application/json"})
            assert 400 <= reply.status < 500, (path, body, reply.status)


@entry("B13", ASK + UPLOAD)
def nul_characters(env: Env) -> None:
    reply = env.ask("社会保险费\u0000怎么缴纳")
    assert reply.status == 422 or (reply.status == 200 and [h["segment_id"] for h in reply.json["hits"]]
                                   == env.hits("社会保险费怎么缴纳")), reply.body[:300]
    reply = env.upload([(b"a.txt\x00.exe", "第一条 测试。".encode())])
    if reply.status == 200:
        assert [f["status"] for f in reply.json["files"]] == ["failed"], reply.json
    else:
        assert 400 <= reply.status < 500


@entry("B14", ASK)
def markup_in_question(env: Env) -> None:
    for question in ("<script>alert(1)</script>社会保险费", '<img src=x onerror="alert(1)">住房公积金'):
        reply = env.ask(question)
        assert reply.status == 200 and reply.headers["content-type"].startswith("application/json")
        assert reply.headers.get("x-content-type-options") == "nosniff"
        assert reply.json["question"] == question  # text, given back as the caller wrote it
        for hit in reply.json["hits"]:
            assert "<script" not in hit["snippet"] and "<img" not in hit["snippet"]


@entry("B15", ASK)
def sql_in_question(env: Env) -> None:
    for question in ("' OR 1=1 --", '社保"; DROP TABLE segments;--', "1; DELETE FROM documents"):
        assert env.ask(question).status == 200


@entry("B16", ASK)
def search_syntax(env: Env) -> None:
    for question in ('"社保" NEAR/2 *', "(a+)+$" + "a" * 40 + "!", "\\", "社保 AND 公积金 OR NOT *", "[[[(((", "%s%n%x"):
        reply = env.ask(question)
        assert reply.status == 200 and reply.seconds < 1.0, (question, reply.status, reply.seconds)


@entry("B17", ASK)
def personal_numbers(env: Env) -> None:
    reply = env.ask(f"身份证{ID_NUMBER} 手机{MOBILE} 社会保险费怎么缴纳")
    assert reply.status == 200 and reply.json["hits"]
    activity = env.kb_dir / "activity.sqlite"
    # the log's own thread writes answers after they are given: wait for it, a few seconds at most
    deadline = time.monotonic() + 10
    while True:
        conn = sqlite3.connect(f"file:{activity}?mode=ro", uri=True)
        try:
            stored = [q for (q,) in conn.execute("SELECT question FROM queries")]
        finally:
            conn.close()
        if any("[身份证号]" in q for q in stored) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert any("[身份证号]" in q and "[手机号]" in q for q in stored), stored[-3:]
    for sink in (activity, env.log):
        raw = sink.read_bytes()
        assert ID_NUMBER.encode() not in raw and MOBILE.encode() not in raw, sink.name


@entry("B18", ASK)
def out_of_bounds_numbers(env: Env) -> None:
    for top_k in (0, -1, 10**9, "abc", 1.5, None, [], True):
        reply = env.ask("社会保险费", top_k=top_k)
        assert reply.status == 422, (top_k, reply.status)
    reply = env.call("GET", "/v1/documents?offset=1000000000000&limit=10")
    assert reply.status in (200, 422) and (reply.status == 422 or reply.json == [] or reply.json.get("documents") == [])
    reply = env.call("GET", "/v1/documents?limit=-1")
    assert reply.status == 422
    deep = b'{"question": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    reply = env.call("POST", "/v1/ask", deep, {"Content-Type": "application/json"})
    assert 400 <= reply.status < 500


@entry("B19", ASK + FEEDBACK)
def wrong_content_type(env: Env) -> None:
    for path in ("/v1/ask", "/v1/feedback"):
        form, form_type = multipart([("a.txt", b"x")])
        question = '{"question": "社保"}'.encode()
        for body, content_type in ((question, "text/plain"), (form, form_type), (b"", "application/json"),
                                   (None, None)):
            headers = {"Content-Type": content_type} if content_type else {}
            reply = env.call("POST", path, body, headers)
            assert reply.status in (400, 415, 422), (path, content_type, reply.status)


@entry("B20", UPLOAD, unchanged=False)
def hostile_file_names(env: Env) -> None:
    names = ["../../etc/passwd.txt", "..\\..\\a.txt", "/etc/cron.d/x.txt", "a" * 300 + ".txt", "CON.txt"]
    outside = [env.kb_dir / "uploads" / "../../etc/passwd.txt", Path("/etc/cron.d/x.txt"), env.kb_dir.parent / "a.txt"]
    before = {p: p.exists() for p in outside}
    files = [(name, f"第一条 上传文件名测试{number}号，内容各不相同。\n\n第二条 第{number}份。".encode())
             for number, name in enumerate(names)]
    reply = env.upload(files)
    assert reply.status in (200, 202), reply.body[:300]
    assert [f["status"] for f in reply.json["files"]] == ["stored"] * len(names), reply.json
    for report in reply.json["files"]:
        for document in report.get("documents", []):
            doc_id = document if isinstance(document, str) else document.get("doc_id", "")
            assert "/" not in doc_id and "\\" not in doc_id and ".." not in doc_id, doc_id
    env.wait_for(reply.json["job"])
    assert {p: p.exists() for p in outside} == before
    assert not any((env.kb_dir / "uploads").glob("*/*")), "an uploaded file was left behind"


@entry("B21", UPLOAD, unchanged=False)
def chinese_file_name(env: Env) -> None:
    name = "关于印发《常熟市养老服务补贴办法》的通知（常政办发〔2019〕143号）.txt"
    reply = env.upload([(name, "第一条 年满八十周岁的老年人可以申请养老服务补贴。\n\n第二条 补贴按月发放。".encode())])
    assert reply.status == 202 and reply.json["files"][0]["status"] == "stored", reply.body[:300]
    assert reply.json["files"][0]["file"] == name
    env.wait_for(reply.json["job"])


def _refused_upload(env: Env, files: list[tuple[str | bytes, bytes]], codes: set[str]) -> None:
    reply = env.upload(files)
    if reply.status >= 400:
        assert reply.code in codes, (reply.status, reply.code)
        return
    assert reply.status == 200 and reply.json["job"] is None, reply.body[:300]
    for report in reply.json["files"]:
        assert report["status"] == "failed", report
        assert {error["code"] for error in report["errors"]} & codes, report


@entry("B22", UPLOAD)
def renamed_types(env: Env) -> None:
    _refused_upload(env, [("report.pdf", b"<html><body>not a pdf</body></html>"),
                          ("setup.docx", b"MZ\x90\x00" + b"\x00" * 200),
                          ("page.pdf", b"\x7fELF" + b"\x00" * 100)], {"unsupported_type"})


@entry("B23", UPLOAD)
def zip_bombs(env: Env) -> None:
    ratio = io.BytesIO()
    with zipfile.ZipFile(ratio, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<" + b"a" * (64 << 20) + b">")
    many = io.BytesIO()
    with zipfile.ZipFile(many, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
        for number in range(2100):
            archive.writestr(f"word/media/{number}.xml", "")
    _refused_upload(env, [("bomb.docx", ratio.getvalue()), ("many.docx", many.getvalue())],
                    {"unsafe", "too_large", "corrupt"})


@entry("B24", UPLOAD)
def xml_bombs(env: Env) -> None:
    laughs = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><w:document>&lol2;</w:document>')
    xxe = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><w:document>&x;</w:document>'
    files = []
    for name, xml in (("laughs.docx", laughs), ("xxe.docx", xxe)):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
            archive.writestr("word/document.xml", xml)
        files.append((name, buffer.getvalue()))
    _refused_upload(env, files, {"unsafe", "corrupt"})


@entry("B25", UPLOAD)
def oversized_file(env: Env) -> None:
    line = "第一条 本条例适用于本市行政区域内的社会保险费征收工作。\n\n".encode()
    big = line * (MAX_UPLOAD_FILE_BYTES // len(line) + 10)
    _refused_upload(env, [("big.txt", big)], {"too_large", "request_too_large", "upload_too_large"})


@entry("B26", UPLOAD)
def scanned_pdf(env: Env) -> None:
    from tests.ingest.make_files import write_scanned_pdf

    path = write_scanned_pdf(env.work / "scanned.pdf")
    _refused_upload(env, [("scanned.pdf", path.read_bytes())], {"needs_ocr"})


@entry("B27", UPLOAD)
def broken_and_encrypted_pdfs(env: Env) -> None:
    from tests.ingest.make_files import write_encrypted_pdf, write_seed_pdf

    seed = write_seed_pdf(env.work / "seed.pdf")
    encrypted = write_encrypted_pdf(seed, env.work / "encrypted.pdf")
    data = seed.read_bytes()
    _refused_upload(env, [("encrypted.pdf", encrypted.read_bytes())], {"encrypted"})
    _refused_upload(env, [("cut.pdf", data[: len(data) // 3])], {"corrupt"})


@entry("B28")
def text_encodings(env: Env) -> None:
    results = _cli(env)
    for name, expected in CLI_TEXTS.items():
        if name in ("zero-width.txt", "full-width.txt"):
            continue
        _cli_document_contains(env, name, expected)
    failed = {Path(f["source"]).name for f in results["summary"]["failures"]}
    assert "undecodable.txt" in failed, results["summary"]["failures"]


@entry("B29")
def markup_in_html(env: Env) -> None:
    text = _cli_text(env, "page.html")
    assert "政务公开" in text
    for markup in ("<script", "alert(", "onerror", "javascript:", "<iframe", "<style", "color:red"):
        assert markup not in text, markup


@entry("B30")
def pdf_page_artefacts(env: Env) -> None:
    """The seed printed to PDF with running 文号 headers, "- 3 -" or "第3页 共12页" footers and a
    word split by a page break reads back as the very text of the seed's web page: both PDFs
    are recognised as duplicates of it (same text once whitespace is ignored)."""
    kb_dir = _cli(env)["kb_dir"]
    conn = sqlite3.connect(f"file:{kb_dir / 'kb.sqlite'}?mode=ro", uri=True)
    try:
        aliases = dict(conn.execute("SELECT alias, doc_id FROM aliases").fetchall())
    finally:
        conn.close()
    page, _ = _cli_row(env, "page.html")
    assert aliases.get("pages-dash") == page and aliases.get("pages-of") == page, aliases
    text = _cli_text(env, "page.html")
    assert "- 2 -" not in text and "第2页" not in text


@entry("B31", UPLOAD, unchanged=False)
def same_document_twice(env: Env) -> None:
    text = "第一条 高龄老人可以申请居家养老服务补贴。\n\n第二条 补贴由民政部门审核发放。"
    first = env.upload([("twice.txt", text.encode("utf-8"))])
    assert first.status == 202 and first.json["files"][0]["status"] == "stored", first.body[:300]
    env.wait_for(first.json["job"])
    # a copy under another name is remembered as an alias of the stored document: that is the
    # one row it may add; documents, passages and the served generation stay as they are
    before = (document_digests(env.kb_dir), env.state()[1])
    for name, data in (("twice.txt", text.encode("utf-8")), ("another-name.txt", text.encode("utf-8")),
                       ("gbk-copy.txt", text.encode("gbk"))):
        again = env.upload([(name, data)])
        assert again.status == 200 and again.json["job"] is None, again.body[:300]
        assert again.json["files"][0]["status"] in ("unchanged", "duplicate"), again.json
    assert (document_digests(env.kb_dir), env.state()[1]) == before


@entry("B32", UPLOAD, unchanged=False)
def revised_versions(env: Env) -> None:
    def notice(number: str, day: str, body: str) -> bytes:
        return (f"常熟市人民政府办公室文件\n\n{number}\n\n关于印发常熟市助餐服务补贴办法的通知\n\n"
                f"一、补贴对象\n\n{body}\n\n常熟市人民政府办公室\n\n{day}\n").encode()
    newer = notice("常政办发[2021]88号", "2021年6月1日", "年满七十周岁的老年人可以申请助餐服务补贴，每餐补贴五元。")
    older = notice("常政办发〔２０２１〕８８号", "2021年1月5日", "年满八十周岁的老年人可以申请助餐服务补贴，每餐补贴三元。")
    reply = env.upload([("zhucan-new.txt", newer), ("zhucan-old.txt", older)])  # the newer one first
    assert reply.status == 202, reply.body[:300]
    assert [f["status"] for f in reply.json["files"]] == ["stored", "stored"], reply.json
    env.wait_for(reply.json["job"])
    ids = [_doc_id(report) for report in reply.json["files"]]
    new, old = (env.call("GET", f"/v1/documents/{doc_id}").json for doc_id in ids)
    assert new["doc_number"] == old["doc_number"] == "常政办发〔2021〕88号", (new["doc_number"], old["doc_number"])
    assert new["status"] == "in_force" and old["status"] == "superseded", (new["status"], old["status"])
    hits = env.ask("助餐服务补贴每餐补贴多少").json["hits"]
    assert hits and all(hit["doc_id"] != ids[1] for hit in hits)  # only the current version by default
    history = env.ask("助餐服务补贴每餐补贴多少", filters={"include_superseded": True}).json["hits"]
    assert {hit["superseded_by"] for hit in history if hit["doc_id"] == ids[1]} == {ids[0]}, history


@entry("B33", UPLOAD)
def empty_and_endless(env: Env) -> None:
    _refused_upload(env, [("empty.txt", b"")], {"empty", "invalid"})
    _refused_upload(env, [("blank.txt", "  \n\u3000\t\n".encode())], {"empty", "invalid"})
    text = _cli_text(env, "one-line.txt")
    segments = _cli_segments(env, "one-line.txt")
    assert len(text) >= 1 << 19 and len(segments) > 100
    assert max(end - start for start, end, _ in segments) <= 1500
    assert all(text[start:end] == segment for start, end, segment in segments)


def _doc_id(report: dict[str, Any]) -> str:
    document = report["documents"][0]
    return document if isinstance(document, str) else document["doc_id"]


# -- the CLI side: one `policykb ingest` of a folder of awkward files ----------------------------

CLI_TEXTS = {
    "gbk.txt": "第一条 职工可以提取住房公积金。",
    "gb18030-rare.txt": "第一条 㐀𠀀字的居民可以办理户籍登记。",
    "utf8-bom.txt": "第一条 失业人员可以领取失业保险金。",
    "utf16.txt": "第一条 个体工商户应当办理登记。",
    "zero-width.txt": "第一条 社\u200b会保险费由用人单位\ufeff缴纳。",
    "full-width.txt": "（一）住房公积金ＡＢＣ１２３提取。\n\n(二)住房公积金贷款。",
}
ENCODINGS = {"gbk.txt": "gbk", "gb18030-rare.txt": "gb18030", "utf8-bom.txt": "utf-8-sig", "utf16.txt": "utf-16"}


def _cli(env: Env) -> dict[str, Any]:
    if env._cli is not None:
        return env._cli
    from tests.ingest.make_files import seed_html, write_seed_pdf

    folder = env.work / "cli-files"
    folder.mkdir()
    for name, text in CLI_TEXTS.items():
        (folder / name).write_bytes(text.encode(ENCODINGS.get(name, "utf-8")))
    (folder / "undecodable.txt").write_bytes(bytes(range(128, 256)) * 40)
    html = seed_html().replace(b"</body>", b'<p onclick="alert(1)">\xe4\xbd\x8f\xe6\x88\xbf\xe5\x85\xac\xe7\xa7\xaf'
                               b'\xe9\x87\x91</p><img src=x onerror="alert(2)"><a href="javascript:alert(3)">x</a>'
                               b'<style>p{color:red}</style></body>')
    (folder / "page.html").write_bytes(html)
    write_seed_pdf(folder / "pages-dash.pdf", footer="dash")
    write_seed_pdf(folder / "pages-of.pdf", footer="of")
    (folder / "one-line.txt").write_text("社会保险" * (1 << 17), encoding="utf-8")
    kb_dir = env.work / "cli-kb"
    result = subprocess.run([sys.executable, "-m", "policykb", "ingest", str(folder), "--kb", str(kb_dir),
                             "--no-build", "--json"], cwd=REPO, capture_output=True, timeout=300)
    output = result.stdout.decode("utf-8") + result.stderr.decode("utf-8")
    assert "Traceback" not in output, output[-2000:]
    assert result.returncode == 1, output[-2000:]  # exactly: one file failed (undecodable.txt)
    env._cli = {"summary": json.loads(result.stdout), "kb_dir": kb_dir}
    return env._cli


def _cli_row(env: Env, name: str) -> tuple[str, str]:
    kb_dir = _cli(env)["kb_dir"]
    conn = sqlite3.connect(f"file:{kb_dir / 'kb.sqlite'}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT doc_id, text FROM documents WHERE source LIKE ?", [f"%{name}"]).fetchall()
    finally:
        conn.close()
    assert len(rows) == 1, (name, [r[0] for r in rows])
    return rows[0]


def _cli_text(env: Env, name: str) -> str:
    return _cli_row(env, name)[1]


def _cli_segments(env: Env, name: str) -> list[tuple[int, int, str]]:
    doc_id, _ = _cli_row(env, name)
    conn = sqlite3.connect(f"file:{_cli(env)['kb_dir'] / 'kb.sqlite'}?mode=ro", uri=True)
    try:
        return conn.execute('SELECT start, "end", text FROM segments WHERE doc_id = ? ORDER BY ordinal',
                            [doc_id]).fetchall()
    finally:
        conn.close()


def _cli_document_contains(env: Env, name: str, expected: str) -> None:
    """The stored text of ``name`` holds ``expected`` (after the zero-width characters are gone)."""
    text = _cli_text(env, name)
    wanted = expected.split("第一条 ")[-1].replace("\u200b", "").replace("\ufeff", "")
    assert wanted in text, (name, text[:200])
    assert not any(ch in text for ch in "\u200b\ufeff\u2060\ufffd"), (name, text[:200])


# -- the server ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, policy_documents) -> Iterator[Env]:
    from kb import KnowledgeBase
    from service.keys import KeyRing
    from tests.service.test_server import free_port

    work = tmp_path_factory.mktemp("bad-inputs")
    kb_dir = work / "kb"
    knowledge_base = KnowledgeBase(kb_dir, create=True)
    try:
        knowledge_base.add_documents(policy_documents)
        knowledge_base.build()
    finally:
        knowledge_base.close()
    key = KeyRing.beside(kb_dir).create("reliability", "admin")
    port = free_port()
    log_path = work / "serve.log"
    with serving(kb_dir, port, log_path, RATE_LIMIT="0", KEY_RATE_LIMIT="0",
                 MAX_UPLOAD_FILE_BYTES=str(MAX_UPLOAD_FILE_BYTES)):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/openapi.json")
        openapi = json.loads(connection.getresponse().read())
        served = Env(f"http://127.0.0.1:{port}", port, kb_dir, log_path, key, openapi, work)
        yield served
        print(f"\nbad inputs: {len(served.replies)} requests, {sum(r.status >= 500 for r in served.replies)} "
              "server errors")
    output = log_path.read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in output, output[-3000:]


@pytest.mark.parametrize("entry_id", list(CATALOGUE))
def test_catalogued_bad_input(env: Env, entry_id: str) -> None:
    entry_ = CATALOGUE[entry_id]
    missing = [f"{method.upper()} {path}" for method, path in entry_.routes if not env.has(method, path)]
    if missing:
        pytest.skip(f"route not present: {', '.join(missing)}")
    before = env.state()
    entry_.run(env)
    if entry_.unchanged:
        assert env.state() == before, "the knowledge base changed"


def test_the_catalogue_is_whole() -> None:
    assert list(CATALOGUE) == [f"B{number}" for number in range(1, 34)]


def test_a_long_file_name_keeps_its_extension() -> None:
    """B20 found it: a 300-byte name was cut to 255 characters, extension and all, and the
    file was then refused as of no known type."""
    from service.uploads import MAX_NAME_CHARS, shown_name

    name = shown_name("通" * 300 + ".docx")
    assert len(name) == MAX_NAME_CHARS and name.endswith("通.docx")
    assert shown_name("a\u202e\x00b.txt") == "ab.txt"
