"""Administration over HTTP on a real app and a real knowledge base (a copy per module).

Uploads are read by the very reader ``policykb serve`` wires in (``policykb.uploads``), the
rebuild runs in its child process, and the asks after it go through the new generation.
Hostile uploads must each be refused cleanly (a 4xx JSON error or a per-file failure), write
nothing outside KB_DIR and leave the knowledge base as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import signal
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from policykb.uploads import ingest_upload
from service import ServiceSettings, create_app
from service.keys import KeyRing
from tests.service.test_feedback import copy_kb

NOTICE_NAME = "常熟市垃圾分类通知.txt"
NOTICE = ("常熟市人民政府办公室关于推进生活垃圾分类工作的通知\n\n"
          "一、居民应当将生活垃圾分为可回收物、有害垃圾、厨余垃圾和其他垃圾，分类投放至相应收集容器。\n\n"
          "二、各镇（街道）负责辖区内生活垃圾分类的组织实施和日常督导。（责任部门：市城管局）\n")
QUESTION = "生活垃圾怎么分类投放"
JOB_TIMEOUT_S = 180


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def kb_state(kb_dir: Path) -> tuple[int, int, str]:
    """Documents, segments and a digest of every document's id and text: "KB unchanged" means equal."""
    with sqlite3.connect(kb_dir / "kb.sqlite") as db:
        rows = db.execute("SELECT doc_id, content_hash FROM documents ORDER BY doc_id").fetchall()
        segments = db.execute("SELECT COUNT(*) FROM segments").fetchone()[0]
    return len(rows), segments, hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def wait_for(client: TestClient, job_id: str, headers: dict[str, str]) -> dict:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while True:
        job = client.get(f"/v1/jobs/{job_id}", headers=headers).json()
        if job["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


@pytest.fixture(scope="module")
def admin(kb_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str], Path]]:
    own = copy_kb(kb_dir, tmp_path_factory.mktemp("admin") / "kb")
    ring = KeyRing.beside(own)
    keys = {"writer": ring.create("writer", "documents:write"), "admin": ring.create("admin", "admin"),
            "ask": ring.create("asker", "ask")}
    settings = ServiceSettings(kb_dir=own, rate_limit=None, max_upload_bytes=256 * 1024,
                               max_upload_file_bytes=64 * 1024)
    with TestClient(create_app(settings, ingest=ingest_upload), raise_server_exceptions=False) as client:
        yield client, keys, own


def upload(client: TestClient, key: str, *files: tuple[str, bytes]):
    return client.post("/v1/documents", headers=bearer(key),
                       files=[("files", (name, data, "application/octet-stream")) for name, data in files])


def test_an_uploaded_file_is_stored_then_served_by_the_rebuilt_generation(admin) -> None:
    client, keys, own = admin
    before = client.post("/v1/ask", json={"question": QUESTION})
    assert before.status_code == 200
    response = upload(client, keys["writer"], (NOTICE_NAME, NOTICE.encode("gb18030")))
    assert response.status_code == 202, response.text
    answer = response.json()
    [report] = answer["files"]
    assert report["file"] == NOTICE_NAME and report["status"] == "stored" and report["errors"] == []
    assert report["documents"][0]["doc_id"] == "常熟市垃圾分类通知" and report["documents"][0]["outcome"] == "added"
    assert answer["job"]["kind"] == "rebuild" and answer["job"]["state"] in ("queued", "running")
    # Stored at once: readable before the index knows it.
    document = client.get("/v1/documents/常熟市垃圾分类通知").json()
    assert document["metadata"]["uploaded_as"] == NOTICE_NAME and document["source"] == NOTICE_NAME
    assert str(own) not in json.dumps(document, ensure_ascii=False)
    job = wait_for(client, answer["job"]["id"], bearer(keys["writer"]))
    assert job["state"] == "succeeded", job
    assert job["result"]["generation"] != before.headers["X-Index-Generation"]
    assert job["started_at"] and job["finished_at"] and job["error"] is None
    after = client.post("/v1/ask", json={"question": QUESTION})
    assert after.headers["X-Index-Generation"] == job["result"]["generation"]
    assert after.json()["hits"][0]["doc_id"] == "常熟市垃圾分类通知"
    assert not any((own / "uploads").iterdir())  # the text is in kb.sqlite; the saved file is gone


