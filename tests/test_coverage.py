"""Tests for analysis.coverage: buffer areas, settlements, facility-zone links, distance raster and zonal statistics."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from click.testing import CliRunner
from rasterio.transform import Affine

from cqgis.analysis import coverage as cov
from cqgis.analysis.errors import AnalysisError
from cqgis.geo.errors import WriteError
from cqgis.cli.analyze.coverage import coverage as coverage_command
from cqgis.geo import crs

METRIC = crs.metric_crs("distance")
# A point in the middle of Chongqing, in the metric CRS.
X0, Y0 = 0.0, 0.0


def _metric_frame(geometries, **columns):
    frame = gpd.GeoDataFrame(columns, geometry=list(geometries), crs=METRIC)
    return frame.to_crs("EPSG:4326")


def _square(cx, cy, side):
    return shapely.box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def test_one_facility_in_a_square_covers_pi_r_squared():
    zones = _metric_frame([_square(X0, Y0, 10_000)], name=["甲"])
    facilities = _metric_frame([shapely.Point(X0, Y0)], name=["站"])
    result = cov.coverage(facilities, zones, 3000)
    row = result.zones.iloc[0]
    # The square is drawn in the conformal CRS and measured in the equal-area one:
    # they agree within their scale error (< 0.1 %).
    assert row["zone_km2"] == pytest.approx(100.0, rel=1e-3)
    assert row["covered_km2"] == pytest.approx(np.pi * 9.0, rel=0.01)
    assert row["covered_pct"] == pytest.approx(np.pi * 9.0, rel=0.01)
    assert row["facilities"] == 1


def test_settlements_and_links():
    zones = _metric_frame(
        [_square(X0, Y0, 10_000), _square(X0 + 10_000, Y0, 10_000)], name=["甲", "乙"]
    )
    facilities = _metric_frame([shapely.Point(X0 + 4000, Y0), shapely.Point(X0 + 30_000, Y0)], name=["站1", "站2"])
    settlements = _metric_frame(
        [shapely.Point(X0 + 3000, Y0), shapely.Point(X0 - 4000, Y0), shapely.Point(X0 + 5800, Y0)],
        population=[100, 50, pd.NA],
    )
    result = cov.coverage(facilities, zones, 2000, settlements)
    table = result.zones.set_index("name")
    assert table["settlements"].tolist() == [2, 1]
    assert table["settlements_covered"].tolist() == [1, 1]
    assert table["population_covered"].tolist() == [100.0, 0.0]
    # Survey layers give 常住人口 as ``residents``.
    residents = settlements.rename(columns={"population": "residents"})
    again = cov.coverage(facilities, zones, 2000, residents).zones.set_index("name")
    assert again["population_covered"].tolist() == [100.0, 0.0]
    assert table["facilities"].tolist() == [1, 1]
    links = result.links
    assert links["facility_name"].tolist() == ["站1", "站1"]
    assert links["zone_name"].tolist() == ["甲", "乙"]
    np.testing.assert_allclose(links["distance_m"], [0.0, 1000.0], atol=1e-6)


def test_synthetic_facilities_make_synthetic_results():
    zones = _metric_frame([_square(X0, Y0, 10_000)], name=["甲"], source=["区划"], precision=["exact"])
    facilities = _metric_frame(
        [shapely.Point(X0, Y0)], name=["站"], source=["示例数据"], precision=["synthetic"]
    )
    result = cov.coverage(facilities, zones, 3000)
    assert result.zones["precision"].tolist() == ["synthetic"]
    assert result.zones["source"].tolist() == ["区划；示例数据"]
    assert result.links["precision"].tolist() == ["synthetic"]
    real = cov.coverage(facilities.assign(precision="exact"), zones, 3000)
    assert real.zones["precision"].tolist() == ["exact"]


def test_distance_raster_equals_brute_force():
    rng = np.random.default_rng(5)
    facilities = gpd.GeoDataFrame(
        geometry=shapely.points(rng.uniform([106.0, 29.0], [107.5, 30.2], (40, 2))), crs="EPSG:4326"
    )
    bounds = (106.2, 29.2, 107.2, 30.0)
    distances, profile = cov.distance_raster(facilities, bounds=bounds, cell_m=700)
    assert distances.shape == (profile["height"], profile["width"])
    assert distances.shape[0] > cov.TILE_CELLS // 2
    xs, ys = cov.cell_centres(profile)
    points = facilities.to_crs(METRIC).geometry
    fx, fy = points.x.to_numpy(), points.y.to_numpy()
    brute = np.sqrt(((xs[None, :, None] - fx) ** 2 + (ys[:, None, None] - fy) ** 2).min(axis=2))
    np.testing.assert_allclose(distances, brute, rtol=1e-6)
    west, south, east, north = rasterio.transform.array_bounds(profile["height"], profile["width"], profile["transform"])
    assert profile["crs"] == rasterio.crs.CRS.from_wkt(METRIC.to_wkt())
    assert west % 700 == 0 and north % 700 == 0


def test_distance_raster_writes_a_geotiff(tmp_path):
    facilities = _metric_frame([shapely.Point(X0, Y0)])
    path = tmp_path / "距离.tif"
    distances, profile = cov.distance_raster(facilities, bounds=(107.6, 30.1, 107.9, 30.4), cell_m=1000, path=path)
    with rasterio.open(path) as dataset:
        np.testing.assert_array_equal(dataset.read(1), distances)
        assert dataset.transform == profile["transform"]
    assert [p.name for p in tmp_path.iterdir()] == ["距离.tif"]
    with pytest.raises(WriteError, match="does not exist"):
        cov.distance_raster(facilities, bounds=(107.6, 30.1, 107.9, 30.4), cell_m=1000, path=tmp_path / "无" / "x.tif")


def test_zonal_stats_by_hand():
    # 3 rows x 4 columns of 1 km cells; the zones are the left half and the right column.
    raster = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], dtype=np.float32) * 1000
    profile = {"crs": rasterio.crs.CRS.from_wkt(METRIC.to_wkt()), "transform": Affine(1000, 0, 0, 0, -1000, 3000)}
    zones = _metric_frame([shapely.box(0, 0, 2000, 3000), shapely.box(3000, 0, 4000, 3000), shapely.box(9e5, 0, 9.1e5, 1)])
    stats = cov.zonal_stats(raster, profile, zones, radius_m=5500)
    assert stats["cells"].tolist() == [6, 3, 0]
    np.testing.assert_allclose(stats["mean_distance_m"][:2], [(1 + 2 + 5 + 6 + 9 + 10) / 6 * 1000, 8000])
    np.testing.assert_allclose(stats["max_distance_m"][:2], [10_000, 12_000])
    np.testing.assert_allclose(stats["within_pct"][:2], [100 * 3 / 6, 100 * 1 / 3])
    assert stats.iloc[2, 1:].isna().all()


@pytest.mark.parametrize(
    ("facilities", "radius", "message"),
    [
        ([shapely.Point(X0, Y0)], 0, "radius"),
        ([shapely.LineString([(X0, Y0), (X0 + 1, Y0)])], 1000, "must hold points"),
    ],
)
def test_unusable_inputs_raise_clear_errors(facilities, radius, message):
    zones = _metric_frame([_square(X0, Y0, 10_000)])
    with pytest.raises(AnalysisError, match=message):
        cov.coverage(_metric_frame(facilities), zones, radius)


def test_cli_writes_zones_links_and_raster(tmp_path):
    zones = _metric_frame([_square(X0, Y0, 10_000), _square(X0 + 10_000, Y0, 10_000)], name=["甲", "乙"])
    facilities = _metric_frame([shapely.Point(X0, Y0)], name=["站"], precision=["synthetic"], source=["示例"])
    zones.to_file(tmp_path / "zones.gpkg")
    facilities.to_file(tmp_path / "stations.geojson")
    output = tmp_path / "覆盖.csv"
    raster = tmp_path / "距离.tif"
    result = CliRunner().invoke(
        coverage_command,
        [
            "--facilities", str(tmp_path / "stations.geojson"),
            "--zones", str(tmp_path / "zones.gpkg"),
            "--radius", "3000",
            "-o", str(output),
            "--raster", str(raster),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(output, encoding="utf-8-sig")
    assert table["covered_pct"].iloc[0] == pytest.approx(np.pi * 9, rel=0.01)
    assert table["within_pct"].iloc[0] == pytest.approx(np.pi * 9, rel=0.05)
    assert (table["precision"] == "synthetic").all()
    links = pd.read_csv(tmp_path / "覆盖_links.csv", encoding="utf-8-sig")
    assert links["zone_name"].tolist() == ["甲"]
    assert raster.exists()


def _stations():
    """Four stations 20 km apart in two squares: one operating, one under construction, one planned,
    and one operating but drawn at a representative point (schematic)."""
    points = [shapely.Point(X0, Y0), shapely.Point(X0 + 20_000, Y0), shapely.Point(X0, Y0 + 20_000), shapely.Point(X0 + 20_000, Y0 + 20_000)]
    return _metric_frame(
        points,
        name=["运营站", "在建站", "规划站", "示意站"],
        status=["运营", "在建", "规划", "运营"],
        precision=["approximate", "approximate", "approximate", "schematic"],
    )


def test_scenarios_count_stations_by_status_and_never_schematic_ones():
    split = cov.split_facilities(_stations())
    assert split.counted["name"].tolist() == ["运营站"]
    assert dict(zip(split.left_out["name"], split.left_out["reason"])) == {
        "在建站": "状态：在建", "规划站": "状态：规划", "示意站": "无实际位置（示意点）",
    }
    assert cov.split_facilities(_stations(), "含在建").counted["name"].tolist() == ["运营站", "在建站"]
    assert cov.split_facilities(_stations(), "含规划").counted["name"].tolist() == ["运营站", "在建站", "规划站"]
    with pytest.raises(AnalysisError, match="unknown station scenario"):
        cov.split_facilities(_stations(), "全部")
    # Without a status column every facility exists; schematic ones are still left out.
    assert len(cov.split_facilities(_stations().drop(columns="status")).counted) == 3


def test_not_counted_stations_are_listed_in_their_zone():
    south, north = shapely.box(X0 - 5000, Y0 - 5000, X0 + 25_000, Y0 + 5000), shapely.box(X0 - 5000, Y0 + 15_000, X0 + 25_000, Y0 + 25_000)
    zones = _metric_frame([south, north], name=["南", "北"])
    split = cov.split_facilities(_stations())
    listed = cov.not_counted(split.left_out, zones)
    assert listed.tolist() == ["在建站（状态：在建）", "规划站（状态：规划）、示意站（无实际位置（示意点））"]


def test_cli_status_scenarios_and_a_users_file_is_credited(tmp_path):
    zones = _metric_frame([_square(X0, Y0, 10_000), _square(X0 + 20_000, Y0, 10_000)], name=["甲", "乙"])
    zones.to_file(tmp_path / "zones.gpkg")
    _stations().drop(columns="precision").to_file(tmp_path / "stations.geojson")
    shares = {}
    for status in ("现状", "含在建"):
        output = tmp_path / f"{status}.csv"
        result = CliRunner().invoke(
            coverage_command,
            ["--facilities", str(tmp_path / "stations.geojson"), "--zones", str(tmp_path / "zones.gpkg"),
             "--radius", "3000", "--status", status, "-o", str(output)],
        )
        assert result.exit_code == 0, result.output
        table = pd.read_csv(output, encoding="utf-8-sig").set_index("name")
        shares[status] = table["covered_pct"].round(1).to_dict()
        assert table["scenario"].str.startswith(status).all()
        # The file has no precision column: unknown counts as approximate, never exact,
        # and every row names the file.
        assert (table["precision"] == "approximate").all()
        assert table["source"].str.contains("用户文件 stations.geojson").all()
    assert shares["现状"]["乙"] == 0.0 and shares["含在建"]["乙"] == pytest.approx(shares["含在建"]["甲"])
    # The file says nothing of precision, so its four points are positions; the planned one is left out.
    assert "含在建（运营、在建）: 3 of 4 facilities counted; not counted: 规划站（状态：规划）\n" in result.output


def test_cli_raster_needs_a_counted_facility(tmp_path):
    zones = _metric_frame([_square(X0, Y0, 10_000)], name=["甲"])
    zones.to_file(tmp_path / "zones.gpkg")
    _stations().iloc[1:3].to_file(tmp_path / "planned.geojson")
    result = CliRunner().invoke(
        coverage_command,
        ["--facilities", str(tmp_path / "planned.geojson"), "--zones", str(tmp_path / "zones.gpkg"), "--radius", "3000",
         "-o", str(tmp_path / "o.csv"), "--raster", str(tmp_path / "d.tif")],
    )
    assert result.exit_code != 0
    assert "no facility counts under 现状（运营）" in str(result.exception)
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "d.tif").exists()


def test_a_layer_named_on_the_command_line_comes_from_the_data_folder(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "h2_stations.csv").write_text("name,status,lon,lat\n自建测试站,运营,106.55,29.56\n", encoding="utf-8")
    args = ["--facilities", "h2_stations", "--zones", "h2_zones", "--radius", "5000"]
    result = CliRunner().invoke(coverage_command, [*args, "--data-dir", str(data), "-o", str(tmp_path / "zones.gpkg")])
    assert result.exit_code == 0, result.output
    assert "1 of 1 facilities counted" in result.output


def test_a_name_is_a_layer_unless_a_file_of_that_name_exists(tmp_path, monkeypatch):
    from cqgis.layers import catalog

    monkeypatch.chdir(tmp_path)
    assert catalog.layer_named("h2_stations") == "h2_stations"
    (tmp_path / "h2_stations").write_text("name,lon,lat\n", encoding="utf-8")
    assert catalog.layer_named("h2_stations") is None
    assert catalog.layer_named("stations.csv") is None
