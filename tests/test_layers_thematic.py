"""Thematic layers from curated facts (hydrogen zones and stations, parks, targets) and users' files."""

import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from cqgis.cli import main
from cqgis.config import PRECISIONS
from cqgis.layers import catalog, h2_stations, user


@pytest.fixture(scope="module")
def h2_zones(districts):
    return catalog.load("h2_zones")


def test_the_seven_hydrogen_demonstration_areas(h2_zones, districts):
    assert list(h2_zones["name"]) == ["两江新区", "万州区", "九龙坡区", "南岸区", "长寿区", "綦江区", "潼南区"]
    wanzhou = h2_zones.set_index("name").geometry["万州区"]
    assert wanzhou.equals(districts.set_index("name").geometry["万州区"])
    liangjiang = h2_zones.set_index("name").loc["两江新区"]
    assert liangjiang["kind"] == "功能区" and pd.isna(liangjiang["adcode"])
    assert liangjiang["precision"] in ("approximate", "schematic")
    assert h2_zones["source"].str.contains("节能减排综合工作实施方案").all()


def test_first_three_hydrogen_stations_with_sources():
    stations = catalog.load("h2_stations").set_index("name")
    for name, district in (("双溪综合能源站", "两江新区"), ("鱼嘴综合能源站", "两江新区"), ("半山环道综合能源站", "九龙坡区")):
        row = stations.loc[name]
        assert row["reported_area"] == district
        assert row["capacity_kg_per_day"] == 1000
        assert row["source"].strip()
    assert stations.loc["双溪综合能源站", "type"] == "油氢合建"
    assert stations.loc["半山环道综合能源站", "type"] == "气氢合建"
    # 双溪 has no published position: it stands at 两江新区's representative point, schematic.
    assert stations.loc["双溪综合能源站", "precision"] == "schematic"
    assert stations.loc["半山环道综合能源站", "district"] == "九龙坡区"


def test_points_without_a_position_lie_in_their_area(districts):
    stations = catalog.load("h2_stations")
    zones = catalog.load("functional_zones").set_index("short_name")
    shuangxi = stations.set_index("name").geometry["双溪综合能源站"]
    assert zones.geometry["两江新区"].contains(shuangxi)


def test_the_three_circular_transformation_parks():
    parks = catalog.load("parks").set_index("name")
    named = parks.index[parks["circular_transform"] == "实施"]
    assert set(named) == {"两江新区", "西部科学城重庆高新区", "重庆经开区"}
    green = parks[parks["green_park"] == "国家级"]
    assert len(green) >= 7
    assert green["green_park_year"].between(2016, 2025).all()


def test_sewage_target_and_every_target_exact():
    targets = catalog.load("targets").set_index("id")
    sewage = targets[targets["indicator"].str.contains("农村生活污水治理率")]
    assert len(sewage) == 1
    assert sewage["value"].iloc[0] == 40
    assert sewage["unit"].iloc[0] == "%"
    assert (targets["precision"] == "exact").all()


@pytest.mark.parametrize("name", ["h2_zones", "h2_stations", "parks", "targets"])
def test_every_feature_has_source_and_precision(name):
    frame = catalog.load(name)
    assert frame["source"].str.strip().ne("").all()
    assert frame["precision"].isin(PRECISIONS).all()
    if "geometry" in frame:
        assert shapely.is_valid(frame.geometry.to_numpy()).all()


def _stations_xlsx(path, rows, header=("站点名称 ", "运营单位", "状态", "经度", "纬度", "加注能力", "备注")):
    pd.DataFrame(rows, columns=list(header)).to_excel(path, index=False)
    return path


def test_messy_xlsx_with_chinese_headers_loads(tmp_path, districts):
    path = _stations_xlsx(
        tmp_path / "加氢站.xlsx",
        [
            ("示范站A", "某公司", "运营", 106.50135, 29.50512, "500", "无"),
            ("示范站B", None, "在建", 108.4, 30.8, None, ""),
        ],
    )
    report = user.load(path, h2_stations, deps={"districts": districts})
    assert report.ok, report.format()
    frame = report.frame
    assert list(frame["name"]) == ["示范站A", "示范站B"]
    assert frame["capacity_kg_per_day"].iloc[0] == 500
    assert list(frame["district"]) == ["九龙坡区", "万州区"]
    assert (frame["precision"] == "approximate").all()
    assert frame["source"].iloc[0] == "用户文件 加氢站.xlsx"