def test_the_same_file_again_is_unchanged_and_the_same_text_elsewhere_a_duplicate(admin) -> None:
    client, keys, own = admin
    upload(client, keys["writer"], (NOTICE_NAME, NOTICE.encode("utf-8")))  # stored by the test above, or now
    state = kb_state(own)
    again = upload(client, keys["writer"], (NOTICE_NAME, NOTICE.encode("utf-8")),
                   ("副本.txt", NOTICE.encode("utf-8")))
    assert again.status_code == 200 and again.json()["job"] is None  # nothing new: no rebuild
    unchanged, duplicate = again.json()["files"]
    assert unchanged["status"] == "unchanged"
    assert duplicate["status"] == "duplicate" and duplicate["documents"][0]["same_as"] == "常熟市垃圾分类通知"
    assert kb_state(own) == state


def _zip_bomb_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", b"<w:document>" + b"\x20" * (40 << 20) + b"</w:document>")
    return buffer.getvalue()


def test_hostile_files_fail_one_by_one_and_change_nothing(admin, tmp_path: Path) -> None:
    client, keys, own = admin
    state = kb_state(own)
    outside = sorted(p for p in own.parent.rglob("*") if not p.is_relative_to(own))
    bomb = _zip_bomb_docx()
    assert len(bomb) < 64 * 1024  # small on the wire, 40 MiB inside
    response = upload(client, keys["writer"],
                      ("bomb.docx", bomb),
                      ("scan.pdf", b"<!DOCTYPE html><html><body><p>not a pdf</p></body></html>"),
                      ("empty.txt", b""),
                      ("big.txt", "政务公开".encode() * 6000),  # 72,000 bytes: over the 64 KiB per file
                      ("payload.exe", b"MZ\x90\x00"),
                      ("", b"no name"))
    assert response.status_code == 200, response.text
    assert response.json()["job"] is None
    codes = {report["file"]: (report["status"], report["errors"][0]["code"]) for report in response.json()["files"]}
    assert codes == {"bomb.docx": ("failed", "unsafe"), "scan.pdf": ("failed", "unsupported_type"),
                     "empty.txt": ("failed", "empty"), "big.txt": ("failed", "too_large"),
                     "payload.exe": ("failed", "unsupported_type"), "": ("failed", "invalid")}
    assert str(own) not in response.text and "/tmp" not in response.text
    assert kb_state(own) == state
    assert not any((own / "uploads").iterdir())
    assert sorted(p for p in own.parent.rglob("*") if not p.is_relative_to(own)) == outside


def test_a_name_that_climbs_out_is_only_a_name(admin) -> None:
    client, keys, own = admin
    outside = sorted(p for p in own.parent.rglob("*") if not p.is_relative_to(own))
    text = "常熟市住房租赁管理通知\n\n一、出租住房应当办理租赁登记备案。\n"
    response = upload(client, keys["writer"], ("../../etc/passwd.txt", text.encode()))
    [report] = response.json()["files"]
    assert report["file"] == "../../etc/passwd.txt" and report["status"] == "stored"
    assert report["documents"][0]["doc_id"] == "passwd"
    assert sorted(p for p in own.parent.rglob("*") if not p.is_relative_to(own)) == outside
    assert not Path("/etc/passwd.txt").exists()
    assert wait_for(client, response.json()["job"]["id"], bearer(keys["writer"]))["state"] == "succeeded"


