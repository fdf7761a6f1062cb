"""The one resolver of place names: full and short names, basins with 流域, rivers' other names, the city, one error."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from cqgis.cli.main import cli
from cqgis.errors import UsageError, did_you_mean
from cqgis.layers import places, points
from cqgis.layers.errors import LayerError, UnknownPlaceError


def _layer(names: list[str], short: list[str] | None = None) -> gpd.GeoDataFrame:
    columns = {"name": names} | ({"short_name": short} if short is not None else {})
    boxes = [shapely.box(i, 0, i + 1, 1) for i in range(len(names))]
    return gpd.GeoDataFrame(columns, geometry=boxes, crs="EPSG:4326")


def test_a_district_by_its_full_or_short_name():
    districts = _layer(["永川区", "石柱土家族自治县"], ["永川", "石柱"])
    assert places.rows("永川", districts, "district").tolist() == [True, False]
    assert places.rows(" 石柱土家族自治县 ", districts, "district").tolist() == [False, True]
    names = places.canonical(pd.Series(["石柱", None, "永川区"]), places.lookup(districts, "district"), "district")
    assert names.iloc[0] == "石柱土家族自治县" and pd.isna(names.iloc[1]) and names.iloc[2] == "永川区"


def test_a_basin_with_or_without_its_suffix_and_a_river_by_its_other_name():
    assert places.rows("琼江流域", _layer(["嘉陵江", "琼江"]), "basin").tolist() == [False, True]
    # rivers.csv gives 澎溪河 as another name of 小江.
    assert places.rows("澎溪河", _layer(["长江", "小江"]), "river").tolist() == [False, True]


def test_an_unknown_name_is_one_error_with_the_one_hint():
    districts = _layer(["永川区", "万州区"], ["永川", "万州"])
    with pytest.raises(UnknownPlaceError, match=r"indicators row 3: unknown district '永州区'; did you mean 永川区") as error:
        places.canonical(pd.Series(["永川", "永州区"]), places.lookup(districts, "district"), "district",
                         ["indicators row 2", "indicators row 3"])
    # A usage error for a name typed on the command line, a layer error for one in a file.
    assert isinstance(error.value, UsageError) and isinstance(error.value, LayerError)
    # Nothing alike: the known names are listed instead.
    with pytest.raises(UnknownPlaceError, match="known names: 万州区, 永川区"):
        places.rows("火星", districts, "district")


def test_the_city_goes_by_both_of_its_names():
    assert places.is_city(pd.Series(["重庆市", " 全市", "永川区", None])).tolist() == [True, True, False, False]


def test_did_you_mean_is_one_rule():
    assert did_you_mean("hydrogn", ["hydrogen", "water"]) == "did you mean hydrogen?"
    assert did_you_mean("xyz", ["hydrogen", "water"]) == ""


def test_curated_points_are_placed_by_full_or_short_names():
    districts = _layer(["石柱土家族自治县"], ["石柱"])
    zones = _layer(["重庆两江新区"], ["两江新区"])
    found = points.area_points(pd.Series(["两江新区", "石柱"], index=[7, 9]), districts, zones)
    assert found.index.tolist() == [7, 9] and found.within(pd.concat([zones, districts]).union_all()).all()
    with pytest.raises(UnknownPlaceError, match="unknown district or functional zone '两江'; did you mean 两江新区"):
        points.area_points(pd.Series(["两江"]), districts, zones)


def test_the_map_focus_uses_the_resolver(tmp_path):
    result = CliRunner().invoke(cli, ["map", "water", "--district", "永州区", "-o", str(tmp_path / "m.html")])
    assert result.exit_code == 2 and "unknown district '永州区'; did you mean 永川区" in result.output
    assert not (tmp_path / "m.html").exists()
