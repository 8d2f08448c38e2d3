"""Where a document applies, and whether it should answer this knowledge base's callers.

A knowledge base serves a place: a chain such as 常熟市 ⊂ 苏州市 ⊂ 江苏省, or the whole
country when no place is set. National texts and the place's own chain answer its callers;
another region's local regulation (a 浙江 rule for a 常熟 caller) should not, unless the
question names that region. Over the law corpus this matters a great deal: more than half
of the articles are local regulations of seven provinces, and a national question almost
never wants them. Such documents are demoted, not removed, so they still answer when
nothing else does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from kb.places import MUNICIPALITIES, PROVINCES, gazetteer, short_name

NATIONAL = "national"
#: Names the rule :func:`jurisdiction_of` applies; a knowledge base derived under another one
#: derives its documents' jurisdictions again when opened.
JURISDICTION_RULE = "2: issuer, provincial branch, division heading the title (kb.places)"
#: A law collection of one region, e.g. "浙江地方法规" -> 浙江.
LOCAL_COLLECTION = re.compile(r"^(?P<region>[\u4e00-\u9fff]{2,8}?)地方(?:性)?法规$")
#: The place at the head of an issuer, e.g. "常熟市人民政府办公室" -> 常熟市, "江苏省财政厅" -> 江苏省.
ISSUER_PLACE = re.compile(r"^(?P<place>[\u4e00-\u9fff]{2,8}?(?:自治区|自治州|省|市|县|区|旗))")
#: Issuers that speak for the whole country, e.g. "国务院办公厅", "最高人民法院".
NATIONAL_ISSUER = re.compile(r"^(?:国务院|全国人民代表大会|全国人大|最高人民法院|最高人民检察院|中共中央|中华人民共和国|国家)")
#: A province's full name inside a national organ's name: its local branch ("国家税务总局山西省税务局";
#: not "国务院台湾事务办公室").
BRANCH_PROVINCE = re.compile("(?P<province>{})".format("|".join(sorted(PROVINCES.values(), key=len, reverse=True))))


def region_of_collection(collection: str) -> str | None:
    """The jurisdiction a law collection stands for: "national", "浙江省", "上海市", or None."""
    if collection == NATIONAL:
        return NATIONAL
    match = LOCAL_COLLECTION.match(collection)
    if not match:
        return None
    region = match.group("region")
    return f"{region}市" if region in MUNICIPALITIES else f"{region}省"


def jurisdiction_of(metadata: Mapping[str, Any], issuer: str | None, title: str | None = None) -> str | None:
    """A document's jurisdiction from what the source says; None when it does not say.

    An explicit ``jurisdiction`` in the metadata wins, then a law record's ``collection``,
    then the place at the head of the 发文机关 (a national organ's provincial branch is that
    province's), then a division at the head of the title (``kb.places``). Notices and news without a
    发文机关 ("安徽省全力保障主副食品生产流通供应", "河北：加强疫情医疗废物…管理") otherwise
    counted as national and answered every place's callers as if they applied to them.
    """
    explicit = metadata.get("jurisdiction")
    if isinstance(explicit, str) and explicit.strip():
        return explicit.strip()
    collection = metadata.get("collection")
    if isinstance(collection, str) and (region := region_of_collection(collection)):
        return region
    if issuer:
        if NATIONAL_ISSUER.match(issuer):
            branch = BRANCH_PROVINCE.search(issuer)
            return branch.group("province") if branch else NATIONAL
        if match := ISSUER_PLACE.match(issuer):
            return match.group("place")
    return gazetteer().at_head(title) if title else None


def places_named(question: str, known: Iterable[str]) -> set[str]:
    """The known jurisdictions a question names, by full or short name ("浙江的规定" -> 浙江省),
    with those containing a named division and those within one: "丰台红十字会" names 北京市,
    "北京的规定" names 丰台区 (``kb.places``)."""
    places = gazetteer()
    named = places.named_in(question)
    containing = {ancestor for name in named for ancestor in places.ancestors(name)}
    return {place for place in known if place != NATIONAL and (
        short_name(place) in question or place in containing or places.lineage(place) & named)}


def is_local_to(jurisdiction: str | None, place: Iterable[str], named: Iterable[str] = ()) -> bool:
    """Whether a document of ``jurisdiction`` should answer callers of ``place``.

    Unknown and national documents always do; with no place set, the knowledge base serves
    the whole country and every regional document counts as another region's.
    """
    if jurisdiction is None or jurisdiction == NATIONAL:
        return True
    return jurisdiction in set(place) or jurisdiction in set(named)
