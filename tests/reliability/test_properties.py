"""Property tests of cleaning, parsing and segmentation over arbitrary text.

Texts are drawn from what reaches ``ingest`` in practice and what should never break it:
headings of every kind (第X编/章/节/条, 一、（一）1.（1）①, markdown) in any order and depth,
sentences of Chinese, full-width and Latin characters, control and zero-width characters,
every kind of line break, very long lines, blank runs. For each: nothing raises; every
segment's offsets point at its text (``document.text[start:end] == segment.text``); anchors
are unique; segments come in reading order; and two passages overlap only where the design
says so (a list cited whole beside its items, a window repeating the next one's first short
sentence).

Bounded for CI: ``POLICYKB_HYPOTHESIS_EXAMPLES`` examples per property (default 150); set it
higher for a long run.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import clean_text, parse_document, segment_text
from ingest.structure import MAX_LEAF, MAX_WINDOW, OVERLAP_SENTENCE

EXAMPLES = int(os.environ.get("POLICYKB_HYPOTHESIS_EXAMPLES", "150"))
PROFILE = settings(max_examples=EXAMPLES, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

NUMERALS = "一二三四五六七八九十"
HEADINGS = st.one_of(
    st.builds(lambda n, k: f"第{n}{k}", st.sampled_from(["一", "二", "三", "十", "二十一", "一百零一"]),
              st.sampled_from(["编", "分编", "章", "节", "条", "条之一"])),
    st.builds(lambda n: f"{n}、", st.sampled_from(list(NUMERALS) + ["十一", "二十"])),
    st.builds(lambda n, b: f"{b[0]}{n}{b[1]}", st.sampled_from(list(NUMERALS)), st.sampled_from(["（）", "()", "（)"])),
    st.builds(lambda n, s: f"{n}{s}", st.integers(0, 120), st.sampled_from([".", "．", "、"])),
    st.builds(lambda n: f"（{n}）", st.integers(0, 30)),
    st.sampled_from(list("①②③⑳⑴⑵⒈⒉")),
    st.builds(lambda h: "#" * h + " ", st.integers(1, 7)),
)
CHINESE = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), min_size=1, max_size=40)
ODD = st.sampled_from(["\u200b", "\ufeff", "\u2060", "\u202e", "\u00a0", "\u3000", "\t", "\x00", "\x07", "\x1b[31m",
                       "\u2028", "\u2029", "\x0c", "\r", "\r\n", "\x85", "ＡＢＣ１２３", "Ｑ", "abc", "1.5", "2019 年",
                       "- 3 -", "第3页 共12页", "（责任部门：财政局）", "（牵头单位：市政务办）", "|a|b|", "<!-- x -->",
                       "常政办发〔2019〕143号", "2019年11月1日", "抄送：市委各部门。", "😀", "👨‍👩‍👧", "\ud7ff", "한국어",
                       "русский", "ع", "𠀀"])
PUNCTUATION = st.sampled_from(["。", "；", "，", "：", "！", "？", "、", "”", "」", "）", "", "…", ".", ";"])
PIECE = st.one_of(CHINESE, ODD, PUNCTUATION, st.text(max_size=15))
LINE = st.builds(lambda heading, pieces: (heading or "") + "".join(pieces),
                 st.one_of(st.none(), HEADINGS), st.lists(PIECE, max_size=12))
LONG_LINE = st.builds(lambda piece, times: piece * times, st.sampled_from(["社会保险", "abc ", "，", "的"]),
                      st.integers(100, 1200))
TEXT = st.builds(
    lambda lines: "".join(line + sep for line, sep in lines),
    st.lists(st.tuples(st.one_of(LINE, LINE, LINE, LONG_LINE), st.sampled_from(["\n", "\n\n", "\n\n\n", "\r\n", ""])),
             max_size=40),
)


def _check_segments(text: str, segments) -> None:
    """Offsets, unique anchors, reading order and the only overlaps the design allows."""
    anchors = [segment.anchor for segment in segments]
    assert len(set(anchors)) == len(anchors), anchors
    for segment in segments:
        assert 0 <= segment.start < segment.end <= len(text), (segment.anchor, segment.start, segment.end)
        assert text[segment.start:segment.end] == segment.text, segment.anchor
    starts = [segment.start for segment in segments]
    assert starts == sorted(starts), anchors
    groups = [s for s in segments if s.anchor.split("~")[0].endswith(".all")]
    passages = [s for s in segments if s not in groups]
    for earlier, later in zip(passages, passages[1:]):
        assert later.start > earlier.start and later.end > earlier.end, (earlier.anchor, later.anchor)
        overlap = earlier.end - later.start
        # only a window's run-on into the next one's first sentence repeats text
        assert overlap <= OVERLAP_SENTENCE, (earlier.anchor, later.anchor, overlap)
    for group in groups:
        inside = [s for s in passages if group.start <= s.start and s.end <= group.end]
        assert inside, group.anchor  # a list cited whole holds its items


@PROFILE
@given(TEXT)
def test_cleaning_never_fails_and_leaves_no_invisible_characters(text: str) -> None:
    cleaned = clean_text(text)
    assert isinstance(cleaned, str)
    assert not any(ch in cleaned for ch in "\u200b\ufeff\u2060\r")
    assert cleaned == cleaned.strip()


@PROFILE
@given(TEXT)
def test_segments_point_at_their_text_in_reading_order(text: str) -> None:
    segments = segment_text(text)
    _check_segments(text, segments)


@PROFILE
@given(TEXT, st.one_of(st.none(), CHINESE))
def test_a_parsed_document_cites_its_own_text(text: str, title: str | None) -> None:
    document = parse_document(text, doc_id="property", title=title)
    _check_segments(document.text, document.segments)
    for segment in document.segments:
        if "." not in segment.anchor and not segment.anchor.startswith("p"):
            continue
        assert len(segment.text) <= max(MAX_LEAF, MAX_WINDOW) + OVERLAP_SENTENCE, (segment.anchor, len(segment.text))
