"""A small real knowledge base and clients over it, built once per test session.

The documents are made here (not borrowed from the top-level conftest) because the service
tests depend on their exact ids: segment ids with ``#`` and ``:``, a document id in Chinese,
an expired document that alone answers some questions, and segments with departments.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb import Document, KnowledgeBase, Segment
from service import ServiceSettings, create_app


@dataclass(frozen=True)
class Part:
    """One segment to be: its anchor, its locator, its section path, text and departments."""

    anchor: str
    locator: str
    section_path: tuple[str, ...]
    text: str
    departments: tuple[str, ...] = ()


def make_document(doc_id: str, title: str, parts: list[Part], **fields: object) -> Document:
    """A document whose text is the title and the parts, one per paragraph, with segment
    offsets computed so that ``segment.text == document.text[start:end]``."""
    text = title
    segments = []
    for part in parts:
        text += "\n\n"
        start = len(text)
        text += part.text
        segments.append(Segment(anchor=part.anchor, locator=part.locator, section_path=part.section_path,
                                start=start, end=len(text), text=part.text, departments=part.departments))
    return Document(doc_id=doc_id, title=title, text=text, segments=tuple(segments), **fields)  # type: ignore[arg-type]


ZHENGWU = "changshu-2019-zhengwu-gongkai-yaodian"
SOCIAL_INSURANCE = "lawrefbook:24e933d71ff9"
HOUSING_FUND_OLD = "suzhou-2015-gongjijin-tiqu"
ELDERLY = "常熟市-2021-高龄津贴"
STARTUP = "changshu-2022-chuangye-butie"
MEDICAL = "jiangsu-2020-yibao-jiesuan"

ZHENGWU_S34 = f"{ZHENGWU}#s3.4"
SOCIAL_A54 = f"{SOCIAL_INSURANCE}#a54"


def service_documents() -> list[Document]:
    """Six documents about distinct topics; one is expired; ids exercise URL encoding."""
    return [
        make_document(ZHENGWU, "常熟市2019年政务公开工作要点", [
            Part("s1", "一、", ("一、总体要求",),
                 "坚持以公开为常态、不公开为例外，全面推进决策、执行、管理、服务、结果公开。"),
            Part("s3.4", "（四）", ("三、重点任务", "（四）"),
                 "推进基层政务公开标准化规范化，各镇（街道）要在政府网站集中公开政务公开目录。",
                 ("市政务办", "各镇人民政府")),
            Part("s4", "四、", ("四、保障措施",),
                 "市政务公开领导小组办公室负责对各部门政务公开工作进行考核评估。", ("市政务办",)),
        ], doc_number="常政办发〔2019〕43号", issuer="常熟市人民政府办公室", date="2019-05-10"),
        make_document(SOCIAL_INSURANCE, "中华人民共和国社会保险法", [
            Part("a1", "第一条", ("第一章 总则", "第一条"),
                 "为了规范社会保险关系，维护公民参加社会保险和享受社会保险待遇的合法权益，制定本法。"),
            Part("a54", "第五十四条", ("第五章 失业保险", "第五十四条"),
                 "失业人员在领取失业保险金期间，参加职工基本医疗保险，享受基本医疗保险待遇。"),
        ], doc_number="主席令第35号", issuer="全国人民代表大会常务委员会", date="2010-10-28"),
        make_document(HOUSING_FUND_OLD, "苏州市住房公积金提取管理办法", [
            Part("a3", "第三条", ("第三条",),
                 "职工购买自住住房的，可以申请提取住房公积金账户内的存储余额，提取额度不超过房价款。",
                 ("住房公积金管理中心",)),
            Part("a4", "第四条", ("第四条",),
                 "职工办理住房公积金提取，应当提供购房合同和发票原件。", ("住房公积金管理中心",)),
        ], doc_number="苏府规字〔2015〕2号", issuer="苏州市人民政府", date="2015-03-01", status="expired"),
        make_document(ELDERLY, "常熟市高龄老人尊老金发放办法", [
            Part("a2", "第二条", ("第二条",),
                 "年满八十周岁的本市户籍老年人，按月发放高龄尊老金，九十周岁以上提高发放标准。",
                 ("市民政局",)),
            Part("a5", "第五条", ("第五条",),
                 "尊老金由老年人户籍所在地的镇（街道）民政部门负责审核发放。", ("市民政局", "各镇人民政府")),
        ], issuer="常熟市民政局", date="2021-01-15"),
        make_document(STARTUP, "常熟市大学生自主创业补贴实施细则", [
            Part("a1", "第一条", ("第一条",),
                 "毕业五年内的高校毕业生在本市首次创办企业，可申请一次性创业补贴五千元。"),
            Part("a2", "第二条", ("第二条",),
                 "创业补贴申请材料包括营业执照、身份证明和社会保险缴费证明。", ("市人力资源和社会保障局",)),
        ], doc_number="常人社规〔2022〕1号", issuer="常熟市人力资源和社会保障局", date="2022-06-01"),
        make_document(MEDICAL, "江苏省异地就医直接结算管理办法", [
            Part("a6", "第六条", ("第六条",),
                 "参保人员异地就医前应当办理备案手续，备案后可在就医地定点医疗机构直接结算医疗费用。",
                 ("省医疗保障局",)),
            Part("a7", "第七条", ("第七条",),
                 "未办理备案的参保人员异地就医，医疗费用先由个人垫付，再回参保地按规定报销。"),
        ], issuer="江苏省医疗保障局", date="2020-09-01"),
    ]


@pytest.fixture(scope="session")
def documents() -> list[Document]:
    return service_documents()


@pytest.fixture(scope="session")
def kb_dir(tmp_path_factory: pytest.TempPathFactory, documents: list[Document]) -> Path:
    """A built knowledge base on disk (SQLite, BM25, a small embedding model trained on it)."""
    directory = tmp_path_factory.mktemp("service-kb")
    knowledge_base = KnowledgeBase(directory, create=True)
    try:
        knowledge_base.add_documents(documents)
        knowledge_base.build()
    finally:
        knowledge_base.close()
    return directory


@pytest.fixture(scope="session")
def settings(kb_dir: Path) -> ServiceSettings:
    """The shared app's settings: no per-client budget, because the whole session asks from one
    client ("testclient") far more than a citizen may; budgets have their own tests
    (test_ratelimit.py)."""
    return ServiceSettings(kb_dir=kb_dir, rate_limit=None)


@pytest.fixture(scope="session")
def client(settings: ServiceSettings) -> Iterator[TestClient]:
    """One started app (lifespan run, index loaded) shared by the read-only tests."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def unbuilt_kb_dir(tmp_path: Path, documents: list[Document]) -> Path:
    """A knowledge base with documents stored but no index built."""
    knowledge_base = KnowledgeBase(tmp_path / "unbuilt", create=True)
    try:
        knowledge_base.add_documents(documents[:2])
    finally:
        knowledge_base.close()
    return tmp_path / "unbuilt"


#: What an analyst's key holds in these tests: asking and feedback go through it as well.
ANALYST_SCOPES = "ask,feedback,analytics:read"


def analyst_headers(kb_dir: Path) -> dict[str, str]:
    """Headers carrying a new key for ``kb_dir`` that may ask, give feedback and read analytics."""
    import secrets

    from service.keys import KeyRing

    key = KeyRing.beside(kb_dir).create(f"analyst-{secrets.token_hex(4)}", ANALYST_SCOPES)
    return {"Authorization": f"Bearer {key}"}
