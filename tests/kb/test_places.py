"""Places by name: a district or city named in a question, a place heading a notice's title."""

from __future__ import annotations

import pytest

from kb import jurisdiction_of
from kb.jurisdiction import places_named
from kb.places import Gazetteer, divisions_file, gazetteer, short_name


@pytest.fixture(scope="module")
def divisions() -> Gazetteer:
    if divisions_file() is None:
        pytest.skip("the cpca package (its division list) is not installed")
    return gazetteer()


def test_short_names_are_what_people_say() -> None:
    assert [short_name(n) for n in ("浙江省", "常熟市", "大理白族自治州", "新疆维吾尔自治区", "恩施土家族苗族自治州",
                                    "浦东新区", "城区")] == ["浙江", "常熟", "大理", "新疆", "恩施", "浦东", "城区"]


def test_a_question_names_districts_and_cities_by_the_name_people_say(divisions: Gazetteer) -> None:
    assert divisions.complete
    assert divisions.named_in("我想给丰台红十字会捐钱") == {"丰台区"}
    assert divisions.named_in("泰州市海陵区企业复工审批流程") == {"泰州市", "海陵区"}
    assert divisions.named_in("常熟能不能网上办事") == {"常熟市"}
    assert "北京市" in divisions.ancestors("丰台区")
    assert {"泰州市", "江苏省"} <= divisions.ancestors("海陵区")
    # ordinary words that are also the names of places are not taken for them
    for question in ("和平解决邻里纠纷", "住在市中心", "城区的房子能落户吗", "大同小异", "日照时间"):
        assert divisions.named_in(question) == set(), question


def test_a_title_tells_the_place_it_opens_with(divisions: Gazetteer) -> None:
    assert divisions.at_head("安徽省全力保障主副食品生产流通供应") == "安徽省"
    assert divisions.at_head("河北：加强疫情医疗废物污水废弃口罩管理") == "河北省"  # not 天津's 河北区
    assert divisions.at_head("湘潭市人民政府关于应对疫情支持中小企业的若干措施") == "湘潭市"
    assert divisions.at_head("关于印发辽宁省复工复产指引的通知") == "辽宁省"
    assert divisions.at_head("中共大理州委大理州人民政府指挥部通告") == "大理白族自治州"
    # 南京, 福州, 徐州 and 开封 each have one: local all the same, and named with any of them
    assert divisions.at_head("鼓楼区关于暂停营业的通告") == "鼓楼区"
    assert {"南京市", "福州市"} <= divisions.ancestors("鼓楼区")
    assert divisions.at_head("老旧小区改造的通知") is None
    assert divisions.at_head("多措并举服务企业复工复产") is None


def test_jurisdiction_falls_back_on_the_title_and_reads_provincial_branches(divisions: Gazetteer) -> None:
    assert jurisdiction_of({}, "国家税务总局山西省税务局") == "山西省"
    assert jurisdiction_of({}, "国务院台湾事务办公室") == "national"
    assert jurisdiction_of({}, None, "安徽省全力保障主副食品生产流通供应") == "安徽省"
    assert jurisdiction_of({}, "常熟市人民政府", "北京市关于…") == "常熟市"  # the issuer says first
    assert jurisdiction_of({"collection": "national"}, None, "北京市…") == "national"
    assert jurisdiction_of({}, None, "多措并举服务企业复工复产") is None


def test_naming_a_district_names_its_city_and_province_and_the_reverse(divisions: Gazetteer) -> None:
    known = ["北京市", "丰台区", "海淀区", "浙江省", "江苏省", "national"]
    assert places_named("我想给丰台红十字会捐钱", known) == {"丰台区", "北京市"}
    assert places_named("北京的复工规定", known) == {"北京市", "丰台区", "海淀区"}
    assert places_named("温州企业不裁员能返多少失业保险", known) == {"浙江省"}
    assert places_named("社保断缴了还能补吗", known) == set()


def test_without_the_division_list_the_provinces_are_known() -> None:
    provinces = Gazetteer.provinces_only()
    assert not provinces.complete
    assert provinces.named_in("安徽的复工规定") == {"安徽省"}
    assert provinces.named_in("我想给丰台红十字会捐钱") == set()
    assert provinces.at_head("河北：加强疫情医疗废物管理") == "河北省"
