"""Fixtures shared by every test package: small Chinese documents and the shared corpus path."""

from __future__ import annotations

import logging
from pathlib import Path

import jieba
import pytest

from kb import Document, Segment

jieba.setLogLevel(logging.WARNING)

REPO = Path(__file__).resolve().parents[1]
SHARED_CORPUS = REPO.parent / "shared" / "corpus"
SEED = REPO / "corpus" / "seed" / "changshu-2019-zhengwu-gongkai-yaodian.txt"


def shared_file(relative: str) -> Path:
    """A file of the shared corpus, or skip the test saying what is missing."""
    path = SHARED_CORPUS / relative
    if not path.exists():
        pytest.skip(f"shared corpus file {relative} is absent (expected beside the repo at ../shared/corpus)")
    return path


ARTICLES = {
    "social-insurance": ("社会保险条例", [
        "参加职工基本养老保险的个人，达到法定退休年龄时累计缴费满十五年的，按月领取基本养老金。",
        "个人跨统筹地区就业的，其基本养老保险关系随本人转移，缴费年限累计计算。",
        "用人单位未按时足额缴纳社会保险费的，由社会保险费征收机构责令限期缴纳或者补足。",
    ]),
    "housing-fund": ("住房公积金管理条例", [
        "职工购买、建造、翻建、大修自住住房的，可以提取职工住房公积金账户内的存储余额。",
        "职工离休、退休的，或者完全丧失劳动能力并与单位终止劳动关系的，可以提取住房公积金。",
        "单位应当于每月发放职工工资之日起5日内将单位缴存的和为职工代缴的住房公积金汇缴到住房公积金专户内。",
    ]),
    "unemployment": ("失业保险条例", [
        "失业人员符合条件的，可以申请领取失业保险金，失业保险金的标准不得低于城市居民最低生活保障标准。",
        "失业人员应当持本单位出具的终止或者解除劳动关系的证明，及时到指定的社会保险经办机构办理失业登记。",
    ]),
    "business": ("个体工商户条例", [
        "有经营能力的公民，依照本条例规定经登记，从事工商业经营的，为个体工商户。",
        "申请登记为个体工商户，应当向经营场所所在地登记机关申请注册登记。",
    ]),
    "labour": ("劳动合同法", [
        "用人单位自用工之日起即与劳动者建立劳动关系，建立劳动关系应当订立书面劳动合同。",
        "用人单位自用工之日起超过一个月不满一年未与劳动者订立书面劳动合同的，应当向劳动者每月支付二倍的工资。",
    ]),
    "old-housing-fund": ("住房公积金管理办法（旧）", [
        "职工购买自住住房的，可以申请提取住房公积金，本办法已经废止。",
    ]),
}
NUMERALS = (*"一二三四五六七八九十", "十一", "十二", "十三", "十四", "十五")


def pretrained_files_or_skip():
    """The installed pretrained package's files (``kb.pretrained``), or skip the test saying why
    they are absent."""
    from kb.pretrained import find_pretrained

    available = find_pretrained()
    if available.files is None:
        pytest.skip(f"pretrained resources absent: {available.reason}")
    return available.files


def make_document(doc_id: str, title: str, articles: list[str], *, status: str = "in_force",
                  departments: tuple[str, ...] = ()) -> Document:
    """A regulation-shaped document whose segments satisfy ``text == doc.text[start:end]``."""
    text, segments = "", []
    for i, body in enumerate(articles):
        label = f"第{NUMERALS[i]}条"
        line = f"{label} {body}"
        start = len(text)
        text += line + "\n\n"
        segments.append(Segment(anchor=f"a{i + 1}", locator=label, section_path=(label,), start=start,
                                end=start + len(line), text=line, departments=departments))
    return Document(doc_id=doc_id, title=title, text=text.rstrip("\n"), segments=tuple(segments), status=status,
                    date="2020-01-01")


@pytest.fixture(scope="session")
def policy_documents() -> list[Document]:
    docs = []
    for doc_id, (title, articles) in ARTICLES.items():
        status = "expired" if doc_id.startswith("old-") else "in_force"
        departments = ("住房公积金管理中心",) if doc_id == "housing-fund" else ()
        docs.append(make_document(doc_id, title, articles, status=status, departments=departments))
    return docs


@pytest.fixture(scope="session")
def built_kb(tmp_path_factory: pytest.TempPathFactory, policy_documents: list[Document]):
    """A real knowledge base on disk (SQLite + index + a trained offline model), built once."""
    from kb import KnowledgeBase

    knowledge_base = KnowledgeBase(tmp_path_factory.mktemp("kb"), create=True)
    knowledge_base.add_documents(policy_documents)
    knowledge_base.build()
    yield knowledge_base
    knowledge_base.close()
