"""The `policykb` command end to end on the seed 公文: ingest, ask (single, JSON, batch), errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from policykb.cli import cli
from tests.conftest import REPO

DOC = "changshu-2019-zhengwu-gongkai-yaodian"

#: Hotline-style questions over the seed, with the item that answers each.
HOTLINE_QUESTIONS = [
    ("营商环境方面的政务公开归哪个部门管？", "s1.1"),
    ("减税降费的政策会公开吗", "s1.1"),
    ("12345平台的一号答服务是怎么回事", "s1.3"),
    ("政府开放日是什么活动啊", "s1.3"),
    ("重大决策出台前会征求老百姓意见吗？", "s2.1"),
    ("审计发现的问题整改情况公开不", "s2.2"),
    ("行政执法公示制度谁负责落实", "s2.3"),
    ("财政预决算信息在哪公开，谁负责？", "s3.4"),
    ("孩子上学的义务教育招生方案会公布吗", "s3.5"),
    ("征地信息要去哪个平台查", "s3.5"),
    ("失效文件清单在哪能查到", "s4.1"),
    ("政务新媒体开设要备案吗", "s4.2"),
    ("怎么申请政府信息公开", "s5.2"),
    ("机构改革后三定方案公开吗", "s5.3"),
]


@pytest.fixture(scope="module")
def seed_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    kb_dir = tmp_path_factory.mktemp("cli") / "kb"
    result = CliRunner().invoke(cli, ["ingest", str(REPO / "corpus"), "--kb", str(kb_dir)])
    assert result.exit_code == 0, result.output
    assert "1 added" in result.output and "0 failed" in result.output
    return kb_dir


@pytest.mark.parametrize("question,anchor", HOTLINE_QUESTIONS)
def test_hotline_question_finds_the_right_item_in_the_top_3(seed_kb: Path, question: str, anchor: str) -> None:
    result = CliRunner().invoke(cli, ["ask", question, "--kb", str(seed_kb), "--top-k", "3", "--json"])
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)["hits"]
    assert f"{DOC}#{anchor}" in [hit["segment_id"] for hit in hits]


def test_ask_json_carries_the_full_citation(seed_kb: Path) -> None:
    result = CliRunner().invoke(cli, ["ask", "预决算信息公开", "--kb", str(seed_kb), "--top-k", "1", "--json"])
    hit = json.loads(result.output)["hits"][0]
    assert hit["segment_id"] == f"{DOC}#s3.4" and hit["doc_id"] == DOC
    assert hit["doc_number"] == "常政办发〔2019〕143号" and hit["issuer"] == "常熟市人民政府办公室"
    assert hit["date"] == "2019-11-01" and hit["status"] == "in_force"
    assert hit["section_path"] == ["三、深化重点领域信息公开", "（四）深化财政信息公开"] and hit["locator"] == "（四）"
    assert hit["departments"] == ["财政局"]
    assert "<mark>预决算</mark>" in hit["snippet"]
    text = (REPO / "corpus" / "seed" / f"{DOC}.txt").read_text(encoding="utf-8")
    assert hit["text"].startswith("（四）深化财政信息公开") and hit["end"] - hit["start"] == len(hit["text"])
    assert hit["text"] in text  # stored text of this item is unchanged by cleaning


def test_ask_filters_by_responsible_department_and_place(seed_kb: Path) -> None:
    def ask(*options: str) -> dict:
        result = CliRunner().invoke(cli, ["ask", "信息公开", "--kb", str(seed_kb), "--top-k", "20", "--json", *options])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    everything = ask()
    finance = ask("--department", "财政局")
    assert finance["hits"] and all("财政局" in hit["departments"] for hit in finance["hits"])
    assert len(finance["hits"]) < len(everything["hits"])
    assert ask("--place", "常熟市")["hits"] and ask("--place", "全国")["hits"] == []
    refused = CliRunner().invoke(cli, ["ask", "信息公开", "--kb", str(seed_kb), "--department", " "])
    assert refused.exit_code == 1 and "departments" in refused.output and "Traceback" not in refused.output


def test_human_output_names_document_section_and_departments(seed_kb: Path) -> None:
    result = CliRunner().invoke(cli, ["ask", "预决算信息公开", "--kb", str(seed_kb), "--top-k", "1"])
    assert result.exit_code == 0
    assert "常政办发〔2019〕143号" in result.output and "（四）深化财政信息公开" in result.output
    assert "责任部门: 财政局" in result.output


def test_batch_questions_write_one_json_line_each(seed_kb: Path, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps({"id": f"q{i}", "question": q}, ensure_ascii=False)
                                   for i, (q, _) in enumerate(HOTLINE_QUESTIONS[:4])) + "\n"
                         + json.dumps({"id": "blank", "question": "   "}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ask", "--questions", str(questions), "--kb", str(seed_kb), "--top-k", "2",
                                      "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["id"] for line in lines] == ["q0", "q1", "q2", "q3", "blank"]
    assert all(len(line["hits"]) == 2 for line in lines[:4])
    assert lines[4]["hits"] == [] and "empty" in lines[4]["error"]


def test_errors_are_one_clean_line_and_a_nonzero_exit(tmp_path: Path, seed_kb: Path) -> None:
    missing = CliRunner().invoke(cli, ["ask", "社保", "--kb", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "is not a knowledge base" in missing.output
    assert "Traceback" not in missing.output
    empty = CliRunner().invoke(cli, ["ask", "  ", "--kb", str(seed_kb)])
    assert empty.exit_code == 1 and "the question is empty" in empty.output
    neither = CliRunner().invoke(cli, ["ask", "--kb", str(seed_kb)])
    assert neither.exit_code == 2


def test_ingest_reports_failures_and_exits_1(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(b"\x00\xff\xfe\x01" * 100)
    (tmp_path / "good.txt").write_text("第一条 个体工商户可以个人经营。\n\n第二条 个体工商户可以家庭经营。", encoding="utf-8")
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path), "--kb", str(tmp_path / "kb")])
    assert result.exit_code == 1
    assert "bad.txt" in result.output and "1 added" in result.output
    info = CliRunner().invoke(cli, ["info", "--kb", str(tmp_path / "kb")])
    assert json.loads(info.output)["documents"] == 1


def test_settings_set_how_readily_a_question_is_called_off_topic(tmp_path: Path) -> None:
    kb_dir = tmp_path / "kb"
    assert CliRunner().invoke(cli, ["ingest", str(REPO / "corpus"), "--kb", str(kb_dir)]).exit_code == 0
    question = "陪我聊聊天吧聊聊信息公开"  # chit-chat, though 信息公开 is the seed's own subject

    def reason() -> str | None:
        result = CliRunner().invoke(cli, ["ask", question, "--kb", str(kb_dir), "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)["reason"]

    assert reason() == "no_answer"
    result = CliRunner().invoke(cli, ["settings", "--kb", str(kb_dir), "--max-refused", "0"])
    assert result.exit_code == 0 and json.loads(result.output)["search"]["max_refused"] == 0
    assert reason() is None  # the classifier is off: the seed's passages answer
    result = CliRunner().invoke(cli, ["settings", "--kb", str(kb_dir), "--max-refused", "0.9"])
    assert result.exit_code != 0 and "0.9" in result.output


def test_ask_prints_a_republished_passage_once(tmp_path: Path) -> None:
    item = "一、疫情防控期间，小微企业免征污水处理费，由水务部门审核后办理。"
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "notice.txt").write_text(f"市水务局关于停征污水处理费的通知\n\n{item}\n\n二、本通知自发布之日起施行。\n",
                                       encoding="utf-8")
    (folder / "repost.txt").write_text(f"小微企业污水处理费政策问答\n\n{item}\n\n二、转载请注明出处。\n", encoding="utf-8")
    kb_dir = tmp_path / "kb"
    assert CliRunner().invoke(cli, ["ingest", str(folder), "--kb", str(kb_dir)]).exit_code == 0

    result = CliRunner().invoke(cli, ["ask", "小微企业污水处理费免征吗", "--kb", str(kb_dir), "--top-k", "2"])
    assert result.exit_code == 0, result.output
    assert "same text as 1." in result.output
    assert result.output.count("审核后办理。") == 1  # the passage text itself, shown for the first copy only


def test_every_example_question_in_the_help_and_readme_is_answered_by_the_bundled_corpus(seed_kb: Path) -> None:
    """A newcomer tries the examples first: each must get a hit from what ships, not "no answer"."""
    import re

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    help_texts = [CliRunner().invoke(cli, args).output for args in (["--help"], ["ask", "--help"])]
    examples = set(re.findall(r'policykb ask "([^"]+)"', readme + "".join(help_texts)))
    examples |= set(re.findall(r'"question": "([^"]+)"', readme))
    assert examples, "no example question found"
    for question in sorted(examples):
        result = CliRunner().invoke(cli, ["ask", question, "--kb", str(seed_kb), "--top-k", "1", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["hits"], f"example {question!r} gets no answer from corpus/"


def test_serve_on_a_busy_port_says_so_at_once_without_loading_anything(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # no knowledge base at all: the port is checked first, so that is not what fails
        result = CliRunner().invoke(cli, ["serve", "--kb", str(tmp_path / "none"), "--port", str(port)])
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.output and "--port" in result.output
    assert "Traceback" not in result.output


def test_control_characters_in_file_names_and_texts_never_reach_the_terminal_raw(tmp_path: Path) -> None:
    """An escape sequence in a file name or a passage could rewrite an operator's terminal.

    (Raw control characters in a text are refused when it is decoded; character references
    such as ``&#27;`` stay text.)"""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "bad\x1b[2Jname.txt").write_bytes(b"\xff\xfe\x00\xd8 not text")  # fails to decode: reported by name
    (docs / "\u202eevil.txt").write_text(
        "关于高龄津贴的通知\n\n一、八十周岁以上老人每月领取高龄津贴。&#27;[31m&#x202e;（责任部门：民政局）\n",
        encoding="utf-8")
    kb_dir = tmp_path / "kb"
    result = CliRunner().invoke(cli, ["ingest", str(docs), str(REPO / "corpus"), "--kb", str(kb_dir)])
    assert result.exit_code == 1 and "bad\\x1b[2Jname.txt" in result.output
    listing = CliRunner().invoke(cli, ["documents", "--kb", str(kb_dir)])
    answer = CliRunner().invoke(cli, ["ask", "八十周岁以上老人高龄津贴", "--kb", str(kb_dir), "--top-k", "1"])
    assert answer.exit_code == 0 and "高龄津贴" in answer.output
    for output in (result.output, listing.output, answer.output):
        assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output


def test_serve_without_a_knowledge_base_says_so_and_exits(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(cli, ["serve", "--kb", str(tmp_path / "none"), "--port", str(port)])
    assert result.exit_code == 1 and "knowledge base" in result.output.lower() and "Traceback" not in result.output
