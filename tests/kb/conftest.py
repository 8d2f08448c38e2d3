"""Fixtures of the engine's tests."""

from __future__ import annotations

import shutil

import pytest

from kb import KnowledgeBase


@pytest.fixture()
def own_kb(built_kb: KnowledgeBase, tmp_path):
    """A copy of the shared knowledge base whose settings and documents this test may change."""
    copy = tmp_path / "kb"
    shutil.copytree(built_kb.kb_dir, copy)
    knowledge_base = KnowledgeBase(copy)
    yield knowledge_base
    knowledge_base.close()
