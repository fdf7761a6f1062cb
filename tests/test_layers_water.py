"""Tests of the `sections` and `measurements` layers: researched facts, provenance and the synthetic series."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from cqgis.analysis import water_quality as wq
from cqgis.layers import gb3838
from cqgis.layers import catalog, measurements, sections
from cqgis.layers.errors import LayerError


@pytest.fixture(scope="module")
def section_layer(districts):
    """The sections layer built on the real districts and basins layers."""
    return sections.build({"districts": districts, "basins": catalog.load("basins")})


@pytest.fixture(scope="module")
def measurement_layer(section_layer):
    """The synthetic measurements layer."""
    return measurements.build({"sections": section_layer})


@pytest.fixture(scope="module")
def yearly(measurement_layer, section_layer):
    """Annual assessment of the synthetic layer."""
    return wq.classify(wq.tidy(measurement_layer), section_layer, "year")


def test_zhutuo_facts(section_layer):
    zhutuo = section_layer.set_index("name").loc["朱沱"]
    assert zhutuo["river"] == "长江"
    assert zhutuo["district"] == "永川区"
    assert zhutuo["adcode"] == "500118"
    assert zhutuo["target_class"] == "Ⅱ"
    assert bool(zhutuo["cross_border"]) is True
    assert zhutuo["direction"] == "川入渝"
    assert "渝府发〔2012〕4号" in zhutuo["source"]
    assert "GeoNames" in zhutuo["source"]


def test_national_stations_of_yunyang_and_the_guizhou_border(section_layer):
    by_name = section_layer.set_index("name")
    yunyang = by_name.loc[["高阳渡口", "汤溪河江口"]]
    assert (yunyang["district"] == "云阳县").all()
    assert (yunyang["level"] == "国控").all()
    assert yunyang["target_class"].isna().all()
    wanmu = by_name.loc["万木"]
    assert wanmu["river"] == "乌江"
    assert wanmu["adcode"] == "500242"
    assert bool(wanmu["cross_border"]) is False
    assert "贵州" in wanmu["source"]


def test_every_section_has_source_and_precision(section_layer):
    assert section_layer["source"].str.len().gt(20).all()
    assert section_layer["precision"].isin(["approximate", "schematic"]).all()
    assert section_layer["code"].is_unique
    assert section_layer.crs.to_epsg() == 4326


def test_direction_only_on_cross_border_sections(section_layer):
    directed = section_layer["direction"].notna()
    assert section_layer.loc[directed, "cross_border"].all()
    assert set(section_layer.loc[directed, "direction"]) == {"川入渝", "渝入川"}


def test_sections_in_sichuan_keep_an_empty_district(section_layer):
    outside = section_layer.set_index("name").loc[["胡市大桥", "大安"]]
    assert outside["district"].isna().all()
    assert section_layer.set_index("name").loc["鱼嘴", "district"] == "江北区"


def test_spatial_join_with_a_small_district_frame():
    box = gpd.GeoDataFrame(
        {"adcode": ["500118"], "name": ["永川区"]}, geometry=[shapely.box(105.7, 28.9, 106.0, 29.2)], crs="EPSG:4326"
    )
    basins = box.assign(name="长江干流区间")
    layer = sections.build({"districts": box, "basins": basins})
    assert set(layer.loc[layer["district"].notna(), "name"]) == {"朱沱", "松溉"}
    # The basin comes from the cell a section drains through, not from the frames given.
    assert layer.set_index("name").loc["朱沱", "basin"] == "长江干流区间"


def test_sections_get_their_basin(section_layer):
    by_name = section_layer.set_index("name")
    assert by_name.loc["朱沱", "basin"] == "长江干流区间"
    assert by_name.loc["北温泉", "basin"] == "嘉陵江"


def test_bad_boolean_is_a_clean_error(districts):
    frame = sections.build({"districts": districts, "basins": catalog.load("basins")}).astype({"cross_border": object})
    frame.loc[1, "cross_border"] = "maybe"
    with pytest.raises(LayerError, match=r"row 2, column cross_border: expected yes/no .*, got .maybe."):
        sections.SCHEMA.conform(frame)


def test_measurements_all_synthetic_and_complete(measurement_layer, section_layer):
    assert (measurement_layer["precision"] == "synthetic").all()
    assert measurement_layer["source"].str.contains("示例数据（合成）").all()
    assert measurement_layer["source"].str.contains(f"seed {measurements.SEED}").all()
    per_section = measurement_layer.groupby("section_code")["month"].nunique()
    assert set(per_section.index) == set(section_layer["code"])
    assert (per_section == 36).all()
    assert measurement_layer["month"].min() == "2023-01"
    assert measurement_layer["month"].max() == "2025-12"
    assert set(gb3838.standard().query("used_for_class_rivers")["code"]) >= set(measurement_layer["item"])


def test_measurements_below_detection_and_blanks(measurement_layer):
    below = measurement_layer[measurement_layer["below_detection"]]
    assert len(below) > 0
    assert below["value"].isna().all()
    assert below["detection_limit"].notna().all()
    unmeasured = measurement_layer["value"].isna() & ~measurement_layer["below_detection"]
    assert 0 < unmeasured.mean() < 0.03


def test_measurements_are_deterministic(section_layer):
    first = measurements.generate(section_layer)
    second = measurements.generate(section_layer)
    pd.testing.assert_frame_equal(first, second)
    assert not first.equals(measurements.generate(section_layer, seed=1))


def test_synthetic_water_is_realistic(yearly):
    main_stem = yearly[yearly["river"] == "长江"]
    assert main_stem["class"].isin(["Ⅰ", "Ⅱ"]).mean() >= 0.7
    tributaries = yearly[yearly["river"].isin(["琼江", "濑溪河", "大洪河", "铜钵河"])]
    assert tributaries["class"].isin(["Ⅲ", "Ⅳ"]).mean() >= 0.7
    pollutants = tributaries["main_pollutants"].str.cat(sep="、")
    assert "总磷" in pollutants


def test_some_sections_fail_their_target_in_some_year(yearly):
    failing = yearly[yearly["meets_target"].eq(False)]
    assert 0 < failing["section_code"].nunique() < yearly["target_class"].notna().sum() / 3
    assert (failing["target_exceedances"] != "").all()
    assert (yearly["precision"] == "synthetic").all()
    rates = wq.compliance_rates(yearly, "year")
    assert rates["compliance_rate"].between(50, 100).all()
    assert np.isin(rates["year"], [2023, 2024, 2025]).all()


def test_a_users_simple_sections_table_loads_with_usual_spellings(tmp_path, districts):
    from cqgis.layers import user

    path = tmp_path / "断面.csv"
    path.write_text(
        "断面名称,河流,经度,纬度,目标水质,水体类型\n"
        "朱沱,长江,105.84877,29.0184,Ⅱ类,河流\n"
        "某水库,某水库,106.9,29.9,III,水库\n",
        encoding="gbk",
    )
    report = user.load(path, sections, deps={"districts": districts, "basins": catalog.load("basins")})
    assert report.ok, report.format()
    frame = report.frame.set_index("name")
    assert frame.loc["朱沱", "target_class"] == "Ⅱ" and frame.loc["某水库", "target_class"] == "Ⅲ"
    assert frame.loc["某水库", "waterbody"] == "lake-reservoir"
    assert frame.loc["朱沱", "code"] == "朱沱" and not frame.loc["朱沱", "cross_border"]
    assert frame.loc["朱沱", "district"] == "永川区"


def test_a_wide_chinese_monitoring_table_replaces_the_measurements(tmp_path, districts):
    from click.testing import CliRunner

    from cqgis.cli import main
    from cqgis.config import settings
    from cqgis.maps import themes

    folder = tmp_path / "data"
    folder.mkdir()
    rows = [("朱沱", f"2025年{m}月", "7.5", "1.8", "0.15", "0.05L", "7.8") for m in range(1, 13)]
    table = pd.DataFrame(rows, columns=["断面名称", "监测时间", "溶解氧", "高锰酸盐指数", "氨氮", "总磷", "pH值"])
    table.to_excel(folder / "measurements.xlsx", index=False)
    ok = CliRunner().invoke(main.cli, ["validate", str(folder / "measurements.xlsx"), "--as", "measurements"])
    assert ok.exit_code == 0, ok.output
    spec = themes.build_spec("water", settings=settings(data_dir=folder))
    classes = spec.layers[-1].frame.set_index("name")["class"]
    assert classes["朱沱"] == "Ⅱ"
    assert not spec.synthetic  # the user's own measurements: no 示例数据 badge
    table.loc[3, "氨氮"] = "abc"
    table.to_excel(folder / "measurements.xlsx", index=False)
    bad = CliRunner().invoke(main.cli, ["validate", str(folder / "measurements.xlsx"), "--as", "measurements"])
    assert bad.exit_code == 1 and "row 5" in bad.output
