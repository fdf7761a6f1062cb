"""Tests of the `rivers` and `basins` layers and of the WDB II reach merging."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal

from cqgis.geo import crs
from cqgis.layers import catalog, rivers as rivers_module, wdb
from cqgis.layers.errors import LayerError

WDB_MAIN = ("长江", "嘉陵江", "乌江", "涪江", "渠江")
SCHEMATIC = ("琼江", "铜钵河", "大清流河", "龙溪河")


@pytest.fixture(scope="module")
def rivers(layer_cache):
    return catalog.load("rivers")


@pytest.fixture(scope="module")
def basins(layer_cache):
    return catalog.load("basins")


@pytest.fixture(scope="module")
def metric():
    return crs.metric_crs("distance")


def _river(rivers: gpd.GeoDataFrame, name: str) -> shapely.Geometry:
    found = rivers.loc[rivers["name"] == name, "geometry"]
    assert len(found) == 1, name
    return found.iloc[0]


def _district(districts: gpd.GeoDataFrame, name: str) -> shapely.Geometry:
    return districts.loc[districts["name"] == name, "geometry"].iloc[0]


def _to_metric(geom: shapely.Geometry, metric) -> shapely.Geometry:
    return gpd.GeoSeries([geom], crs="EPSG:4326").to_crs(metric).iloc[0]


def _chongqing(districts: gpd.GeoDataFrame, target) -> shapely.Geometry:
    return shapely.union_all(districts.to_crs(target).geometry.to_numpy())


def test_named_rivers_present(rivers):
    names = set(rivers["name"])
    assert set(WDB_MAIN + SCHEMATIC) <= names
    assert rivers["name"].value_counts().drop("").max() == 1
    assert (rivers.loc[rivers["name"] != "", "geometry"].geom_type == "LineString").all()
    assert (rivers["name"] == "").sum() > 10


def test_precision_and_provenance(rivers):
    schematic = rivers["name"].isin(SCHEMATIC)
    assert (rivers.loc[schematic, "precision"] == "schematic").all()
    assert (rivers.loc[~schematic, "precision"] == "approximate").all()
    assert rivers.loc[~schematic, "source"].str.startswith(wdb.source()).all()
    assert rivers.loc[rivers["name"] == "长江", "source"].iat[0].count("渝府发〔2012〕4号") == 1
    assert rivers["river_id"].is_unique


def test_yangtze_passes_yuzhong(rivers, districts, metric):
    yuzhong = _to_metric(_district(districts, "渝中区"), metric).centroid
    assert _to_metric(_river(rivers, "长江"), metric).distance(yuzhong) < 3000


def test_named_reaches_run_downstream(rivers, districts, metric):
    named = rivers["name"] != ""
    assert rivers.loc[named, "oriented"].all()
    assert not rivers.loc[~named, "oriented"].any()
    yangtze = shapely.get_coordinates(_river(rivers, "长江"))
    assert yangtze[0, 0] < 106.0 < 109.5 < yangtze[-1, 0]
    for river, mouth_district in (("嘉陵江", "渝中区"), ("乌江", "涪陵区"), ("琼江", "铜梁区"), ("龙溪河", "长寿区")):
        end = _to_metric(shapely.get_point(_river(rivers, river), -1), metric)
        assert _to_metric(_district(districts, mouth_district), metric).distance(end) < 3000, river


def test_tributaries_end_on_their_river(rivers, metric):
    named = rivers[rivers["name"] != ""].set_index("name")
    for river, row in named.iterrows():
        if row["flows_into"] in named.index:
            end = _to_metric(shapely.get_point(row.geometry, -1), metric)
            receiver = _to_metric(named.at[row["flows_into"], "geometry"], metric)
            assert receiver.distance(end) < 1.0, river


def test_lengths_plausible(rivers, districts, metric):
    chongqing = _chongqing(districts, metric)
    lines = rivers.to_crs(metric)
    assert np.allclose(lines.length / 1000, rivers["length_km"], rtol=1e-9)
    inside = {name: _river(lines, name).intersection(chongqing).length / 1000 for name in ("长江", "嘉陵江", "乌江")}
    # Published lengths in Chongqing are 长江 ~690 km, 嘉陵江 ~150 km, 乌江 ~220 km;
    # the generalised WDB II lines run shorter, the 乌江's gorges most.
    assert 600 < inside["长江"] < 720
    assert 120 < inside["嘉陵江"] < 200
    assert 150 < inside["乌江"] < 280
    expected = shapely.intersects(rivers.geometry.to_numpy(), _chongqing(districts, "EPSG:4326"))
    assert np.array_equal(rivers["in_chongqing"].to_numpy(bool), expected)


def test_geometries_valid(rivers, basins):
    for layer in (rivers, basins):
        assert layer.crs.equals("EPSG:4326")
        assert layer.geometry.is_valid.all()
        assert not layer.geometry.is_empty.any()


def test_basins_tile_chongqing(basins, districts):
    area_crs = crs.metric_crs("area")
    shapes = basins.to_crs(area_crs).geometry.to_numpy()
    union = shapely.union_all(shapes).area
    assert abs(shapely.area(shapes).sum() - union) / union < 1e-3
    assert abs(union - _chongqing(districts, area_crs).area) / union < 1e-3
    assert np.allclose(basins["area_km2"], shapely.area(shapes) / 1e6)


def test_basin_hierarchy(basins):
    names = set(basins["name"])
    assert {"长江干流区间", "嘉陵江", "乌江", *SCHEMATIC} <= names
    parent = basins.set_index("name")["parent"]
    assert parent["琼江"] == "涪江"
    assert parent["涪江"] == "嘉陵江"
    assert parent["嘉陵江"] == "长江"
    assert (basins.loc[basins["name"].isin(SCHEMATIC), "precision"] == "schematic").all()


def test_qiongjiang_basin_touches_tongnan(basins, districts):
    area_crs = crs.metric_crs("area")
    qiongjiang = basins.loc[basins["name"] == "琼江"].to_crs(area_crs).geometry.iloc[0]
    tongnan = districts.loc[districts["name"] == "潼南区"].to_crs(area_crs).geometry.iloc[0]
    assert qiongjiang.intersection(tongnan).area > 100e6


def test_rebuild_gives_identical_layers(rivers, basins):
    assert_geodataframe_equal(catalog.load("rivers", rebuild=True), rivers)
    assert_geodataframe_equal(catalog.load("basins", rebuild=True), basins)


def test_merge_joins_degree_cuts_and_nodes_confluences():
    main_west = shapely.LineString([(0, 0), (10_000, 0)])
    # Cut at a "degree line" and left with a 120 m gap, as WDB II pieces often are.
    main_east = shapely.LineString([(10_120, 0), (20_000, 0)])
    # A tributary ending 200 m short of the main river's interior.
    tributary = shapely.LineString([(15_000, 8_000), (15_000, 200)])
    reaches = rivers_module.merge_reaches(np.array([main_west, main_east, tributary]), tolerance=500)
    assert len(reaches) == 3
    lengths = np.sort(shapely.length(reaches))
    assert np.allclose(lengths, [5_000, 8_000, 15_000], atol=130)
    ends = shapely.get_coordinates(np.concatenate([shapely.get_point(reaches, 0), shapely.get_point(reaches, -1)]))
    assert (np.all(ends == [15_000, 0], axis=1)).sum() == 3


def test_wdb_reads_polylines_in_bounds():
    lines = wdb.read_polylines((106.0, 29.0, 107.0, 30.0))
    assert len(lines) > 0
    bounds = shapely.bounds(lines)
    assert ((bounds[:, 2] >= 106.0) & (bounds[:, 0] <= 107.0) & (bounds[:, 3] >= 29.0) & (bounds[:, 1] <= 30.0)).all()
    assert shapely.is_valid(lines).all()


def test_anchor_far_from_every_reach_is_a_clean_error():
    reaches = np.array([shapely.LineString([(0, 0), (50_000, 0)])])
    anchors = rivers_module.read_anchors().head(2).assign(river="测试河")
    points = shapely.points([(1_000, 100), (30_000, 40_000)])
    with pytest.raises(LayerError, match="no WDB reach within 10 km of 测试河 #2"):
        rivers_module._Network(reaches, anchors, points)
