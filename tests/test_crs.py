"""Tests for geo.crs: published reference values, round trips, passthrough, geometry handling."""

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from cqgis import config
from cqgis.geo import crs
from cqgis.geo.errors import CRSError

# Reference pairs (WGS84 lat, lon, GCJ-02 lat, lon) published with the
# eviltransform test suite and repeated by many independent implementations.
WGS_GCJ = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
# GCJ-02 (116.404, 39.915) -> BD-09, and the closed-form BD-09 -> GCJ-02 estimate,
# as published with the coordtransform test suite and repeated widely.
GCJ_BD = (116.404, 39.915, 116.41036949371029, 39.92133699351021)
BD_GCJ_CLOSED_FORM = (116.404, 39.915, 116.39762729119315, 39.90865673957631)

china_lon = st.floats(73.0, 135.0)
china_lat = st.floats(18.0, 53.5)


@pytest.mark.parametrize("wlat, wlon, glat, glon", WGS_GCJ)
def test_wgs84_to_gcj02_matches_reference(wlat, wlon, glat, glon):
    lon, lat = crs.convert_coords(wlon, wlat, "wgs84", "gcj02")
    assert lon == pytest.approx(glon, abs=1e-9)
    assert lat == pytest.approx(glat, abs=1e-9)


@pytest.mark.parametrize("wlat, wlon, glat, glon", WGS_GCJ)
def test_gcj02_to_wgs84_inverts_reference(wlat, wlon, glat, glon):
    lon, lat = crs.convert_coords(glon, glat, "gcj02", "wgs84")
    assert lon == pytest.approx(wlon, abs=1e-7)
    assert lat == pytest.approx(wlat, abs=1e-7)


def test_gcj02_to_bd09_matches_reference():
    glon, glat, blon, blat = GCJ_BD
    lon, lat = crs.convert_coords(glon, glat, "gcj02", "bd09")
    assert (float(lon), float(lat)) == pytest.approx((blon, blat), abs=1e-12)


def test_bd09_to_gcj02_refines_the_closed_form_estimate():
    blon, blat, est_lon, est_lat = BD_GCJ_CLOSED_FORM
    lon, lat = crs.convert_coords(blon, blat, "bd09", "gcj02")
    # The published value is the closed-form approximation (good to ~1e-6 deg);
    # ours is iterated until converting forward reproduces the input.
    assert (float(lon), float(lat)) == pytest.approx((est_lon, est_lat), abs=2e-6)
    back = crs.convert_coords(lon, lat, "gcj02", "bd09")
    assert (float(back[0]), float(back[1])) == pytest.approx((blon, blat), abs=1e-9)


def test_chongqing_offset_is_east_and_south_by_hundreds_of_metres():
    lon, lat = crs.convert_coords(106.55, 29.56, "wgs84", "gcj02")
    geod = pyproj.Geod(ellps="WGS84")
    _, _, east = geod.inv(106.55, 29.56, lon, 29.56)
    _, _, south = geod.inv(106.55, 29.56, 106.55, lat)
    assert lon > 106.55 and lat < 29.56
    assert 300 < east < 450 and 250 < south < 350


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_gcj02_round_trip_within_1e7(lon, lat):
    w_lon, w_lat = crs.convert_coords(lon, lat, "gcj02", "wgs84")
    g_lon, g_lat = crs.convert_coords(w_lon, w_lat, "wgs84", "gcj02")
    assert abs(g_lon - lon) < 1e-7 and abs(g_lat - lat) < 1e-7


def test_gcj02_inverse_meets_its_tolerance_everywhere_including_105_east():
    # 105 E is where the formula's square-root terms have no bounded slope
    # (it crosses Chongqing's west); the corners of the China rectangle are
    # where the offset's slopes are largest (less 0.1 degree: converted
    # points must stay in the rectangle for the offset to apply).
    rng = np.random.default_rng(5)
    west, south, east, north = np.add(crs.CHINA_BOUNDS, [0.1, 0.1, -0.1, -0.1])
    lon = np.concatenate([rng.uniform(west, east, 50_000), 105.0 + rng.normal(0, 1e-3, 5_000), [105.0, 105.0]])
    lat = np.concatenate([rng.uniform(south, north, 50_000), rng.uniform(south, north, 5_000), [29.5, north]])
    back = crs.wgs84_to_gcj02(*crs.gcj02_to_wgs84(lon, lat))
    assert max(np.abs(back[0] - lon).max(), np.abs(back[1] - lat).max()) <= crs.INVERSE_TOLERANCE


@settings(max_examples=300, deadline=None)
@given(china_lon, china_lat)
def test_bd09_round_trip_within_1e7(lon, lat):
    w_lon, w_lat = crs.convert_coords(lon, lat, "bd09", "wgs84")
    b_lon, b_lat = crs.convert_coords(w_lon, w_lat, "wgs84", "bd09")
    assert abs(b_lon - lon) < 1e-7 and abs(b_lat - lat) < 1e-7


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(st.floats(-180, 71.9), st.floats(137.9, 180)),
    st.floats(-89, 89),
)
def test_points_outside_china_pass_through(lon, lat):
    for src, dst in [("wgs84", "gcj02"), ("gcj02", "wgs84"), ("wgs84", "bd09"), ("bd09", "wgs84")]:
        out = crs.convert_coords(lon, lat, src, dst)
        assert (float(out[0]), float(out[1])) == (lon, lat)


