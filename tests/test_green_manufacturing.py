"""Green factories and parks: the lists held agree with the published counts, districts are never guessed, counts add up."""

import re

import pandas as pd
import pytest
from click.testing import CliRunner

from cqgis.analysis import green_manufacturing as green
from cqgis.analysis.errors import AnalysisError
from cqgis.cli import main
from cqgis.config import PRECISIONS, settings
from cqgis.layers import catalog, green_factories
from cqgis.layers.errors import LayerError

#: What a source must not be: a path on someone's computer.
LOCAL_PATH = re.compile(r"(?:^|[\s(|])(?:/(?:work|home|tmp|Users|mnt)/|[A-Za-z]:\\|file://|~/)")


@pytest.fixture(scope="module")
def factories(layer_cache):
    return catalog.load("green_factories")


@pytest.fixture(scope="module")
def parks(layer_cache):
    return catalog.load("parks")


@pytest.fixture(scope="module")
def targets(layer_cache):
    return green.plan_targets(catalog.load("targets"))


def _reported(kind, level, period):
    totals = green.reported_totals()
    row = totals[(totals["kind"] == kind) & (totals["level"] == level) & (totals["period"] == period)]
    assert len(row) == 1
    return int(row["count"].iloc[0])


def test_national_lists_to_2020_match_the_count_the_city_published(factories, parks):
    # 市经济信息委 (2022-03): 35 national green factories and 3 national green parks by the end of 2021;
    # the 2021年度 list only came out in January 2022, so batches 1-5 (to 2020) are what it counted.
    listed = green.units(factories, parks, levels=["国家级"], until=2020)
    counted = listed["kind"].value_counts()
    assert counted[green.FACTORY] == _reported(green.FACTORY, "国家级", "截至2021年底")
    assert counted[green.PARK] == _reported(green.PARK, "国家级", "截至2021年底")


def test_2023_parks_are_the_four_the_report_names(parks):
    in_2023 = parks[(parks["green_park"] == "国家级") & (parks["green_park_year"] == 2023)]
    assert len(in_2023) == _reported(green.PARK, "国家级", "2023年度")
    assert set(in_2023["name"]) == {"重庆九龙工业园区", "重庆永川高新技术产业开发区", "重庆涪陵高新技术产业开发区", "重庆市建桥工业园区"}


def test_fourth_batch_holds_the_factories_the_2019_report_names(factories):
    fourth = set(factories.loc[factories["batch"] == "第四批", "name"])
    named = {"广州双桥（重庆）有限公司", "双钱集团（重庆）轮胎有限公司", "重庆紫光国际化工有限责任公司",
             "重庆ABB江津涡轮增压系统有限公司", "重庆宗申通用动力机械有限公司"}
    assert named <= fourth


def test_every_listing_has_a_document_source_and_precision(factories, parks):
    green_parks = parks[parks["green_park"].notna()]
    sources = pd.concat([factories["source"], green_parks["source"], green.reported_totals()["source"]])
    assert sources.str.strip().ne("").all()
    assert not sources.str.contains(LOCAL_PATH).any(), sources[sources.str.contains(LOCAL_PATH)].tolist()
    assert sources.str.contains(r"https?://").all()
    assert factories["precision"].isin(PRECISIONS).all()
    assert green.reported_totals()["precision"].isin(PRECISIONS).all()


def test_a_district_is_set_only_with_its_precision_and_inferred_ones_come_from_the_name(factories, districts):
    placed = factories["district"].notna()
    assert factories.loc[placed, "district_precision"].isin(["exact", "approximate"]).all()
    assert factories.loc[~placed, "district_precision"].isna().all()
    assert factories.loc[placed, "adcode"].notna().all()
    short = districts.set_index("name")["short_name"]
    inferred = factories[factories["district_precision"] == "approximate"]
    # 万盛 is the only place name that is not its district's own (万盛经开区 lies in 綦江区).
    for name, district in zip(inferred["name"], inferred["district"]):
        assert short[district] in name or ("万盛" in name and district == "綦江区"), name


def _tiny_factories():
    return pd.DataFrame({
        "name": ["甲厂", "乙厂", "甲厂", "丙厂", "丁厂"],
        "level": ["国家级", "市级", "市级", "国家级", "市级"],
        "list_year": [2019, 2020, 2018, 2021, 2024],
        "batch": ["第四批", "2020", "2018", "2021年度", "2024年度"],
        "adcode": ["500101", "500101", "500101", pd.NA, "500102"],
        "district": ["万州区", "万州区", "万州区", pd.NA, "涪陵区"],
        "district_precision": ["exact", "approximate", "exact", pd.NA, "approximate"],
        "source": ["a", "b", "c", "d", "e"],
        "precision": ["exact"] * 5,
    })


def _tiny_parks():
    return pd.DataFrame({
        "name": ["某园区", "循环园"],
        "green_park": ["市级", pd.NA],
        "green_park_year": [2022, pd.NA],
        "adcode": ["500102", "500101"],
        "district": ["涪陵区", "万州区"],
        "precision": ["schematic", "approximate"],
        "source": ["f", "g"],
    })


