"""Tests for analysis.attribution: same answers as sjoin inside, boundary/near/spanning rules, determinism."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from cqgis.analysis.attribution import attribute
from cqgis.analysis.errors import AttributionError
from cqgis.cli.analyze.attribute import attribute as attribute_command
from cqgis.geo import crs

# A 2 x 2 block of squares with binary-exact edges, so points on the edges are exactly on them.
STEP = 0.125
WEST, SOUTH = 106.0, 29.0
# adcode per (column, row); rows are not in adcode order, so ties test the rule.
CODES = {(0, 0): "500104", (1, 0): "500102", (0, 1): "500103", (1, 1): "500101"}


def _square(col, row):
    x, y = WEST + col * STEP, SOUTH + row * STEP
    return shapely.box(x, y, x + STEP, y + STEP)


@pytest.fixture()
def squares():
    cells = list(CODES)
    return gpd.GeoDataFrame(
        {
            "adcode": [CODES[c] for c in cells],
            "name": [f"区{CODES[c]}" for c in cells],
            "region": ["主城都市区" if c[0] == 0 else "渝东北三峡库区城镇群" for c in cells],
            "source": "test",
            "precision": "synthetic",
        },
        geometry=[_square(*c) for c in cells],
        crs="EPSG:4326",
    )


def _points(xy):
    xy = np.asarray(xy, dtype=float)
    return gpd.GeoDataFrame({"id": np.arange(len(xy))}, geometry=shapely.points(xy), crs="EPSG:4326")


def _assert_like_sjoin(points, units, result):
    joined = gpd.sjoin(points, units[["adcode", "geometry"]], predicate="within", how="inner")
    assert not joined.index.duplicated().any()
    assert result.loc[joined.index, "adcode"].astype(str).tolist() == joined["adcode"].tolist()
    assert (result.loc[joined.index, "attribution_flag"] == "inside").all()
    return joined


def test_same_as_sjoin_on_random_points_over_squares(squares):
    rng = np.random.default_rng(7)
    points = _points(rng.uniform([105.9, 28.9], [106.35, 29.35], (20_000, 2)))
    result = attribute(points, squares)
    joined = _assert_like_sjoin(points, squares, result)
    others = result.drop(index=joined.index)
    assert set(others["attribution_flag"]) <= {"near", "outside"}


def test_same_as_sjoin_on_real_districts(districts):
    rng = np.random.default_rng(11)
    points = _points(rng.uniform([105.2, 28.1], [110.3, 32.3], (20_000, 2)))
    result = attribute(points, districts)
    joined = _assert_like_sjoin(points, districts, result)
    assert len(joined) > 5000
    names = districts.set_index("adcode")["region"]
    inside = result.loc[joined.index]
    assert (inside["region"].astype(str).to_numpy() == names[inside["adcode"].astype(str)].to_numpy()).all()


@pytest.mark.parametrize("tolerance_m", [0, 700, 2000])
def test_points_near_real_borders_get_the_answers_of_plain_predicates(districts, tolerance_m):
    rng = np.random.default_rng(13)
    vertices = shapely.get_coordinates(districts.geometry.to_numpy())
    picked = vertices[rng.integers(0, len(vertices), 1000)]
    xy = np.vstack([
        rng.uniform([105.1, 28.0], [110.4, 32.4], (2000, 2)),
        picked,
        picked + rng.normal(0, 0.003, picked.shape),
        picked + rng.normal(0, 0.02, picked.shape),
    ])
    points = _points(xy)
    result = attribute(points, districts, tolerance_m=tolerance_m)
    # The reference: every point against every district, one predicate at a time.
    units = districts.sort_values("adcode")
    polygons = units.geometry.to_numpy()[:, None]
    geometries = points.geometry.to_numpy()[None, :]
    interior = shapely.contains(polygons, geometries)
    closure = shapely.intersects(polygons, geometries)
    metric = crs.metric_crs("distance")
    distance = shapely.distance(
        units.to_crs(metric).geometry.to_numpy()[:, None], points.to_crs(metric).geometry.to_numpy()[None, :]
    )
    near = np.where(distance <= tolerance_m, distance, np.inf)
    # argmax/argmin take the first, lowest adcode, of equals.
    expected = np.where(
        interior.any(axis=0), interior.argmax(axis=0),
        np.where(closure.any(axis=0), closure.argmax(axis=0),
                 np.where(np.isfinite(near).any(axis=0), near.argmin(axis=0), -1)),
    )
    flag = np.select(
        [interior.sum(axis=0) > 1, interior.any(axis=0), closure.any(axis=0), np.isfinite(near).any(axis=0)],
        ["spanning", "inside", "boundary", "near"],
        "outside",
    )
    adcodes = np.append(units["adcode"].to_numpy(), None)
    assert result["adcode"].astype(object).where(result["adcode"].notna(), None).tolist() == adcodes[expected].tolist()
    assert result["attribution_flag"].astype(str).tolist() == flag.tolist()
    flags = set(flag)
    assert {"inside", "boundary", "outside"} <= flags
    assert ("near" in flags) == (tolerance_m > 0)


def test_points_on_borders_take_the_lowest_adcode_and_are_flagged(squares):
    mid_x, mid_y = WEST + STEP, SOUTH + STEP
    points = _points([
        (mid_x, SOUTH + STEP / 2),  # between 500104 and 500102
        (mid_x, mid_y),  # the corner of all four
        (WEST, SOUTH + STEP / 2),  # outer edge of 500104 only
        (WEST + STEP / 2, mid_y),  # between 500104 and 500103
    ])
    result = attribute(points, squares)
    assert result["attribution_flag"].tolist() == ["boundary"] * 4
    assert result["adcode"].tolist() == ["500102", "500101", "500104", "500103"]


def test_near_points_take_the_nearest_unit_within_tolerance(squares):
    one_km = 1 / 96.9  # degrees of longitude near 29 N, a little over 1 km
    points = _points([
        (WEST - 0.5 * one_km, SOUTH + STEP / 2),  # ~0.5 km west of 500104
        (WEST + 2 * STEP + 0.5 * one_km, SOUTH + 1.5 * STEP),  # ~0.5 km east of 500101
        (WEST + STEP, SOUTH - 0.004),  # ~440 m south of the shared corner of 500104 and 500102
        (WEST - 5 * one_km, SOUTH),  # ~5 km away
    ])
    result = attribute(points, squares, tolerance_m=2000)
    assert result["attribution_flag"].tolist() == ["near", "near", "near", "outside"]
    assert result["adcode"].tolist()[:3] == ["500104", "500101", "500102"]
    assert pd.isna(result["adcode"].iloc[3])
    strict = attribute(points, squares, tolerance_m=0)
    assert strict["attribution_flag"].tolist() == ["outside"] * 4


def test_lines_and_polygons_spanning_units_take_the_larger_share(squares):
    y = SOUTH + STEP / 2
    shapes = gpd.GeoDataFrame(
        geometry=[
            shapely.LineString([(WEST + 0.05, y), (WEST + STEP + 0.1, y)]),  # 0.075 in 500104, 0.1 in 500102
            shapely.box(WEST + 0.1, SOUTH + 0.01, WEST + STEP + 0.01, SOUTH + 0.02),  # mostly 500104
            shapely.LineString([(WEST + 0.01, y), (WEST + 0.02, y + 0.01)]),  # inside 500104
            shapely.LineString([(WEST + STEP, SOUTH + 0.01), (WEST + STEP, SOUTH + 0.02)]),  # on the border
        ],
        crs="EPSG:4326",
    )
    result = attribute(shapes, squares)
    assert result["adcode"].tolist() == ["500102", "500104", "500104", "500102"]
    assert result["attribution_flag"].tolist() == ["spanning", "spanning", "inside", "boundary"]
    assert result["spans"].tolist()[:2] == ["区500102、区500104", "区500104、区500102"]
    assert result["spans"].isna().tolist()[2:] == [True, True]


def test_result_does_not_depend_on_row_order(squares):
    rng = np.random.default_rng(3)
    xy = rng.uniform([105.95, 28.95], [106.3, 29.3], (3000, 2))
    # Snap a third of the points onto the grid lines, so ties are common.
    xy[:1000] = np.round(xy[:1000] / STEP) * STEP
    points = _points(xy)
    first = attribute(points, squares)
    order = rng.permutation(len(points))
    second = attribute(points.iloc[order], squares.iloc[::-1])
    pd.testing.assert_frame_equal(
        first.drop(columns="geometry").astype(str), second.sort_index().drop(columns="geometry").astype(str)
    )
    assert (first["attribution_flag"] == "boundary").sum() > 100


def test_zones_basins_and_empty_geometries(squares):
    zones = gpd.GeoDataFrame(
        {"name": ["乙区", "甲区"]},
        geometry=[shapely.box(WEST, SOUTH, WEST + 0.2, SOUTH + 0.05), shapely.box(WEST, SOUTH, WEST + 0.05, SOUTH + 0.2)],
        crs="EPSG:4326",
    )
    basins = gpd.GeoDataFrame({"name": ["嘉陵江"]}, geometry=[shapely.box(105, 28, 107, 30)], crs="EPSG:4326")
    points = _points([(WEST + 0.01, SOUTH + 0.01), (WEST + 0.1, SOUTH + 0.01), (WEST + 0.2, SOUTH + 0.2)])
    points.loc[3, "geometry"] = None
    result = attribute(points, squares, zones=zones, basins=basins)
    assert result["zones"].tolist()[:2] == ["乙区、甲区", "乙区"]
    assert result["zones"].isna().tolist()[2:] == [True, True]
    assert result["basin"].tolist()[:3] == ["嘉陵江"] * 3
    assert result["attribution_flag"].tolist() == ["inside", "inside", "inside", "empty"]


def test_multipoints_take_the_unit_holding_most_points(squares):
    frame = gpd.GeoDataFrame(
        geometry=[shapely.MultiPoint([(WEST + 0.01, SOUTH + 0.01), (WEST + 0.2, SOUTH + 0.01), (WEST + 0.21, SOUTH + 0.02)])],
        crs="EPSG:4326",
    )
    result = attribute(frame, squares)
    assert result["adcode"].tolist() == ["500102"]
    assert result["attribution_flag"].tolist() == ["spanning"]


def test_projected_input_keeps_its_crs(squares):
    points = _points([(WEST + 0.01, SOUTH + 0.01)]).to_crs(4547)
    result = attribute(points, squares)
    assert result.crs == points.crs
    assert result["adcode"].tolist() == ["500104"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda layer, units: (layer.set_crs(None, allow_override=True), units), "no coordinate system"),
        (lambda layer, units: (layer.assign(adcode="x"), units), "already has the column"),
        (lambda layer, units: (layer, units.drop(columns="region")), "lacks the column"),
    ],
)
def test_unusable_inputs_raise_clear_errors(squares, change, message):
    layer, units = change(_points([(WEST + 0.01, SOUTH + 0.01)]), squares)
    with pytest.raises(AttributionError, match=message):
        attribute(layer, units)


def test_cli_attributes_a_csv_table(tmp_path, districts):
    table = tmp_path / "站点.csv"
    table.write_text("名称,经度,纬度\n解放碑,106.5770,29.5573\n海上,120.0,10.0\n", encoding="utf-8")
    output = tmp_path / "站点_区县.csv"
    result = CliRunner().invoke(
        attribute_command, [str(table), "-o", str(output), "--no-zones", "--no-basins"]
    )
    assert result.exit_code == 0, result.output
    written = pd.read_csv(output, encoding="utf-8-sig")
    assert written["district"].tolist()[0] == "渝中区"
    assert written["attribution_flag"].tolist() == ["inside", "outside"]


def test_cli_refuses_or_replaces_existing_district_columns(tmp_path, districts):
    table = tmp_path / "站点.csv"
    table.write_text("名称,district,经度,纬度\n解放碑,错误区,106.5770,29.5573\n", encoding="utf-8")
    output = tmp_path / "out.csv"
    args = [str(table), "-o", str(output), "--no-zones", "--no-basins"]
    refused = CliRunner().invoke(attribute_command, args)
    assert refused.exit_code != 0
    assert "already has the column(s) district" in str(refused.exception) + refused.output
    replaced = CliRunner().invoke(attribute_command, [*args, "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert pd.read_csv(output, encoding="utf-8-sig")["district"].tolist() == ["渝中区"]
