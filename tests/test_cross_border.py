"""Tests of cross-border sections: crossings of the flow paths, the documented/inferred rule, directions and conflicts."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from cqgis.analysis import cross_border as cb
from cqgis.analysis.errors import ParameterError
from cqgis.cli.main import cli
from cqgis.cli.analyze.cross_border import RIVERS_SHEET, SECTIONS_SHEET, cross_border as cross_border_command
from cqgis.layers import catalog


@pytest.fixture(scope="module")
def sections(layer_cache):
    return catalog.load("sections")


@pytest.fixture(scope="module")
def table(sections, districts, neighbors):
    return cb.cross_border_sections(sections, districts, neighbors)


def _row(table: pd.DataFrame, name: str) -> pd.Series:
    return table.set_index("name").loc[name]


def test_zhutuo_is_documented_and_the_flow_agrees(table):
    zhutuo = _row(table, "朱沱")
    assert zhutuo["basis"] == cb.DOCUMENTED
    assert zhutuo["direction"] == zhutuo["direction_flow"] == cb.INTO_CHONGQING
    assert zhutuo["direction_source"] == cb.FROM_DOCUMENT
    assert zhutuo["agrees"] is True or zhutuo["agrees"] == True  # noqa: E712 (numpy bool)
    assert zhutuo["side"] == cb.CHONGQING_SIDE
    assert zhutuo["km_to_crossing"] < 0  # the crossing is upstream of it


def test_yangtze_sections_below_zhutuo_are_not_cross_border(table):
    # 松溉 (11.8 km from the border) and 白沙 (14.0 km) were cross-border by the old 15 km rule.
    assert not {"松溉", "白沙", "寸滩"} & set(table["name"])


def test_documented_directions_stand_against_the_flow(sections, districts, neighbors):
    flipped = sections.copy()
    row = flipped.index[flipped["name"] == "水寨子"][0]
    flipped.loc[row, "direction"] = cb.INTO_CHONGQING
    found = _row(cb.cross_border_sections(flipped, districts, neighbors), "水寨子")
    assert found["direction"] == cb.INTO_CHONGQING
    assert found["direction_flow"] == cb.INTO_SICHUAN
    assert found["agrees"] == False  # noqa: E712 (numpy bool)
    assert "以文献为准" in found["conflict"]


def test_niujiaotan_flows_into_chongqing(table):
    # The old coarse river line said 渝入川; the cited notes and the flow path say 川入渝.
    assert _row(table, "牛角滩")["direction_flow"] == cb.INTO_CHONGQING


def test_undocumented_section_nearest_a_crossing_is_inferred(table):
    daan = _row(table, "大安")
    assert daan["basis"] == cb.INFERRED and daan["rule"] == cb.RULE
    assert daan["direction"] == cb.INTO_CHONGQING and daan["direction_source"] == cb.FROM_FLOW


def test_only_the_nearest_section_to_a_crossing_is_inferred(districts, neighbors):
    points = gpd.GeoDataFrame(
        {"code": ["A", "B"], "name": ["近", "远"], "river": ["长江", "长江"], "cross_border": [False, False]},
        geometry=gpd.points_from_xy([105.84877, 105.89209], [29.0184, 29.05762]),
        crs="EPSG:4326",
    )
    found = cb.cross_border_sections(points, districts, neighbors)
    assert found["name"].tolist() == ["近"]
    assert cb.cross_border_sections(points, districts, neighbors, reach_km=1.0).empty


def test_flow_crossings_on_the_yangtze(districts, neighbors):
    model = catalog.drainage_model()
    cell = model.snap(105.84877, 29.0184, "长江")
    found = cb.flow_crossings(model, cell, cb._territories(districts, neighbors))
    assert found["direction"].tolist()[:1] == [cb.INTO_CHONGQING]
    assert (found["along_km"].abs() <= cb.DEFAULT_REACH_KM).all()


def test_reach_must_be_positive(sections, districts, neighbors):
    with pytest.raises(ParameterError, match="positive"):
        cb.cross_border_sections(sections, districts, neighbors, reach_km=0)


def test_river_table(table):
    rivers = cb.cross_border_rivers(table).set_index("river")
    yangtze = rivers.loc["长江"]
    assert yangtze["direction"] == cb.INTO_CHONGQING
    assert yangtze["upstream_side"] == cb.SICHUAN_SIDE
    assert "朱沱" in yangtze["sections_in_chongqing"]
    assert 105.5 < yangtze["crossing_lon"] < 106.2 and 28.7 < yangtze["crossing_lat"] < 29.2


def test_border_rivers_include_the_plans_joint_rivers(districts, neighbors):
    rivers = catalog.load("rivers")
    found = cb.border_rivers(rivers, districts, neighbors).set_index("name")
    assert {"琼江", "长江", "嘉陵江"} <= set(found.index)
    assert "川入渝" in found.loc["琼江", "directions"]


def test_cli_writes_both_sheets(tmp_path):
    output = tmp_path / "跨界.xlsx"
    result = CliRunner().invoke(cross_border_command, ["-o", str(output)])
    assert result.exit_code == 0, result.output
    sheets = pd.read_excel(output, sheet_name=None)
    assert set(sheets) == {RIVERS_SHEET, SECTIONS_SHEET}
    assert "朱沱" in set(sheets[SECTIONS_SHEET]["断面名称"])
    refused = CliRunner().invoke(cli, ["analyze", "cross-border", "--reach", "-1"])
    assert refused.exit_code == 2 and "--reach" in refused.output