def test_arrays_keep_shape_and_nan():
    lon = np.array([[106.5, np.nan], [2.35, 107.0]])
    lat = np.array([[29.5, 29.5], [48.85, np.nan]])
    out_lon, out_lat = crs.convert_coords(lon, lat, "gcj02", "wgs84")
    assert out_lon.shape == (2, 2)
    assert np.isnan(out_lon[0, 1]) and np.isnan(out_lat[1, 1])
    assert (out_lon[1, 0], out_lat[1, 0]) == (2.35, 48.85)  # Paris untouched
    assert out_lon[0, 0] != 106.5


def test_cgcs2000_and_epsg_names_are_wgs84():
    for name in ("wgs84", "WGS84", "cgcs2000", "EPSG:4490", 4326, "4326"):
        assert crs.parse_crs(name) == crs.WGS84
    assert crs.parse_crs("GCJ-02") == crs.GCJ02
    assert isinstance(crs.parse_crs(4547), pyproj.CRS)


def test_unknown_crs_is_a_clear_error():
    with pytest.raises(CRSError, match="unknown coordinate system 'mars'"):
        crs.parse_crs("mars")


def test_geometry_of_every_type_keeps_structure_and_z():
    ring = [(106.0, 29.0), (107.0, 29.0), (107.0, 30.0), (106.0, 30.0)]
    hole = [(106.2, 29.2), (106.4, 29.2), (106.4, 29.4)]
    geoms = [
        shapely.Point(106.5, 29.5, 250.0),
        shapely.LineString([(106.0, 29.0, 1.0), (106.5, 29.5, 2.0)]),
        shapely.Polygon(ring, [hole]),
        shapely.MultiPolygon([shapely.Polygon(ring), shapely.box(108, 30, 108.5, 30.5)]),
        shapely.GeometryCollection([shapely.Point(106, 29), shapely.LineString(ring[:2])]),
        None,
    ]
    out = crs.convert_geometry(np.array(geoms, dtype=object), "gcj02", "wgs84")
    assert out[5] is None
    assert [g.geom_type for g in out[:5]] == [g.geom_type for g in geoms[:5]]
    assert shapely.get_num_coordinates(out[:5]).tolist() == shapely.get_num_coordinates(geoms[:5]).tolist()
    assert out[0].has_z and out[0].z == 250.0
    assert shapely.get_coordinates(out[1], include_z=True)[:, 2].tolist() == [1.0, 2.0]
    assert len(out[2].interiors) == 1 and not out[2].has_z
    # Every vertex moved exactly as the point conversion moves it.
    before = shapely.get_coordinates(geoms[3])
    after = shapely.get_coordinates(out[3])
    exp_lon, exp_lat = crs.convert_coords(before[:, 0], before[:, 1], "gcj02", "wgs84")
    np.testing.assert_allclose(after, np.column_stack([exp_lon, exp_lat]), atol=1e-12)


def test_to_wgs84_handles_offset_systems_and_epsg_codes():
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(106.55, 29.56)], crs="EPSG:4326")
    moved = crs.to_wgs84(pts, "gcj02")
    assert moved.crs.to_epsg() == 4326 and moved.geometry.x[0] < 106.55
    assert crs.to_wgs84(pts).geometry.x[0] == 106.55
    # CGCS2000 / 3-degree Gauss-Kruger zone 36 (EPSG:4524) metres back to degrees.
    projected = pts.to_crs(4524)
    back = crs.to_wgs84(projected)
    assert back.geometry.x[0] == pytest.approx(106.55, abs=1e-6)
    round_trip = crs.to_wgs84(crs.from_wgs84(pts, "bd09"), "bd09")
    assert round_trip.geometry.x[0] == pytest.approx(106.55, abs=1e-9)


def test_frame_without_crs_asks_for_one():
    frame = gpd.GeoDataFrame(geometry=[shapely.Point(106.5, 29.5)])
    with pytest.raises(CRSError, match="--crs"):
        crs.to_wgs84(frame)


@pytest.mark.parametrize("kind", ["area", "distance"])
def test_metric_crs_scale_error_below_0_1_percent(kind):
    west, south, east, north = config.METRIC_EXTENT
    lon, lat = np.meshgrid(np.linspace(west, east, 56), np.linspace(south, north, 46))
    factors = pyproj.Proj(crs.metric_crs(kind)).get_factors(lon.ravel(), lat.ravel())
    assert np.abs(factors.meridional_scale - 1).max() < 1e-3
    assert np.abs(factors.parallel_scale - 1).max() < 1e-3
    if kind == "area":
        assert np.abs(factors.areal_scale - 1).max() < 1e-9
    else:
        # conformal: no angular distortion beyond numerical noise (degrees)
        assert np.abs(factors.angular_distortion).max() < 1e-4


def test_metric_crs_rejects_unknown_kind():
    with pytest.raises(CRSError):
        crs.metric_crs("volume")


def test_scalars_and_2d_arrays_keep_their_shape():
    lon, lat = crs.gcj02_to_wgs84(106.55, 29.56)
    assert np.shape(lon) == () and np.shape(lat) == ()
    grid_lon, grid_lat = crs.wgs84_to_gcj02(np.full((2, 3), 106.55), np.full((2, 3), 29.56))
    assert grid_lon.shape == (2, 3)
    back_lon, back_lat = crs.gcj02_to_wgs84(grid_lon, grid_lat)
    np.testing.assert_allclose(back_lon, 106.55, atol=1e-8)
    # A scalar converts exactly as the same point inside an array does.
    assert float(lon) == crs.gcj02_to_wgs84(np.full(3, 106.55), np.full(3, 29.56))[0][1]
