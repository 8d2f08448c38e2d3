"""A knowledge base with more than 50 passages (so runs can go deeper than the service's limit),
one expired document, and one document whose title and text carry HTML, built once per session."""

from __future__ import annotations

import pytest

from kb import KnowledgeBase
from tests.conftest import make_document

TOPICS = [("社会保险", "社会保险经办机构"), ("住房公积金", "住房公积金管理中心"), ("失业保险", "人力资源社会保障部门"),
          ("养老保险", "社会保险经办机构"), ("医疗保险", "医疗保障部门"), ("就业见习", "公共就业服务机构"),
          ("创业担保贷款", "财政部门"), ("租房", "住房城乡建设部门")]
ACTIONS = ["申请", "缴存", "提取", "转移", "补缴", "领取", "办理", "变更", "查询"]


def _articles(topic: str, department: str) -> list[str]:
    return [f"办理{topic}{action}的，可以按规定申请补贴，具体办法由{department}另行制定，第{n}项。"
            for n, action in enumerate(ACTIONS, start=1)]


@pytest.fixture(scope="session")
def eval_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    documents = [make_document(f"topic-{i}", f"{topic}管理办法", _articles(topic, department))
                 for i, (topic, department) in enumerate(TOPICS)]
    documents.append(make_document("old-rules", "租房补贴旧办法", ["租房补贴按月发放，本办法已经废止。"], status="expired"))
    documents.append(make_document("html-doc", "<script>alert('t')</script>网页条例",
                                   ["网页<b>加粗</b>补贴发放办法<img src=x onerror=alert(1)>。"]))
    knowledge_base = KnowledgeBase(tmp_path_factory.mktemp("eval-kb"), create=True)
    knowledge_base.add_documents(documents)
    knowledge_base.build()
    yield knowledge_base
    knowledge_base.close()
