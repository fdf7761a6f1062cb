"""Point-in-unit lookup used while building layers: the district and basin each point lies in."""

from __future__ import annotations

from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely

from cqgis.geo import crs as crs_module

if TYPE_CHECKING:
    import pyproj


def unit_index(
    points: gpd.GeoSeries, polygons: np.ndarray, crs: pyproj.CRS | str, max_distance_m: float = 0.0
) -> np.ndarray:
    """Return, for each point, the index of the polygon holding it (-1 for none).

    A point inside several polygons (on a shared edge) takes the lowest
    index, so callers sort the polygons by their key first and the result
    does not depend on row order. A point outside every polygon takes the
    nearest one within ``max_distance_m`` metres (in the conformal CRS).

    Parameters
    ----------
    points : geopandas.GeoSeries
        The points, with their CRS.
    polygons : numpy.ndarray of shapely.Geometry
        The units (districts, basins), in ``crs``.
    crs : pyproj.CRS or str
        The CRS of ``polygons``.
    max_distance_m : float
        Reach of the nearest-unit fallback; 0 turns it off.

    Returns
    -------
    numpy.ndarray of int
        Index into ``polygons`` for each point, -1 where none was found.
    """
    tree = shapely.STRtree(polygons)
    point_idx, poly_idx = tree.query(points.to_numpy(), predicate="intersects")
    chosen = np.full(len(points), len(polygons))
    np.minimum.at(chosen, point_idx, poly_idx)
    chosen[chosen == len(polygons)] = -1

    missing = np.flatnonzero(chosen < 0)
    if missing.size and max_distance_m > 0:
        metric = crs_module.metric_crs("distance")
        far = gpd.GeoSeries(points.to_numpy()[missing], crs=points.crs).to_crs(metric)
        near_tree = shapely.STRtree(gpd.GeoSeries(polygons, crs=crs).to_crs(metric).to_numpy())
        hit, poly = near_tree.query_nearest(far.to_numpy(), max_distance=max_distance_m, all_matches=False)
        chosen[missing[hit]] = poly
    return chosen


def assign_districts(
    points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, max_distance_m: float = 0.0
) -> gpd.GeoDataFrame:
    """Add ``adcode`` and ``district`` columns to a point layer.

    A point inside a district polygon (boundary included) takes that
    district; with several candidates (a point on a shared edge) the lowest
    adcode wins. A point outside every district takes the nearest one within
    ``max_distance_m`` metres, else stays empty.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Points in EPSG:4326.
    districts : geopandas.GeoDataFrame
        The ``districts`` layer (adcode, name, geometry).
    max_distance_m : float
        Reach of the nearest-district fallback.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``points`` with ``adcode`` and ``district`` (None where unassigned).
    """
    ordered = districts.sort_values("adcode", kind="stable")
    chosen = unit_index(points.geometry, ordered.geometry.to_numpy(), districts.crs, max_distance_m)
    found = chosen >= 0
    out = points.copy()
    out["adcode"] = np.where(found, ordered["adcode"].to_numpy(dtype=object)[chosen], None)
    out["district"] = np.where(found, ordered["name"].to_numpy(dtype=object)[chosen], None)
    return out


def assign_basins(
    points: gpd.GeoDataFrame, basins: gpd.GeoDataFrame, max_distance_m: float = 0.0
) -> gpd.GeoDataFrame:
    """Add a ``basin`` column (the basin's name) to a point layer, by the rules of :func:`assign_districts`.

    Parameters
    ----------
    points : geopandas.GeoDataFrame
        Points in EPSG:4326.
    basins : geopandas.GeoDataFrame
        The ``basins`` layer (name, geometry).
    max_distance_m : float
        Reach of the nearest-basin fallback.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``points`` with ``basin`` (None where unassigned).
    """
    ordered = basins.sort_values("name", kind="stable")
    chosen = unit_index(points.geometry, ordered.geometry.to_numpy(), basins.crs, max_distance_m)
    out = points.copy()
    out["basin"] = np.where(chosen >= 0, ordered["name"].to_numpy(dtype=object)[chosen], None)
    return out