def test_counts_per_district_unplaced_and_city_on_small_lists(districts):
    listed = green.units(_tiny_factories(), _tiny_parks())
    # 甲厂 is on a municipal (2018) and a national (2019) list: one factory.
    assert listed[listed["name"] == "甲厂"]["level"].tolist() == ["市级、国家级"]
    counts = green.district_counts(listed, districts, {green.FACTORY: 300, green.PARK: 30}).set_index("district")
    assert counts.loc["万州区", "green_factories"] == 2
    assert counts.loc["涪陵区", ["green_factories", "green_parks"]].tolist() == [1, 1]
    assert counts.loc["涪陵区", "green_parks_approximate"] == 1  # a schematic park point: district inferred
    assert counts.loc[green.UNPLACED, "green_factories"] == 1
    assert counts.loc["黔江区", "green_factories"] == 0
    city = counts.loc[green.CITY]
    assert (city["green_factories"], city["green_parks"]) == (4, 1)
    assert city["share_factories"] == pytest.approx(100 * 4 / 300)
    assert city["share_parks"] == pytest.approx(100 * 1 / 30)
    assert counts.loc["万州区", ["target_factories", "share_factories"]].isna().all()
    assert counts.index.tolist()[-2:] == [green.UNPLACED, green.CITY]
    assert len(counts) == len(districts) + 2
    # Per-district rows and the unplaced row add up to the city.
    assert counts.drop(index=green.CITY)["green_factories"].sum() == city["green_factories"]


def test_levels_and_years_filter_what_is_counted():
    national = green.units(_tiny_factories(), _tiny_parks(), levels=["国家级"])
    assert sorted(national["name"]) == ["丙厂", "甲厂"]
    to_2020 = green.units(_tiny_factories(), _tiny_parks(), until=2020)
    assert sorted(to_2020["name"]) == ["乙厂", "甲厂"]
    with pytest.raises(AnalysisError, match="省级"):
        green.units(_tiny_factories(), _tiny_parks(), levels=["省级"])


def test_notes_say_what_is_counted_and_against_what(factories, parks, targets):
    listed = green.units(factories, parks, levels=["国家级"], until=2021)
    text = "\n".join(green.notes(listed, ["国家级"], 2021, targets, green.reported_totals()))
    assert "建成绿色园区30个、绿色工厂300家" in text
    assert "截至2021年" in text and "未定位" in text
    assert f"{int(listed['district'].eq(green.UNPLACED).sum())}个单位" in text
    # The latest published cumulative counts are quoted, not the floors of the lists.
    reported = green.reported_totals()
    latest = reported[(reported["scope"] == "cumulative")].sort_values("as_of").iloc[-1]
    assert f"{latest['kind']}（{latest['level']}）{latest['count']}" in text


def test_a_users_list_takes_short_district_names_and_refuses_unknown_ones(tmp_path, districts):
    good = tmp_path / "green_factories.csv"
    good.write_text("企业名称,级别,批次,年度,区县\n测试厂,市级,2023年度,2023,涪陵\n无区县厂,市级,2023年度,2023,\n", encoding="utf-8")
    frame = catalog.load("green_factories", settings(data_dir=tmp_path))
    assert frame["district"].tolist()[0] == "涪陵区" and frame["adcode"].tolist()[0] == "500102"
    assert pd.isna(frame["district"].iloc[1])
    assert frame["source"].str.contains("green_factories.csv").all()
    bad = tmp_path / "bad.csv"
    bad.write_text("企业名称,级别,批次,年度,区县\n测试厂,市级,2023年度,2023,成都\n", encoding="utf-8")
    with pytest.raises(LayerError, match="成都"):
        catalog.load_file("green_factories", bad)
    assert green_factories.SCHEMA.field("district").required is False


def test_cli_writes_the_workbook_and_says_the_counts_are_floors(tmp_path, layer_cache):
    out = tmp_path / "green.xlsx"
    result = CliRunner().invoke(main.cli, ["analyze", "green", "-o", str(out), "--level", "国家级", "--until", "2020"])
    assert result.exit_code == 0, result.output
    sheets = pd.read_excel(out, sheet_name=None)
    assert list(sheets) == ["区县计数", "计入名录", "公布数", "说明"]
    city = sheets["区县计数"].set_index("区县").loc[green.CITY]
    assert city["绿色工厂（家）"] == _reported(green.FACTORY, "国家级", "截至2021年底")
    assert city["2025年目标：绿色工厂"] == 300
    assert "floors" in result.output and "未定位" in result.output
    wrong = CliRunner().invoke(main.cli, ["analyze", "green", "-o", str(tmp_path / "g.csv")])
    assert wrong.exit_code != 0 and "Traceback" not in wrong.output
    assert ".xlsx or a .gpkg" in wrong.output


def test_stations_and_parks_without_a_position_say_so(parks):
    stations = catalog.load("h2_stations")
    assert not stations["source"].str.contains(LOCAL_PATH).any()
    for frame in (stations, parks):
        # A point the source did not give is schematic and its note says where it was put.
        unplaced = frame["location_source"].fillna("").str.contains("位置示意")
        assert frame.loc[unplaced, "precision"].eq("schematic").all()
    green_parks = parks[parks["green_park"].notna()]
    assert not green_parks["source"].str.contains(LOCAL_PATH).any()
    no_point = green_parks["location_source"].fillna("").str.contains("位置示意")
    assert no_point.sum() >= 1 and green_parks.loc[no_point, "reported_area"].notna().all()


def test_parks_map_shades_districts_by_listed_units_and_names_the_unplaced(factories, parks, targets, districts):
    from cqgis.maps import themes

    spec = themes.build_spec("parks")
    shaded = next(layer for layer in spec.layers if layer.kind == "polygon" and layer.color_column == "count_class")
    by_district = shaded.frame.set_index("name")
    counts = green.district_counts(green.units(factories, parks), districts, targets).set_index("district")
    assert by_district.loc["涪陵区", "count_class"] == "2–3个"  # one factory (华新水泥涪陵) and one park
    assert by_district.loc["城口县", "count_class"] == "名录中无"
    unplaced = counts.loc[green.UNPLACED, ["green_factories", "green_parks"]].sum()
    assert f"{unplaced}个未定位" in spec.subtitle
    assert f"绿色工厂{counts.loc[green.CITY, 'green_factories']}家" in spec.subtitle
