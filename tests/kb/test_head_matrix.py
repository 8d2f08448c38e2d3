"""The build's head vectors, memory-mapped beside the index, answer as the store does."""

from __future__ import annotations

import json

import numpy as np

from kb import KnowledgeBase
from kb.head_matrix import MATRIX_INDEX_FILE, HeadMatrix, write_head_matrix
from kb.rerank import encoder_name
from tests.conftest import pretrained_files_or_skip

QUESTION = "老板三个月没发工资了我能直接走人吗"


def _name() -> str:
    return encoder_name(pretrained_files_or_skip())


def _store_vectors(knowledge_base: KnowledgeBase, ids: list[str]) -> dict[str, np.ndarray]:
    return knowledge_base.store.head_vectors(_name(), ids, 384)


def test_the_build_writes_every_head_and_the_rows_are_the_stores(own_kb: KnowledgeBase) -> None:
    name = _name()
    made = own_kb.prepare_reranking()
    ids = list(own_kb.searcher.index.segment_ids)
    assert made["matrix"] == len(ids)
    matrix = HeadMatrix.load(own_kb.kb_dir, ids, name)
    assert matrix is not None and matrix._rows is None  # the build's own order: read as it is
    vectors, found = matrix.vectors_at(range(len(ids)))
    assert found.all()
    stored = _store_vectors(own_kb, ids)
    assert np.array_equal(vectors, np.vstack([stored[i] for i in ids]))
    # the searcher reads its candidates' heads from the matrix, not the store
    searcher = own_kb.searcher
    assert searcher._head_matrix is not None
    assert all(np.array_equal(v, stored[i]) for i, v in searcher._stored_heads(name, 384, ids[:5]).items())


def test_answers_are_the_same_with_the_matrix_and_with_the_store(own_kb: KnowledgeBase) -> None:
    _name()
    own_kb.prepare_reranking()
    with_matrix = [(h.segment_id, h.score) for h in own_kb.search(QUESTION, top_k=20).hits]
    for path in own_kb.kb_dir.glob("head_vectors*"):
        path.unlink()
    reopened = KnowledgeBase(own_kb.kb_dir)
    assert reopened.searcher._head_matrix is None
    assert [(h.segment_id, h.score) for h in reopened.search(QUESTION, top_k=20).hits] == with_matrix
    reopened.close()


def test_an_index_in_another_order_reads_the_right_rows(own_kb: KnowledgeBase) -> None:
    name = _name()
    own_kb.prepare_reranking()
    ids = list(own_kb.searcher.index.segment_ids)
    reordered = HeadMatrix.load(own_kb.kb_dir, [*reversed(ids), "not-indexed#1"], name)
    assert reordered is not None
    vectors, found = reordered.vectors_at(range(len(ids) + 1))
    assert found[:-1].all() and not found[-1] and not vectors[-1].any()
    stored = _store_vectors(own_kb, ids)
    assert np.array_equal(vectors[:-1], np.vstack([stored[i] for i in reversed(ids)]))


def test_a_matrix_that_cannot_be_trusted_is_not_read(own_kb: KnowledgeBase) -> None:
    name = _name()
    own_kb.prepare_reranking()
    ids = list(own_kb.searcher.index.segment_ids)
    index_file = own_kb.kb_dir / MATRIX_INDEX_FILE
    meta = json.loads(index_file.read_text(encoding="utf-8"))
    assert HeadMatrix.load(own_kb.kb_dir, ids, "another-encoder") is None
    index_file.write_text(json.dumps({**meta, "rows": meta["rows"] + 1}), encoding="utf-8")
    assert HeadMatrix.load(own_kb.kb_dir, ids, name) is None  # not the shape it names
    for broken in ("{not json", "[]", '{"encoder": "%s"}' % name, "\udcff"):
        index_file.write_text(broken, encoding="utf-8", errors="surrogateescape")
        assert HeadMatrix.load(own_kb.kb_dir, ids, name) is None, broken
    index_file.write_text(json.dumps(meta), encoding="utf-8")
    (own_kb.kb_dir / meta["file"]).unlink()  # a build stopped before the matrix was written
    assert HeadMatrix.load(own_kb.kb_dir, ids, name) is None
    reopened = KnowledgeBase(own_kb.kb_dir)
    assert reopened.search(QUESTION, top_k=5).hits  # from the store's vectors
    reopened.close()


def test_a_new_matrix_replaces_the_old_files(tmp_path) -> None:
    rows = np.eye(3, 4, dtype=np.float32)
    write_head_matrix(tmp_path, "enc", ["a", "b", "c"], rows)
    first = sorted(p.name for p in tmp_path.iterdir())
    write_head_matrix(tmp_path, "enc", ["a", "b"], rows[:2])
    second = sorted(p.name for p in tmp_path.iterdir())
    assert len(first) == len(second) == 3 and set(first) & set(second) == {MATRIX_INDEX_FILE}
    matrix = HeadMatrix.load(tmp_path, ["a", "b"], "enc")
    assert matrix is not None and np.array_equal(matrix.vectors_at([1, 0])[0], rows[[1, 0]])
    assert write_head_matrix(tmp_path, "enc", [], rows[:0]) == 0
    assert list(tmp_path.iterdir()) == []



def test_a_full_disk_leaves_no_matrix_and_the_build_stands(own_kb: KnowledgeBase, monkeypatch) -> None:
    name = _name()
    own_kb.prepare_reranking()
    ids = list(own_kb.searcher.index.segment_ids)
    assert HeadMatrix.load(own_kb.kb_dir, ids, name) is not None
    expected = [h.segment_id for h in own_kb.search(QUESTION, top_k=10).hits]
    real_save = np.save

    def disk_full(handle, array, **kwargs):
        if array.ndim == 2:  # the matrix itself, after some bytes
            handle.write(b"\0" * 1024)
            raise OSError(28, "No space left on device")
        return real_save(handle, array, **kwargs)

    monkeypatch.setattr(np, "save", disk_full)
    made = own_kb.prepare_reranking()
    monkeypatch.undo()
    assert made["matrix"] == 0 and made["scanned"] == len(ids)
    assert not list(own_kb.kb_dir.glob("head_vectors*"))  # neither the old matrix nor a half-written one
    reopened = KnowledgeBase(own_kb.kb_dir)
    assert reopened.searcher._head_matrix is None
    assert [h.segment_id for h in reopened.search(QUESTION, top_k=10).hits] == expected
    reopened.close()
