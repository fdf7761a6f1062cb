"""Tests for the administrative layers: districts, neighbors, border and functional_zones, and the cnmaps reader."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from cqgis.geo import crs
from cqgis.layers import border as border_layer
from cqgis.layers import catalog, cnmaps, districts as districts_layer, functional_zones as zones_layer
from cqgis.config import Settings
from cqgis.layers.errors import LayerError, UnknownLayerError

ADMIN_LAYERS = ("districts", "neighbors", "border", "functional_zones")

#: Districts that certainly face Sichuan (川渝 cross-border rivers and roads run through them).
BORDER_DISTRICTS = {"潼南区", "荣昌区", "大足区", "永川区", "江津区", "合川区", "城口县", "开州区", "梁平区"}
#: Districts that certainly do not: the city core and the south-east facing Guizhou / Hunan / Hubei.
INLAND_DISTRICTS = {"渝中区", "秀山土家族苗族自治县", "酉阳土家族苗族自治县", "巫山县", "武隆区"}


@pytest.fixture(scope="module")
def border():
    return catalog.load("border")


@pytest.fixture(scope="module")
def zones():
    return catalog.load("functional_zones")


def metric(frame, kind="distance"):
    return frame.geometry.to_crs(crs.metric_crs(kind))


@pytest.mark.slow
def test_districts_names_codes_and_kinds(districts):
    assert len(districts) == 38 and districts["adcode"].is_unique
    rows = districts.set_index("adcode")
    assert rows.loc["500101", "name"] == "万州区"
    assert rows.loc["500240", ["name", "short_name", "kind"]].tolist() == ["石柱土家族自治县", "石柱", "自治县"]
    assert rows.loc["500155", ["name", "short_name", "kind"]].tolist() == ["梁平区", "梁平", "区"]
    assert rows.loc["500243", "short_name"] == "彭水"
    assert rows.loc["500233", "short_name"] == "忠县"
    assert districts["kind"].value_counts().to_dict() == {"区": 26, "县": 8, "自治县": 4}


def test_short_name_rule():
    assert districts_layer.short_name("秀山土家族苗族自治县") == "秀山"
    assert districts_layer.short_name("大渡口区") == "大渡口"
    assert districts_layer.short_name("忠县") == "忠县"


@pytest.mark.slow
def test_region_counts(districts):
    assert districts["region"].value_counts().to_dict() == districts_layer.REGIONS
    rows = districts.set_index("name")["region"]
    assert rows["綦江区"] == "主城都市区" and rows["武隆区"] == "渝东南武陵山区城镇群"


@pytest.mark.slow
def test_city_area_matches_official_figure(districts):
    # The city's official area is 82,402.95 km²; Amap's boundary gives 82,382.
    assert districts["area_km2"].sum() == pytest.approx(82402.95, rel=0.005)


@pytest.mark.slow
def test_neighbors_units(neighbors):
    counties = neighbors[neighbors["level"] == "区县"]
    assert len(counties) == 183 and set(counties["province"]) == {"四川省"}
    assert counties["prefecture"].notna().all() and counties["prefecture"].nunique() == 21
    assert counties.set_index("name").loc["安岳县", "prefecture"] == "资阳市"
    provinces = neighbors[neighbors["level"] == "省"]
    assert sorted(provinces["name"]) == sorted(["贵州省", "湖北省", "湖南省", "陕西省"])
    assert provinces["prefecture"].isna().all()


@pytest.mark.slow
@pytest.mark.parametrize("name", ADMIN_LAYERS)
def test_layers_valid_and_conform(name):
    layer = catalog.load(name)
    assert layer.geometry.is_valid.all() and not layer.geometry.is_empty.any()
    assert catalog.schema(name).problems(layer) == []
    assert layer["source"].str.len().gt(0).all()


@pytest.mark.slow
def test_districts_tile_the_city(districts):
    areas = metric(districts, "area")
    union = shapely.union_all(areas.to_numpy())
    assert union.area == pytest.approx(areas.area.sum(), rel=1e-3)


@pytest.mark.slow
def test_gcj02_correction_moves_each_district(districts):
    raw = cnmaps.read_units("重庆市", "区县", convert=False)
    assert (raw["adcode"].to_numpy() == districts["adcode"].to_numpy()).all()
    moved = metric(raw).centroid.to_numpy()
    fixed = metric(districts).centroid.to_numpy()
    shift = shapely.distance(moved, fixed)
    assert (shift > 300).all() and (shift < 700).all()
    # GCJ-02 lies east and south of WGS84 in Chongqing.
    assert (shapely.get_x(fixed) < shapely.get_x(moved)).all()
    assert (shapely.get_y(fixed) > shapely.get_y(moved)).all()


def test_cnmaps_reader_errors():
    with pytest.raises(LayerError, match="level"):
        cnmaps.read_units("重庆市", "乡镇")
    with pytest.raises(LayerError, match="no 区县 unit"):
        cnmaps.read_units("重庆", "区县")


@pytest.mark.slow
def test_border_length_plausible(border, districts, neighbors):
    # The line runs between the 川渝陕 and 川渝黔 tripoints ~400 km apart and
    # around Chongqing's north-west; a digitised boundary at this detail is
    # 2-4 times its chord, and it is a third to a half of the city outline.
    total = border["length_km"].sum()
    outline = shapely.union_all(metric(districts).to_numpy()).boundary.length / 1000
    assert 1200 < total < 1500
    assert 0.3 < total / outline < 0.5
    # An independent method: the outline clipped to Sichuan buffered by the tolerance.
    sichuan = shapely.union_all(metric(neighbors[neighbors["level"] == "区县"]).to_numpy())
    clipped = shapely.intersection(
        shapely.union_all(metric(districts).to_numpy()).boundary,
        shapely.buffer(sichuan, border_layer.TOLERANCE_M),
    )
    assert total == pytest.approx(clipped.length / 1000, rel=0.005)


@pytest.mark.slow
def test_border_districts(border):
    facing = set(border["district"])
    assert BORDER_DISTRICTS <= facing
    assert not facing & INLAND_DISTRICTS
    assert set(border["name"]) == {"川渝边界"}
    assert {"安岳县", "合江县", "万源市"} <= set(border["neighbor"])


@pytest.mark.slow
def test_border_lies_between_its_pair(border, districts, neighbors):
    lines = metric(border).to_numpy()
    own = metric(districts.set_index("adcode").loc[border["adcode"]]).to_numpy()
    across = metric(neighbors.set_index("adcode").loc[border["neighbor_adcode"]]).to_numpy()
    assert (shapely.hausdorff_distance(lines, shapely.intersection(lines, shapely.buffer(own, 1))) < 1).all()
    assert (shapely.hausdorff_distance(lines, shapely.intersection(lines, shapely.buffer(across, 101))) < 1).all()


def test_border_segments_tolerate_a_shifted_neighbour():
    # A 10 km square district and a neighbour east of it, digitised 50 m apart.
    district = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10_000, 10_000)])
    county = gpd.GeoDataFrame(geometry=[shapely.box(10_050, -5_000, 20_000, 5_000)])
    found = border_layer.border_segments(district, county)
    length = shapely.length(found["segment"].to_numpy()).sum()
    # Densified to 100 m steps, the east side is border where it is within
    # 100 m of the neighbour: y from 0 to 5000 (+87 m), found to one step.
    assert length == pytest.approx(5_000, abs=border_layer.TOLERANCE_M)
    far = gpd.GeoDataFrame(geometry=[shapely.box(10_200, -5_000, 20_000, 5_000)])
    assert border_layer.border_segments(district, far).empty


@pytest.mark.slow
def test_functional_zones_inside_hosts(zones, districts):
    assert sorted(zones["short_name"]) == sorted(["两江新区", "重庆高新区", "万盛经开区", "重庆经开区"])
    by_name = districts.set_index("name")
    for row in zones.itertuples():
        hosts = shapely.union_all(metric(by_name.loc[row.host_districts.split("、")]).to_numpy())
        zone = metric(gpd.GeoDataFrame(geometry=[row.geometry], crs=zones.crs)).iloc[0]
        assert zone.difference(hosts).area < 1e-6 * zone.area
    rows = zones.set_index("short_name")
    assert rows.loc["两江新区", "host_districts"] == "江北区、渝北区、北碚区"
    assert rows.loc["万盛经开区", ["host_districts", "established"]].tolist() == ["綦江区", 2011]


@pytest.mark.slow
def test_functional_zone_precision_follows_area(zones):
    ratio = zones["area_km2"] / zones["published_area_km2"]
    approximate = (ratio - 1).abs() <= zones_layer.AREA_AGREEMENT
    assert (zones["precision"] == np.where(approximate, "approximate", "schematic")).all()
    assert set(zones["precision"]) <= {"approximate", "schematic"}


def test_zone_part_rules_partition_the_district():
    district = shapely.box(0, 0, 4, 4)
    seats = pd.DataFrame(
        {"key": ["甲", "乙", "丙", "丁"], "geometry": shapely.points([[1, 1], [3, 1], [1, 3], [3, 3]])}
    )
    only = zones_layer.zone_part(district, seats, "仅", ["甲"])
    rest = zones_layer.zone_part(district, seats, "除外", ["甲"])
    assert only.symmetric_difference(shapely.box(0, 0, 2, 2)).area == pytest.approx(0)
    assert rest.area == pytest.approx(12) and rest.intersection(only).area == pytest.approx(0)
    assert zones_layer.seat_key("水土镇") == "水土" and zones_layer.seat_key("万盛") == "万盛"


@pytest.mark.slow
@pytest.mark.parametrize("name", ADMIN_LAYERS)
def test_rebuild_is_identical(name):
    cached = catalog.load(name)
    rebuilt = catalog.load(name, rebuild=True)
    pd.testing.assert_frame_equal(cached.drop(columns="geometry"), rebuilt.drop(columns="geometry"))
    assert shapely.equals_exact(cached.geometry.to_numpy(), rebuilt.geometry.to_numpy(), tolerance=0).all()


def test_prepare_builds_missing_layers_after_their_sources_in_two_processes(tmp_path, layer_cache):
    fresh = Settings(cache_dir=tmp_path)
    started = catalog.prepare(fresh, workers=2, layers=["indicators", "h2_zones"])
    assert set(started) == {"districts", "targets", "indicators", "functional_zones", "h2_zones"}
    for name in started:
        assert catalog.cache_path(name, fresh).is_file()
        assert all(started.index(source) < started.index(name) for source in catalog.module(name).DEPENDS)
    # Built in the workers exactly as here, and nothing is built twice.
    pd.testing.assert_frame_equal(catalog.load("indicators", fresh), catalog.load("indicators"))
    assert catalog.prepare(fresh, workers=2, layers=["indicators"]) == []
    with pytest.raises(UnknownLayerError):
        catalog.prepare(fresh, layers=["no_such_layer"])
