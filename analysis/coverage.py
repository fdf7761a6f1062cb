"""Coverage of zones by facilities within a radius: covered area and settlements, facility-zone links, distance rasters.

Everything is measured in the conformal metric CRS (:func:`cqgis.geo.crs.metric_crs`
``"distance"``), never in degrees; its scale error over Chongqing is under
0.1 %, so areas there are within 0.2 % of the equal-area ones and the
covered shares, being ratios of areas in the same CRS, are unaffected.

Provenance: a zone's coverage is a statement about the whole facility
network (where facilities are and where there are none), so each zone row
takes the weakest precision of the zone, every facility and, when given, the
settlements in the zone; each link takes that of its facility and zone.

What is counted: :func:`split_facilities` keeps the facilities of a status
scenario (:data:`SCENARIOS`: 现状 counts operating stations only; 含在建 adds
those under construction, 含规划 the planned ones) and never counts a
facility without a real position (``schematic``: drawn at a district's or
zone's representative point). Those left out are listed, with the reason,
in the zones they lie in (:func:`not_counted`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rasterio
import shapely
from rasterio.crs import CRS as RasterCRS
from rasterio.features import rasterize
from rasterio.transform import Affine

from cqgis import config
from cqgis.analysis import provenance
from cqgis.analysis.errors import AnalysisError, ParameterError
from cqgis.geo import crs, io

#: Segments per quarter circle of the coverage buffers: the 128-gon's area is
#: 0.04 % short of the circle's.
BUFFER_QUAD_SEGS = 32
#: Service radius of a facility when none is given, in metres.
DEFAULT_RADIUS_M = config.COVERAGE_RADIUS_M
#: Default cell side of the distance raster, in metres.
DEFAULT_CELL_M = 100.0
#: Side of the square blocks of cells the distance raster is computed in.
#: Each block only measures the facilities that can be nearest to one of
#: its cells, so the work grows with the cells, hardly with the facilities.
TILE_CELLS = 256
#: Columns :func:`coverage` adds to each zone.
ZONE_COLUMNS = ("zone_km2", "covered_km2", "covered_pct", "facilities")
#: Columns added when a settlements layer is given.
SETTLEMENT_COLUMNS = ("settlements", "settlements_covered", "population_covered")

#: Settlement columns read as population, in order of preference.
POPULATION_COLUMNS = ("population", "residents")

#: Status scenarios of coverage: name -> the facility statuses counted.
SCENARIOS: Mapping[str, tuple[str, ...]] = MappingProxyType(config.COVERAGE_SCENARIOS)
DEFAULT_SCENARIO = next(iter(SCENARIOS))
#: Precision of a facility drawn at a representative point, not where it is.
NO_POSITION = "schematic"


class Split(NamedTuple):
    """Result of :func:`split_facilities`: the facilities counted, and the others with a ``reason``."""

    counted: gpd.GeoDataFrame
    left_out: gpd.GeoDataFrame


class Coverage(NamedTuple):
    """Result of :func:`coverage`.

    Attributes
    ----------
    zones : geopandas.GeoDataFrame
        One row per zone, its own columns (but ``source`` and ``precision``,
        which are the result's) plus :data:`ZONE_COLUMNS` and, with
        settlements, :data:`SETTLEMENT_COLUMNS`.
    links : geopandas.GeoDataFrame
        One row per facility and zone it serves (the zone lies within the
        radius): ``facility`` and ``zone`` (row labels of the inputs),
        ``facility_name`` and ``zone_name`` (their ``name`` columns, when
        present), ``distance_m`` (0 inside the zone), ``precision``,
        ``source``; the facility's point as geometry.
    service_areas : geopandas.GeoSeries
        The circle of the radius around each facility, the one measured,
        indexed like the facilities, in EPSG:4326 (for drawing).
    """

    zones: gpd.GeoDataFrame
    links: gpd.GeoDataFrame
    service_areas: gpd.GeoSeries


def scenario_label(scenario: str) -> str:
    """Say what a scenario counts, for outputs: ``现状（运营）``, ``含规划（运营、在建、规划）``.

    Raises
    ------
    ParameterError
        An unknown scenario.
    """
    if scenario not in SCENARIOS:
        msg = f"unknown station scenario (--status) '{scenario}': expected one of {', '.join(SCENARIOS)}"
        raise ParameterError(msg)
    return f"{scenario}（{'、'.join(SCENARIOS[scenario])}）"


def split_facilities(facilities: gpd.GeoDataFrame, scenario: str = DEFAULT_SCENARIO) -> Split:
    """Split facilities into those a coverage scenario counts and those it leaves out.

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        Points with optional ``status`` (规划 / 在建 / 运营 / 停运) and
        ``precision``. Without a ``status`` column every facility has the
        status the scenario needs (a user's list of existing facilities).
    scenario : str
        One of :data:`SCENARIOS`.

    Returns
    -------
    Split
        ``counted``: facilities of the scenario's statuses with a real
        position; ``left_out``: the others, with ``reason`` (``状态：在建``,
        ``无实际位置（示意点）``).

    Raises
    ------
    ParameterError
        An unknown scenario.
    """
    scenario_label(scenario)
    status = facilities["status"].astype("string") if "status" in facilities else None
    reason = pd.Series("", index=facilities.index, dtype="string")
    if status is not None:
        wrong = ~status.isin(SCENARIOS[scenario]).fillna(False)
        reason = reason.mask(wrong, "状态：" + status.fillna("未知"))
    placed = pd.Series(_precisions(facilities), index=facilities.index).ne(NO_POSITION)
    reason = reason.mask(~placed, reason.where(reason.eq(""), reason + "；") + "无实际位置（示意点）")
    counted = reason.eq("").to_numpy()
    return Split(facilities[counted], facilities[~counted].assign(reason=reason[~counted]))


def not_counted(left_out: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> pd.Series:
    """List, per zone, the facilities left out that lie in it: ``名称（理由）`` joined with '、'.

    Parameters
    ----------
    left_out : geopandas.GeoDataFrame
        ``Split.left_out``.
    zones : geopandas.GeoDataFrame
        Polygons.

    Returns
    -------
    pandas.Series
        Indexed like ``zones``; empty text where none lies.
    """
    out = pd.Series("", index=zones.index, dtype=object)
    if left_out.empty:
        return out
    zone, facility = shapely.STRtree(_metric(left_out)).query(_metric(zones), predicate="intersects")
    order = np.lexsort((facility, zone))
    zone, facility = zone[order], facility[order]
    labels = pd.Series(_names(left_out), dtype="string").fillna("未命名") + "（" + left_out["reason"].to_numpy() + "）"
    listed = pd.Series(labels.to_numpy()[facility]).groupby(zone).agg("、".join)
    out.iloc[listed.index.to_numpy()] = listed.to_numpy()
    return out


def _metric(frame: gpd.GeoDataFrame) -> np.ndarray:
    """Return a frame's geometries in the conformal metric CRS."""
    return frame.geometry.to_crs(crs.metric_crs("distance")).to_numpy()


def _check_radius(radius_m: float) -> float:
    """Return a service radius as a float, refusing one that is no positive distance.

    Parameters
    ----------
    radius_m : float
        Metres (anything ``float`` reads).

    Returns
    -------
    float
        The radius.

    Raises
    ------
    ParameterError
        Not a number, not finite, or not above 0.
    """
    try:
        radius = float(radius_m)
    except (TypeError, ValueError):
        radius = float("nan")
    if not (np.isfinite(radius) and radius > 0):
        msg = f"the radius (--radius) must be a distance in metres > 0, not {radius_m!r}"
        raise ParameterError(msg)
    return radius


def _check_layer(frame: gpd.GeoDataFrame, what: str, kinds: tuple[str, ...]) -> None:
    """Check that a layer has a CRS and only geometries of the given kinds."""
    if frame.crs is None:
        msg = f"the {what} layer has no coordinate system"
        raise AnalysisError(msg)
    geometry = frame.geometry.to_numpy()
    wrong = ~np.isin(shapely.get_type_id(geometry), [shapely.GeometryType[k].value for k in kinds])
    wrong |= shapely.is_empty(geometry)
    if wrong.any():
        # Rows as the user numbers them (spreadsheet rows, features from 1), never 0-based labels.
        rows = ", ".join(str(row) for row in io.row_numbers(frame)[wrong][:5])
        more = f" and {wrong.sum() - 5} more" if wrong.sum() > 5 else ""
        msg = f"the {what} layer must hold {' or '.join(k.lower() for k in kinds)}s; rows {rows}{more} do not"
        raise AnalysisError(msg)


def _names(frame: pd.DataFrame) -> np.ndarray:
    """Return the ``name`` column as objects, or missing values when there is none."""
    if "name" in frame.columns:
        return frame["name"].to_numpy(dtype=object)
    return np.full(len(frame), None, dtype=object)


def _precisions(frame: pd.DataFrame) -> np.ndarray:
    return frame["precision"].to_numpy(dtype=object) if "precision" in frame else np.full(len(frame), None)


def _sources(frame: pd.DataFrame) -> np.ndarray:
    return frame["source"].to_numpy(dtype=object) if "source" in frame else np.full(len(frame), "")


def coverage(
    facilities: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    radius_m: float,
    settlements: gpd.GeoDataFrame | None = None,
) -> Coverage:
    """Measure how much of each zone lies within ``radius_m`` of a facility.

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        Points, in any CRS; optional ``name``, ``source``, ``precision``.
    zones : geopandas.GeoDataFrame
        Polygons (districts, functional zones ...), in any CRS; they may overlap.
    radius_m : float
        Service radius in metres (straight line, in the conformal metric CRS).
    settlements : geopandas.GeoDataFrame, optional
        Points with an optional ``population`` or ``residents``; each zone
        counts those in it and those within the radius of a facility.

    Returns
    -------
    Coverage
        The per-zone table and the facility-zone links.

    Raises
    ------
    ParameterError
        A radius that is no positive distance.
    AnalysisError
        A layer without CRS, facilities or settlements that are not points,
        zones that are not polygons.
    """
    radius_m = _check_radius(radius_m)
    _check_layer(facilities, "facilities", ("POINT",))
    _check_layer(zones, "zones", ("POLYGON", "MULTIPOLYGON"))
    points = _metric(facilities)
    areas = _metric(zones)
    shapely.prepare(areas)
    circles = shapely.buffer(points, radius_m, quad_segs=BUFFER_QUAD_SEGS)
    reach = shapely.union_all(circles)
    # Buffers are drawn in the conformal CRS (true distances); areas are measured in the equal-area one.
    zone_m2 = _equal_area_m2(areas)
    covered_m2 = _equal_area_m2(shapely.intersection(areas, reach))

    facility, zone = shapely.STRtree(areas).query(points, predicate="dwithin", distance=radius_m)
    order = np.lexsort((facility, zone))
    facility, zone = facility[order], zone[order]

    out = zones.drop(columns=["source", "precision"], errors="ignore").copy()
    out["zone_km2"] = zone_m2 / 1e6
    out["covered_km2"] = covered_m2 / 1e6
    out["covered_pct"] = 100.0 * covered_m2 / zone_m2
    out["facilities"] = np.bincount(zone, minlength=len(zones))
    network = provenance.weakest(_precisions(facilities))
    precision = [[p, network] for p in _precisions(zones)]
    source = [[s, *_sources(facilities)] for s in _sources(zones)]
    if settlements is not None:
        _check_layer(settlements, "settlements", ("POINT",))
        for column, values in _settlement_counts(settlements, areas, points, radius_m).items():
            out[column] = values
        found, place = shapely.STRtree(_metric(settlements)).query(areas, predicate="intersects")
        for z, p, s in zip(found, _precisions(settlements)[place], _sources(settlements)[place], strict=True):
            precision[z].append(p)
            source[z].append(s)
    out["precision"] = [provenance.weakest(p) for p in precision]
    out["source"] = [provenance.join_sources(s) for s in source]
    links = _links(facilities, zones, points[facility], areas[zone], facility, zone)
    metric = crs.metric_crs("distance")
    service = gpd.GeoSeries(circles, index=facilities.index, crs=metric).to_crs(config.STORAGE_CRS)
    return Coverage(out, links, service)


def _equal_area_m2(geometries: np.ndarray) -> np.ndarray:
    """Areas in m² in the equal-area CRS of geometries given in the conformal one."""
    conformal = gpd.GeoSeries(geometries, crs=crs.metric_crs("distance"))
    return conformal.to_crs(crs.metric_crs("area")).area.to_numpy()


def _settlement_counts(
    settlements: gpd.GeoDataFrame, areas: np.ndarray, points: np.ndarray, radius_m: float
) -> dict[str, np.ndarray]:
    """Count the settlements in each zone, those within the radius of a facility, and their population."""
    places = _metric(settlements)
    zone, place = shapely.STRtree(places).query(areas, predicate="intersects")
    # Exact distances, not the polygonal buffers: a settlement is covered or not.
    near = shapely.STRtree(points).query(places, predicate="dwithin", distance=radius_m)[0]
    covered = np.isin(np.arange(len(places)), near)[place]
    # GeoNames places carry ``population``; survey layers ``residents`` (常住人口).
    column = next((c for c in POPULATION_COLUMNS if c in settlements.columns), None)
    people = (
        np.zeros(len(places))
        if column is None
        else pd.to_numeric(settlements[column], errors="coerce").fillna(0).to_numpy(float)
    )
    size = len(areas)
    return {
        "settlements": np.bincount(zone, minlength=size),
        "settlements_covered": np.bincount(zone, weights=covered, minlength=size).astype(np.int64),
        "population_covered": np.bincount(zone, weights=covered * people[place], minlength=size),
    }


def _links(
    facilities: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame,
    points: np.ndarray,
    areas: np.ndarray,
    facility: np.ndarray,
    zone: np.ndarray,
) -> gpd.GeoDataFrame:
    """Build the facility-zone table of the pairs found."""
    precision = zip(_precisions(facilities)[facility], _precisions(zones)[zone], strict=True)
    source = zip(_sources(facilities)[facility], _sources(zones)[zone], strict=True)
    return gpd.GeoDataFrame(
        {
            "facility": facilities.index.to_numpy()[facility],
            "facility_name": _names(facilities)[facility],
            "zone": zones.index.to_numpy()[zone],
            "zone_name": _names(zones)[zone],
            "distance_m": shapely.distance(points, areas),
            "precision": [provenance.weakest(pair) for pair in precision],
            "source": [provenance.join_sources(pair) for pair in source],
        },
        geometry=facilities.geometry.to_numpy()[facility],
        crs=facilities.crs,
    )


def raster_grid(bounds: tuple[float, float, float, float], cell_m: float) -> dict:
    """Return the rasterio profile of a grid in the metric CRS covering WGS84 ``bounds``.

    The grid's edges are multiples of ``cell_m`` (so grids of the same cell
    size align) and enclose the projected bounds, their curved edges included.
    """
    if not (np.isfinite(cell_m) and cell_m > 0):
        msg = f"the cell size must be a distance in metres > 0, not {cell_m!r}"
        raise AnalysisError(msg)
    metric = crs.metric_crs("distance")
    to_metric = pyproj.Transformer.from_crs(config.STORAGE_CRS, metric, always_xy=True)
    xmin, ymin, xmax, ymax = to_metric.transform_bounds(*bounds, densify_pts=101)
    west, south = np.floor(xmin / cell_m) * cell_m, np.floor(ymin / cell_m) * cell_m
    east, north = np.ceil(xmax / cell_m) * cell_m, np.ceil(ymax / cell_m) * cell_m
    return {
        "driver": "GTiff",
        "dtype": "float32",
        "count": 1,
        "width": int(round((east - west) / cell_m)),
        "height": int(round((north - south) / cell_m)),
        "crs": RasterCRS.from_wkt(metric.to_wkt()),
        "transform": Affine(cell_m, 0.0, west, 0.0, -cell_m, north),
        "nodata": None,
        "compress": "deflate",
        # The floating-point predictor makes smooth distance fields compress several-fold.
        "predictor": 3,
        "tiled": True,
        "blockxsize": TILE_CELLS,
        "blockysize": TILE_CELLS,
    }


def _candidates(
    x: np.ndarray, y: np.ndarray, fx: np.ndarray, fy: np.ndarray
) -> np.ndarray:
    """Tell which facilities may be nearest to some cell centre of each tile.

    ``x`` and ``y`` are (tiles, 2) arrays of the tiles' extreme cell centres.
    A facility is kept when its distance to the tile's box does not exceed
    the smallest distance to the box's farthest corner over all facilities.
    """
    def gap(low: np.ndarray, high: np.ndarray, at: np.ndarray) -> np.ndarray:
        return np.maximum(np.maximum(low[:, None] - at, at - high[:, None]), 0.0)

    def span(low: np.ndarray, high: np.ndarray, at: np.ndarray) -> np.ndarray:
        return np.maximum(np.abs(at - low[:, None]), np.abs(at - high[:, None]))

    nearest = gap(x[:, 0], x[:, 1], fx) ** 2 + gap(y[:, 0], y[:, 1], fy) ** 2
    farthest = span(x[:, 0], x[:, 1], fx) ** 2 + span(y[:, 0], y[:, 1], fy) ** 2
    return nearest <= farthest.min(axis=1, keepdims=True)


def _nearest_distance(
    xs: np.ndarray, ys: np.ndarray, fx: np.ndarray, fy: np.ndarray
) -> np.ndarray:
    """Distance from every cell centre (rows ``ys`` x columns ``xs``) to its nearest facility.

    The grid is cut into tiles of :data:`TILE_CELLS`; in each tile the
    squared distances to its candidate facilities are the sums of a row
    term and a column term, minimised by broadcasting.
    """
    out = np.empty((ys.size, xs.size), dtype=np.float32)
    row0 = np.arange(0, ys.size, TILE_CELLS)
    col0 = np.arange(0, xs.size, TILE_CELLS)
    rows = np.stack([row0, np.minimum(row0 + TILE_CELLS, ys.size)], axis=1)
    cols = np.stack([col0, np.minimum(col0 + TILE_CELLS, xs.size)], axis=1)
    tile_rows, tile_cols = (grid.ravel() for grid in np.meshgrid(np.arange(len(rows)), np.arange(len(cols)), indexing="ij"))
    edge_x = np.sort(xs[cols[tile_cols] - [0, 1]], axis=1)
    edge_y = np.sort(ys[rows[tile_rows] - [0, 1]], axis=1)
    keep = _candidates(edge_x, edge_y, fx, fy)
    best = np.empty((TILE_CELLS, TILE_CELLS))
    term = np.empty_like(best)
    for tile, (r, c) in enumerate(zip(tile_rows, tile_cols, strict=True)):
        (r0, r1), (c0, c1) = rows[r], cols[c]
        tile_best, tile_term = best[: r1 - r0, : c1 - c0], term[: r1 - r0, : c1 - c0]
        tile_best.fill(np.inf)
        # In-place passes over one cache-sized tile per facility beat a
        # reduction over a third axis, which numpy does slowly when it is short.
        for f in np.flatnonzero(keep[tile]):
            np.add(((ys[r0:r1] - fy[f]) ** 2)[:, None], (xs[c0:c1] - fx[f]) ** 2, out=tile_term)
            np.minimum(tile_best, tile_term, out=tile_best)
        np.sqrt(tile_best, out=out[r0:r1, c0:c1], casting="same_kind")
    return out


def cell_centres(profile: dict) -> tuple[np.ndarray, np.ndarray]:
    """Return the x of each column's and the y of each row's cell centres of a north-up grid."""
    transform = profile["transform"]
    xs = transform.c + transform.a * (np.arange(profile["width"]) + 0.5)
    ys = transform.f + transform.e * (np.arange(profile["height"]) + 0.5)
    return xs, ys


def distance_raster(
    facilities: gpd.GeoDataFrame,
    bounds: tuple[float, float, float, float] = config.CHONGQING_BOUNDS,
    cell_m: float = DEFAULT_CELL_M,
    path: str | os.PathLike | None = None,
) -> tuple[np.ndarray, dict]:
    """Compute the distance in metres from each cell to the nearest facility.

    Parameters
    ----------
    facilities : geopandas.GeoDataFrame
        Points, in any CRS (at least one).
    bounds : tuple of float
        (west, south, east, north) in WGS84 the grid must cover.
    cell_m : float
        Cell side in metres, in the conformal metric CRS.
    path : str or os.PathLike, optional
        Write the raster there as a GeoTIFF (atomically: a failed write
        leaves no partial file and an existing file unchanged).

    Returns
    -------
    (numpy.ndarray, dict)
        float32 distances (rows north to south) and the rasterio profile
        (metric CRS, transform, size) they are on. Distances are exact
        Euclidean distances from cell centres in the metric CRS.

    Raises
    ------
    AnalysisError
        No facilities, facilities that are not points, a bad cell size, or
        a file that cannot be written.
    """
    _check_layer(facilities, "facilities", ("POINT",))
    if len(facilities) == 0:
        msg = "there are no facilities to measure distances to"
        raise AnalysisError(msg)
    profile = raster_grid(bounds, cell_m)
    points = _metric(facilities)
    distances = _nearest_distance(*cell_centres(profile), shapely.get_x(points), shapely.get_y(points))
    if path is not None:
        write_raster(distances, profile, path)
    return distances, profile


def write_raster(values: np.ndarray, profile: dict, path: str | os.PathLike) -> Path:
    """Write a one-band raster as a GeoTIFF, atomically.

    Parameters
    ----------
    values : numpy.ndarray
        The band, shaped (height, width) as ``profile`` says.
    profile : dict
        rasterio profile (CRS, transform, dtype, compression).
    path : str or os.PathLike
        Target ``.tif``.

    Returns
    -------
    pathlib.Path
        The target.

    Raises
    ------
    cqgis.geo.errors.WriteError
        Missing folder or any failure while writing; nothing is left behind.
    """
    with io.atomic(path) as temp:
        with rasterio.open(temp, "w", **profile) as dataset:
            dataset.write(values, 1)
    return Path(path)


def zonal_stats(
    raster: np.ndarray, profile: dict, zones: gpd.GeoDataFrame, radius_m: float
) -> pd.DataFrame:
    """Summarise a distance raster per zone.

    A cell belongs to a zone when its centre lies in it. Each zone is burnt
    on its own (within its bounding window), so overlapping zones each keep
    all their cells.

    Parameters
    ----------
    raster : numpy.ndarray
        Distances in metres, as :func:`distance_raster` returns.
    profile : dict
        The raster's profile (CRS and transform).
    zones : geopandas.GeoDataFrame
        Polygons, in any CRS.
    radius_m : float
        Service radius for the share of cells within it.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``zones``: ``cells``, ``mean_distance_m``,
        ``max_distance_m``, ``within_pct`` (NaN for a zone holding no cell centre).
    """
    radius_m = _check_radius(radius_m)
    _check_layer(zones, "zones", ("POLYGON", "MULTIPOLYGON"))
    transform = profile["transform"]
    areas = zones.geometry.to_crs(profile["crs"]).to_numpy()
    height, width = raster.shape
    bounds = shapely.bounds(areas)
    col0 = np.clip(np.floor((bounds[:, 0] - transform.c) / transform.a), 0, width).astype(int)
    col1 = np.clip(np.ceil((bounds[:, 2] - transform.c) / transform.a), 0, width).astype(int)
    row0 = np.clip(np.floor((bounds[:, 3] - transform.f) / transform.e), 0, height).astype(int)
    row1 = np.clip(np.ceil((bounds[:, 1] - transform.f) / transform.e), 0, height).astype(int)
    stats = np.full((len(areas), 4), np.nan)
    for i, area in enumerate(areas):
        window = raster[row0[i] : row1[i], col0[i] : col1[i]]
        if window.size == 0:
            stats[i, 0] = 0
            continue
        inside = rasterize(
            [area],
            out_shape=window.shape,
            transform=transform @ Affine.translation(col0[i], row0[i]),
            dtype="uint8",
        ).astype(bool)
        values = window[inside].astype(float)
        stats[i, 0] = values.size
        if values.size:
            stats[i, 1:] = values.mean(), values.max(), 100.0 * np.mean(values <= radius_m)
    out = pd.DataFrame(stats, index=zones.index, columns=["cells", "mean_distance_m", "max_distance_m", "within_pct"])
    return out.astype({"cells": np.int64})
