"""Real records from the shared corpus: a national law and two epidemic-period documents."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ingest import parse_document
from ingest.structure import MAX_WINDOW

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


def records(relative: str):
    path = CORPUS / relative
    if not path.exists():
        pytest.skip(f"shared corpus file {relative} is absent (expected beside the repo at ../shared/corpus)")
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            yield json.loads(line)


def check_segments(document) -> None:
    anchors = [segment.anchor for segment in document.segments]
    assert len(anchors) == len(set(anchors))
    for segment in document.segments:
        assert segment.text == document.text[segment.start : segment.end]
        if segment.anchor.startswith("p") or ".p" in segment.anchor:
            assert len(segment.text) <= MAX_WINDOW


def test_a_real_law_segments_into_its_articles() -> None:
    record = next(r for r in records("laws/laws.jsonl") if r["title"] == "中华人民共和国刑法")
    metadata = {key: value for key, value in record.items() if key not in ("id", "title", "text")}
    document = parse_document(record["text"], doc_id=record["id"], title=record["title"], metadata=metadata)
    check_segments(document)
    expected = re.findall(
        r"^第[一二三四五六七八九十百千零]+条(?:之[一二三四五六七八九十]+)?", record["text"], re.MULTILINE
    )
    articles = [segment for segment in document.segments if re.fullmatch(r"a\d+(-\d+)?", segment.anchor)]
    assert [segment.locator for segment in articles] == expected
    by_anchor = {segment.anchor: segment for segment in document.segments}
    assert by_anchor["a54"].section_path == ("第一编 总则", "第三章 刑罚", "第七节 剥夺政治权利", "第五十四条")
    assert "（四）担任国有公司、企业、事业单位和人民团体领导职务的权利。" in by_anchor["a54"].text
    assert by_anchor["a133-1"].locator == "第一百三十三条之一"


def test_a_flattened_news_item_becomes_windows() -> None:
    record = next(r for r in records("covid-policy/docs.jsonl") if r["docid"] == "f3bdcc0013733fb7a6a7f37549bb5e62")
    document = parse_document(record["text"], doc_id=record["docid"])
    check_segments(document)
    assert document.title == "多地多举措保障生活必需品供应"
    assert [segment.anchor for segment in document.segments] == [f"p{i}" for i in range(1, len(document.segments) + 1)]
    assert len(document.segments) >= 3 and all(segment.section_path == () for segment in document.segments)
    assert all(re.search(r"[。！？；]”?$", segment.text) for segment in document.segments[:-1])  # sentence-aligned
    covered = set()
    for segment in document.segments:
        covered.update(range(segment.start, segment.end))
    assert all(i in covered for i, char in enumerate(document.text) if not char.isspace())  # nothing lost
    for previous, following in zip(document.segments, document.segments[1:]):
        repeated = document.text[following.start : previous.end]  # at most one short sentence repeated
        assert previous.end <= following.start or (len(repeated) <= 150 and repeated.count("。") <= 1)


def test_a_flattened_policy_package_keeps_items_and_departments() -> None:
    record = next(
        r
        for r in records("covid-policy/docs.jsonl")
        if r["text"].startswith("陕西省人民政府办公厅关于印发应对新冠肺炎疫情支持中小微企业")
    )
    document = parse_document(record["text"], doc_id=record["docid"])
    check_segments(document)
    items = [segment for segment in document.segments if segment.anchor.startswith("s")]
    assert [segment.anchor for segment in items] == [f"s{i}" for i in range(1, 13)]
    assert items[0].section_path == ("一、有序推动复工复产",)
    assert items[0].departments == ("省工业和信息化厅", "省发展改革委", "省市场监管局", "各设区市政府")
    assert all(segment.departments for segment in items)
    assert document.segments[-1].text.startswith("以上政策自印发之日起实施")