def test_bodies_that_are_not_uploads_get_clean_errors(admin) -> None:
    client, keys, own = admin
    state = kb_state(own)
    headers = bearer(keys["writer"])
    as_json = client.post("/v1/documents", json={"files": ["a.txt"]}, headers=headers)
    assert as_json.status_code == 415 and as_json.json()["error"]["code"] == "unsupported_media_type"
    broken = client.post("/v1/documents", content=b"--xyz\r\nContent-Disposition: form-data\r\n\r\nabc",
                         headers={**headers, "Content-Type": "multipart/form-data; boundary=xyz"})
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "upload_invalid"
    no_files = client.post("/v1/documents", data={"note": "x"}, files={"other": ("a.txt", b"abc")}, headers=headers)
    assert no_files.status_code == 422 and no_files.json()["error"]["code"] == "files_missing"
    too_many = upload(client, keys["writer"], *((f"{i}.txt", b"x") for i in range(101)))
    assert too_many.status_code == 413 and too_many.json()["error"]["code"] == "too_many_files"
    huge = upload(client, keys["writer"], ("huge.txt", b"a" * (300 * 1024)))
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "request_too_large"
    assert kb_state(own) == state


def test_only_the_upload_route_takes_large_bodies_and_only_after_the_key(admin) -> None:
    client, keys, _ = admin
    body = b"a" * (2 << 20)  # over the 1 MiB of every other route
    asked = client.post("/v1/ask", content=body, headers={"Content-Type": "application/json"})
    assert asked.status_code == 413 and asked.json()["error"]["code"] == "request_too_large"
    small = {"files": ("a.txt", b"a" * 1000)}
    assert client.post("/v1/documents", files=small).status_code == 401  # anonymous: refused unread
    assert client.put("/v1/documents", content=body).status_code in (405, 413)


def test_a_deleted_document_leaves_search_after_its_rebuild(admin) -> None:
    client, keys, own = admin
    text = "常熟市公共自行车租赁管理办法\n\n第一条 市民凭市民卡可以免费租用公共自行车一小时。\n"
    stored = upload(client, keys["writer"], ("公共自行车.txt", text.encode()))
    assert wait_for(client, stored.json()["job"]["id"], bearer(keys["writer"]))["state"] == "succeeded"
    assert client.post("/v1/ask", json={"question": "公共自行车免费租用"}).json()["hits"][0]["doc_id"] == "公共自行车"
    missing = client.delete("/v1/documents/no-such-document", headers=bearer(keys["writer"]))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    deleted = client.delete("/v1/documents/公共自行车", headers=bearer(keys["writer"]))
    assert deleted.status_code == 202 and deleted.json()["deleted"] is True
    # Gone from the store at once; its passages are skipped by the old generation meanwhile.
    assert client.get("/v1/documents/公共自行车").status_code == 404
    during = client.post("/v1/ask", json={"question": "公共自行车免费租用"})
    assert during.status_code == 200 and all(h["doc_id"] != "公共自行车" for h in during.json()["hits"])
    job = wait_for(client, deleted.json()["job"]["id"], bearer(keys["writer"]))
    assert job["state"] == "succeeded"
    assert client.post("/v1/ask", json={"question": "公共自行车免费租用"}).headers["X-Index-Generation"] == \
        job["result"]["generation"]


def test_one_build_at_a_time_and_requests_meanwhile_join_the_waiting_one(admin) -> None:
    client, keys, _ = admin
    ids = [client.post("/v1/admin/rebuild", headers=bearer(keys["admin"])).json()["id"] for _ in range(4)]
    assert 1 <= len(set(ids)) <= 2  # one running (perhaps) and one waiting, never more
    jobs = [wait_for(client, job_id, bearer(keys["admin"])) for job_id in dict.fromkeys(ids)]
    assert all(job["state"] == "succeeded" for job in jobs)
    if len(jobs) == 2:
        assert jobs[0]["finished_at"] <= jobs[1]["started_at"]
    unknown = client.get("/v1/jobs/0123456789abcdef", headers=bearer(keys["admin"]))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"


