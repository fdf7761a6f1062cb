"""District lookup used while building layers: which Chongqing district each point lies in."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from cqgis.geo import crs


def assign_districts(
    points: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, max_distance_m: float = 0.0
) -> gpd.GeoDataFrame:
    """Add ``adcode`` and ``district`` columns to a point layer.

    A point inside a district polygon (boundary included) takes that
    district; with several candidates (a point on a shared edge) the lowest
    adcode wins, so the result does not depend on row order. A point outside
    every district takes the nearest one within ``max_distance_m`` metres
    (measured in the conformal CRS), else stays empty.

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
    order = np.argsort(districts["adcode"].to_numpy(dtype=str), kind="stable")
    polygons = districts.geometry.to_numpy()[order]
    adcodes = districts["adcode"].to_numpy(dtype=object)[order]
    names = districts["name"].to_numpy(dtype=object)[order]

    tree = shapely.STRtree(polygons)
    point_idx, poly_idx = tree.query(points.geometry.to_numpy(), predicate="intersects")
    # Polygons are sorted by adcode, so the smallest index is the lowest adcode.
    chosen = np.full(len(points), len(polygons))
    np.minimum.at(chosen, point_idx, poly_idx)
    chosen[chosen == len(polygons)] = -1

    missing = np.flatnonzero(chosen < 0)
    if missing.size and max_distance_m > 0:
        metric = crs.metric_crs("distance")
        far = gpd.GeoSeries(points.geometry.to_numpy()[missing], crs=points.crs).to_crs(metric)
        near_tree = shapely.STRtree(gpd.GeoSeries(polygons, crs=districts.crs).to_crs(metric).to_numpy())
        hit, poly = near_tree.query_nearest(far.to_numpy(), max_distance=max_distance_m, all_matches=False)
        chosen[missing[hit]] = poly

    found = chosen >= 0
    out = points.copy()
    out["adcode"] = np.where(found, adcodes[chosen], None)
    out["district"] = np.where(found, names[chosen], None)
    return out