def test_missing_required_column_is_named(tmp_path):
    path = _stations_xlsx(tmp_path / "s.xlsx", [("A", "x", 106.5, 29.5)], header=("站点名称", "运营单位", "经度", "纬度"))
    report = user.load(path, h2_stations)
    assert not report.ok
    assert "required column 'status' is missing" in report.format()


def test_bad_values_are_reported_by_spreadsheet_row(tmp_path):
    path = _stations_xlsx(
        tmp_path / "s.xlsx",
        [("A", "x", "运营", 106.5, 29.5, "abc", ""), ("B", "y", "建成", 106.6, 29.6, "100", "")],
    )
    report = user.load(path, h2_stations)
    lines = {str(p) for p in report.problems}
    assert "row 2, column capacity_kg_per_day: expected a number, got 'abc'" in lines
    assert any(line.startswith("row 3, column status: '建成' is not one of") for line in lines)


def test_explicit_mapping_wins_and_unknown_targets_fail(tmp_path):
    path = _stations_xlsx(tmp_path / "s.xlsx", [("A", "运营", 106.5, 29.5)], header=("站名", "当前状态", "lng", "lat"))
    report = user.load(path, h2_stations, mapping={"站名": "name", "当前状态": "status"})
    assert report.ok, report.format()
    with pytest.raises(user.UsageError, match="has no field nmae"):
        user.load(path, h2_stations, mapping={"站名": "nmae"})


def test_mapping_yaml_with_layer_sections(tmp_path):
    mapping = tmp_path / "columns.yaml"
    mapping.write_text("h2_stations:\n  站名: name\nparks:\n  园区: name\n", encoding="utf-8")
    assert user.read_mapping(mapping, layer="h2_stations") == {"站名": "name"}
    broken = tmp_path / "broken.yaml"
    broken.write_text("站名: name\n  bad: [\n", encoding="utf-8")
    with pytest.raises(user.UsageError, match="line 2"):
        user.read_mapping(broken)


def test_data_dir_file_replaces_the_default(tmp_path, districts):
    from cqgis.config import settings

    folder = tmp_path / "data"
    folder.mkdir()
    _stations_xlsx(folder / "h2_stations.xlsx", [("仅此一站", "公司", "运营", 106.5, 29.55, "", "")])
    frame = catalog.load("h2_stations", settings(data_dir=folder))
    assert list(frame["name"]) == ["仅此一站"]
    # Other layers keep their embedded default.
    assert len(catalog.load("parks", settings(data_dir=folder))) == len(catalog.load("parks"))


def test_cli_validate_as_layer(tmp_path, districts):
    good = _stations_xlsx(tmp_path / "good.xlsx", [("A", "x", "运营", 106.5, 29.5, "", "")])
    bad = _stations_xlsx(tmp_path / "bad.xlsx", [("A", "x", 106.5, 29.5)], header=("名", "运营单位", "经度", "纬度"))
    ok = CliRunner().invoke(main.cli, ["validate", str(good), "--as", "h2_stations"])
    assert ok.exit_code == 0, ok.output
    failed = CliRunner().invoke(main.cli, ["validate", str(bad), "--as", "h2_stations", "--map", "名=name"])
    assert failed.exit_code == 1
    assert "required column 'status' is missing" in failed.output
    unknown = CliRunner().invoke(main.cli, ["validate", str(good), "--as", "nolayer"])
    assert unknown.exit_code == 2 and "unknown layer 'nolayer'" in unknown.output


def test_columns_yaml_says_a_data_folder_file_is_gcj02(tmp_path, districts):
    from cqgis.config import settings
    from cqgis.geo import crs

    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "h2_stations.csv").write_text("站名,状态,经度,纬度\n甲站,运营,106.5,29.5\n", encoding="utf-8")
    (folder / "columns.yaml").write_text("h2_stations:\n  crs: gcj02\n  站名: name\n", encoding="utf-8")
    point = catalog.load("h2_stations", settings(data_dir=folder)).geometry.iloc[0]
    lon, lat = crs.gcj02_to_wgs84(106.5, 29.5)
    assert point.x == pytest.approx(float(lon)) and point.y == pytest.approx(float(lat))