def test_a_killed_build_fails_cleanly_and_the_old_generation_keeps_answering(admin) -> None:
    client, keys, own = admin
    generation = client.post("/v1/ask", json={"question": QUESTION}).headers["X-Index-Generation"]
    job = client.post("/v1/admin/rebuild", headers=bearer(keys["admin"])).json()
    deadline = time.monotonic() + 60
    while not (children := [c for c in multiprocessing.active_children() if c.name == "policykb-build"]):
        assert time.monotonic() < deadline, "the build process did not start"
        time.sleep(0.01)
    os.kill(children[0].pid, signal.SIGKILL)
    finished = wait_for(client, job["id"], bearer(keys["admin"]))
    assert finished["state"] == "failed" and finished["result"] is None
    assert finished["error"]["code"] == "build_killed" and str(own) not in finished["error"]["message"]
    asked = client.post("/v1/ask", json={"question": QUESTION})
    assert asked.status_code == 200 and asked.headers["X-Index-Generation"] == generation
    again = wait_for(client, client.post("/v1/admin/rebuild", headers=bearer(keys["admin"])).json()["id"],
                     bearer(keys["admin"]))
    assert again["state"] == "succeeded"  # the runner goes on after a failure


def test_without_a_reader_uploads_are_off(kb_dir: Path, tmp_path: Path) -> None:
    own = copy_kb(kb_dir, tmp_path / "kb")
    key = KeyRing.beside(own).create("writer", "documents:write")
    with TestClient(create_app(ServiceSettings(kb_dir=own))) as client:
        response = client.post("/v1/documents", headers=bearer(key), files={"files": ("a.txt", b"abc")})
        assert response.status_code == 503 and response.json()["error"]["code"] == "uploads_unavailable"


def test_a_chunked_upload_over_the_limit_is_refused_while_it_arrives(admin) -> None:
    client, keys, own = admin
    state = kb_state(own)
    boundary = "policykb-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode()

    def body() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield head
        for _ in range(64):
            yield b"a" * 8192
        yield f"\r\n--{boundary}--\r\n".encode()

    response = client.post("/v1/documents", content=body(),
                           headers={**bearer(keys["writer"]), "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 413 and response.json()["error"]["code"] == "request_too_large"
    assert kb_state(own) == state and not any((own / "uploads").iterdir())


def test_upload_limits_are_settings_read_from_the_environment(tmp_path: Path) -> None:
    settings = ServiceSettings.from_env({"POLICYKB_KB_DIR": str(tmp_path), "POLICYKB_MAX_UPLOAD_BYTES": "1048576",
                                         "POLICYKB_MAX_UPLOAD_FILE_BYTES": "65536"})
    assert (settings.max_upload_bytes, settings.max_upload_file_bytes) == (1 << 20, 1 << 16)
    defaults = ServiceSettings(kb_dir=tmp_path)
    assert (defaults.max_upload_bytes, defaults.max_upload_file_bytes, defaults.max_body_bytes) == \
        (50 << 20, 20 << 20, 1 << 20)
    with pytest.raises(ValueError, match="max_upload"):
        ServiceSettings(kb_dir=tmp_path, max_upload_file_bytes=10)
    with pytest.raises(ValueError, match="POLICYKB_MAX_UPLOAD_BYTES"):
        ServiceSettings.from_env({"POLICYKB_KB_DIR": str(tmp_path), "POLICYKB_MAX_UPLOAD_BYTES": "lots"})


def test_an_uploads_folder_that_links_out_of_the_kb_is_not_written_to(kb_dir: Path, tmp_path: Path) -> None:
    own = copy_kb(kb_dir, tmp_path / "kb")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("not ours")
    (own / "uploads").symlink_to(elsewhere, target_is_directory=True)
    key = KeyRing.beside(own).create("writer", "documents:write")
    state = kb_state(own)
    with TestClient(create_app(ServiceSettings(kb_dir=own), ingest=ingest_upload)) as client:
        response = upload(client, key, (NOTICE_NAME, NOTICE.encode()))
    assert response.status_code == 200
    [report] = response.json()["files"]
    assert report["status"] == "failed" and report["errors"][0]["code"] == "unavailable"
    assert str(own) not in response.text and str(elsewhere) not in response.text
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]  # not cleaned, not written
    assert kb_state(own) == state
