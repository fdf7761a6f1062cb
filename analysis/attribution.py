"""Attribution: add district, region group, functional zones and basin to any point, line or polygon layer.

Columns added (stable English names; :data:`COLUMN_LABELS` gives the Chinese
headers the office reads):

``adcode``, ``district``, ``region``
    The district (区县) the feature belongs to, its name and its region group
    (主城都市区 / 渝东北三峡库区城镇群 / 渝东南武陵山区城镇群); empty when unassigned.
``zones``
    Every functional zone holding part of the feature, by name in sort
    order, joined with ``、``; empty when none. Only added when a zones layer is given.
``basin``
    The basin the feature belongs to, chosen like the district. Only added
    when a basins layer is given.
``attribution_flag``
    How the district was decided, one of :data:`FLAGS`:

    * ``inside``: the feature lies in the interior of one district;
    * ``spanning``: parts of it lie in several districts; it takes the one
      holding the largest share (length for lines, measured in the conformal
      CRS; area for polygons, in the equal-area CRS; the number of points for
      multipoints); a single point is only ``spanning`` where districts overlap;
    * ``boundary``: it only touches districts' boundaries (a point exactly on
      a border); it takes the lowest adcode among them;
    * ``near``: it touches no district but lies within the tolerance of one
      (rivers are often borders, so river data falls just outside); it takes
      the nearest, the lowest adcode among equally near ones;
    * ``outside``: farther than the tolerance from every district;
    * ``empty``: it has no geometry.
``spans``
    For ``spanning`` features, the districts holding part of it, largest
    share first, joined with ``、``; empty otherwise.

Every choice is deterministic: ties go to the lowest adcode (the first basin
name in sort order), whatever the row order of the layers.

Method
    Plain shapely predicates on the full-resolution units, prepared once:
    a single point is tested with :func:`shapely.contains_xy` and
    :func:`shapely.intersects_xy` against each unit whose bounding box holds
    it; lines, polygons and multipoints are related to the units through an
    :class:`shapely.STRtree` (``intersects``), then measured. Features
    touching no unit are first cut down to those within the tolerance in
    degrees (``dwithin``, with a reach that cannot miss one), then matched
    by :meth:`shapely.STRtree.query_nearest` with ``max_distance`` in the
    conformal metric CRS, as :func:`geopandas.sjoin_nearest` does.
    This replaced a hand-written rasterized grid index (issue 13): it was
    slower than :func:`geopandas.sjoin` at the default tolerance, and the
    library's predicates give the same answers with far less code of our own.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cqgis import config
from cqgis.analysis.errors import AttributionError
from cqgis.geo import crs

#: How far outside every unit a feature may lie and still be assigned, in metres.
DEFAULT_TOLERANCE_M = config.ATTRIBUTION_TOLERANCE_M
#: Separator of the listed zones and districts (the Chinese enumeration comma).
SEPARATOR = "、"

#: Values of ``attribution_flag``, indexed by the codes below.
FLAGS = ("inside", "spanning", "boundary", "near", "outside", "empty")
INSIDE, SPANNING, BOUNDARY, NEAR, OUTSIDE, EMPTY = range(len(FLAGS))

#: Columns :func:`attribute` adds, in order (``zones`` and ``basin`` only with their layers).
COLUMNS = ("adcode", "district", "region", "zones", "basin", "attribution_flag", "spans")
#: Chinese headers for the added columns, for tables handed to the office.
COLUMN_LABELS: Mapping[str, str] = MappingProxyType({
    "adcode": "行政区划代码",
    "district": "区县",
    "region": "片区",
    "zones": "功能区",
    "basin": "流域",
    "attribution_flag": "归属标记",
    "spans": "跨越区县",
})

# The cheap reach test of features near no unit (see _within_reach): how far
# outlines are simplified (degrees), the fewest metres in a degree of latitude,
# the buffers' segments per quarter circle and the margin on the tolerance.
_REACH_SIMPLIFY_DEG = 0.002
_METRES_PER_DEGREE_LAT = 110_574.0
_REACH_QUAD_SEGS = 2
_REACH_MARGIN = 1.05

# How a feature relates to a unit, in order of preference.
_INTERIOR, _CONTACT, _NEAREST = 0, 1, 2
_STAGE_FLAGS = np.array([INSIDE, BOUNDARY, NEAR], dtype=np.int8)


class _Pairs(NamedTuple):
    """Feature-unit relations: one row per related pair."""

    feature: np.ndarray
    unit: np.ndarray
    stage: np.ndarray
    share: np.ndarray
    distance: np.ndarray


def _pairs(feature, unit, stage, share=0.0, distance=0.0) -> _Pairs:
    feature = np.asarray(feature, dtype=np.int64)
    size = feature.size
    return _Pairs(
        feature,
        np.broadcast_to(np.asarray(unit, dtype=np.int64), size),
        np.broadcast_to(np.asarray(stage, dtype=np.int8), size),
        np.broadcast_to(np.asarray(share, dtype=float), size),
        np.broadcast_to(np.asarray(distance, dtype=float), size),
    )


def _concat(parts: list[_Pairs]) -> _Pairs:
    return _Pairs(*(np.concatenate(column) for column in zip(*parts, strict=True)))


def _point_pairs(geometries: np.ndarray, features: np.ndarray, units: np.ndarray) -> _Pairs:
    """Relate single points to the units they lie in (interior) or touch (boundary).

    Each unit tests only the points in its bounding box: a numpy comparison
    is far cheaper than the point-in-polygon test it spares, and the
    ``_xy`` predicates need no point geometries.
    """
    x, y = shapely.get_x(geometries), shapely.get_y(geometries)
    parts = [_pairs([], [], _INTERIOR)]
    for unit, bounds in enumerate(shapely.bounds(units)):
        west, south, east, north = bounds
        candidate = np.flatnonzero((x >= west) & (x <= east) & (y >= south) & (y <= north))
        hit = candidate[shapely.intersects_xy(units[unit], x[candidate], y[candidate])]
        interior = shapely.contains_xy(units[unit], x[hit], y[hit])
        parts.append(_pairs(features[hit], unit, np.where(interior, _INTERIOR, _CONTACT), interior.astype(float)))
    return _concat(parts)


def _project(geometries: np.ndarray, kind: str) -> np.ndarray:
    """Express WGS84 geometries in the metric CRS of ``kind`` ('area' or 'distance')."""
    return crs.project(geometries, config.STORAGE_CRS, crs.metric_crs(kind))


def _measure(geometries: np.ndarray, dims: np.ndarray) -> np.ndarray:
    """Return the number of points (dimension 0), the length in metres (1) or the area in m² (2)."""
    out = shapely.get_num_geometries(geometries).astype(float)
    for dim, kind, measure in ((1, "distance", shapely.length), (2, "area", shapely.area)):
        chosen = dims == dim
        if chosen.any():
            out[chosen] = measure(_project(geometries[chosen], kind))
    return out


def _interior_measure(geometries: np.ndarray, dims: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Return :func:`_measure` of each geometry's part in the interior of its unit (pairwise)."""
    parts, part_of = shapely.get_parts(geometries, return_index=True)
    owner, part_dims = units[part_of], dims[part_of]
    size = np.zeros(len(parts))
    points = part_dims == 0
    size[points] = shapely.contains(owner[points], parts[points])
    size[~points] = _measure(shapely.intersection(parts[~points], owner[~points]), part_dims[~points])
    # A line along a border lies in both units' closures but in neither interior.
    lines = part_dims == 1
    size[lines] -= _measure(shapely.intersection(parts[lines], shapely.boundary(owner[lines])), part_dims[lines])
    return np.bincount(part_of, weights=size, minlength=len(geometries))


def _shape_pairs(geometries: np.ndarray, features: np.ndarray, units: np.ndarray) -> _Pairs:
    """Relate lines, polygons and multipoints to units by the share of their size in each."""
    unit, shape = shapely.STRtree(geometries).query(units, predicate="intersects")
    whole = geometries[shape]
    share = np.ones(shape.size)
    partial = np.flatnonzero(~shapely.contains_properly(units[unit], whole))
    dims = shapely.get_dimensions(whole[partial])
    inside = _interior_measure(whole[partial], dims, units[unit[partial]])
    size = _measure(whole[partial], dims)
    # A degenerate feature (zero length or area) counts wholly in every unit it touches.
    share[partial] = np.divide(inside, size, out=np.ones(partial.size), where=size > 0)
    return _pairs(features[shape], unit, np.where(share > 0, _INTERIOR, _CONTACT), share)


def _boundary_segments(units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split the units' boundaries into two-point lines; return them and the unit of each."""
    rings, ring_unit = shapely.get_parts(shapely.boundary(units), return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    start = np.flatnonzero(ring[1:] == ring[:-1])
    return shapely.linestrings(np.stack([xy[start], xy[start + 1]], axis=1)), ring_unit[ring[start]]


def _near_pairs(geometries: np.ndarray, features: np.ndarray, units: np.ndarray, tolerance_m: float) -> _Pairs:
    """Relate features touching no unit to the nearest units within ``tolerance_m`` metres.

    A feature outside a unit is as far from it as from the nearest segment
    of its boundary (bit for bit: GEOS takes the least of the same segment
    distances). A tree of single segments keeps each distance cheap, where
    one district's boundary has thousands of them. Equally near units are
    all kept, so that :func:`_choose` can take the lowest.
    """
    reachable = _within_reach(geometries, units, tolerance_m)
    geometries, features = geometries[reachable], features[reachable]
    segments, segment_unit = _boundary_segments(_project(units, "distance"))
    (feature, segment), distance = shapely.STRtree(segments).query_nearest(
        _project(geometries, "distance"), max_distance=tolerance_m, return_distance=True, all_matches=True
    )
    return _pairs(features[feature], segment_unit[segment], _NEAREST, 0.0, distance)


def _within_reach(geometries: np.ndarray, units: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Return which features may lie within ``tolerance_m`` of a unit: a test in degrees that can miss none.

    Most features far from every unit (points of a whole province against
    Chongqing's districts) are dropped here before they are projected and
    measured. Each unit is simplified, which moves its outline by at most
    :data:`_REACH_SIMPLIFY_DEG`, and buffered by that plus the tolerance in
    degrees at the shortest a degree gets over the units (a degree of
    longitude at their highest latitude), widened so that the buffer's
    chords stay outside the true circle, with a margin for the metric CRS's
    scale error.
    """
    south, north = shapely.total_bounds(units)[[1, 3]]
    latitude = min(89.0, max(abs(south), abs(north)) + 1.0)
    metres_per_degree = min(_METRES_PER_DEGREE_LAT, _METRES_PER_DEGREE_LAT * np.cos(np.radians(latitude)))
    reach = (tolerance_m * _REACH_MARGIN / metres_per_degree + _REACH_SIMPLIFY_DEG) / np.cos(np.pi / (4 * _REACH_QUAD_SEGS))
    zones = shapely.buffer(shapely.simplify(units, _REACH_SIMPLIFY_DEG), reach, quad_segs=_REACH_QUAD_SEGS)
    found = np.zeros(len(geometries), dtype=bool)
    found[shapely.STRtree(zones).query(geometries, predicate="intersects")[0]] = True
    return found


def _match(geometries: np.ndarray, units: np.ndarray, tolerance_m: float) -> _Pairs:
    """Relate every feature to the units it lies in, touches or (within tolerance) is near."""
    # Every predicate below tests many features against the same units.
    shapely.prepare(units)
    present = ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))
    single = present & (shapely.get_type_id(geometries) == shapely.GeometryType.POINT)
    points = np.flatnonzero(single)
    shapes = np.flatnonzero(present & ~single)
    parts = [
        _point_pairs(geometries[points], points, units),
        _shape_pairs(geometries[shapes], shapes, units),
    ]
    if tolerance_m > 0:
        lonely = present.copy()
        for part in parts:
            lonely[part.feature] = False
        near = np.flatnonzero(lonely)
        parts.append(_near_pairs(geometries[near], near, units, tolerance_m))
    return _concat(parts)


def _choose(pairs: _Pairs, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pick one unit per feature: largest interior share, then contact, then nearest.

    Returns the unit per feature (-1 for none) and the flag codes (``empty``
    is left to the caller). Units are sorted, so the lowest index wins ties.
    """
    order = np.lexsort((pairs.unit, pairs.distance, -pairs.share, pairs.stage, pairs.feature))
    first = order[np.diff(pairs.feature[order], prepend=-1) != 0]
    unit = np.full(size, -1, dtype=np.int64)
    flags = np.full(size, OUTSIDE, dtype=np.int8)
    unit[pairs.feature[first]] = pairs.unit[first]
    flags[pairs.feature[first]] = _STAGE_FLAGS[pairs.stage[first]]
    interior = pairs.stage == _INTERIOR
    flags[np.bincount(pairs.feature[interior], minlength=size) > 1] = SPANNING
    return unit, flags


def _listed(feature: np.ndarray, labels: np.ndarray, size: int) -> pd.Categorical:
    """Join the labels of each feature with :data:`SEPARATOR`, in the given order; missing where none."""
    joined = pd.Series(labels, dtype=object).groupby(feature, sort=False).agg(SEPARATOR.join)
    index = np.full(size, -1)
    index[joined.index.to_numpy()] = np.arange(len(joined))
    return _lookup(joined.to_numpy(), index)


def _lookup(values: np.ndarray, index: np.ndarray) -> pd.Categorical:
    """Look values up by index as a categorical column, missing where the index is -1."""
    codes, categories = pd.factorize(values)
    # Index -1 picks the appended code -1, which marks a missing value.
    return pd.Categorical.from_codes(np.append(codes, -1)[index], categories)


def _units(frame: gpd.GeoDataFrame, what: str, key: str, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Check a reference layer and return it sorted by ``key``, in WGS84."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        msg = f"the {what} layer lacks the column(s) {', '.join(missing)}"
        raise AttributionError(msg)
    if frame.crs is None:
        msg = f"the {what} layer has no coordinate system"
        raise AttributionError(msg)
    geometry = frame.geometry.to_numpy()
    bad = np.flatnonzero(shapely.is_missing(geometry) | shapely.is_empty(geometry))
    if len(frame) == 0 or bad.size:
        msg = f"the {what} layer is empty or has features without geometry (rows {bad[:5].tolist()})"
        raise AttributionError(msg)
    return frame.to_crs(config.STORAGE_CRS).sort_values(key, kind="stable").reset_index(drop=True)


def _check(layer: gpd.GeoDataFrame, added: list[str], tolerance_m: float) -> None:
    if not (np.isfinite(tolerance_m) and tolerance_m >= 0):
        msg = f"the tolerance must be a distance in metres >= 0, not {tolerance_m!r}"
        raise AttributionError(msg)
    if layer.crs is None:
        msg = "the layer has no coordinate system: say which it is (e.g. --crs wgs84 or gcj02)"
        raise AttributionError(msg)
    clash = [column for column in added if column in layer.columns]
    if clash:
        msg = f"the layer already has the column(s) {', '.join(clash)}: rename or drop them first"
        raise AttributionError(msg)


def attribute(
    layer: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    zones: gpd.GeoDataFrame | None = None,
    basins: gpd.GeoDataFrame | None = None,
    *,
    tolerance_m: float = DEFAULT_TOLERANCE_M,
) -> gpd.GeoDataFrame:
    """Add district, region group, functional zones and basin to a layer.

    Parameters
    ----------
    layer : geopandas.GeoDataFrame
        Points, lines, polygons (multi-parts and mixed types allowed) in any
        CRS; features without geometry are flagged ``empty``.
    districts : geopandas.GeoDataFrame
        The ``districts`` layer (adcode, name, region, geometry).
    zones : geopandas.GeoDataFrame, optional
        The ``functional_zones`` layer (name, geometry); zones may overlap.
        A zone is listed when it holds part of the feature (a point in its
        interior, a positive length or area).
    basins : geopandas.GeoDataFrame, optional
        The ``basins`` layer (name, geometry).
    tolerance_m : float
        Features touching no district (basin) but within this distance of
        one, in metres in the conformal metric CRS, take the nearest.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``layer`` (its CRS and columns unchanged) with the columns
        described in the module docstring.

    Raises
    ------
    AttributionError
        When the layer has no CRS or already has one of the added columns, a
        reference layer lacks a column or geometry, or the tolerance is out of range.
    """
    optional = {"zones": zones, "basin": basins}
    _check(layer, [c for c in COLUMNS if optional.get(c, True) is not None], tolerance_m)
    geometries = layer.geometry.to_crs(config.STORAGE_CRS).to_numpy()
    size = len(geometries)

    units = _units(districts, "districts", "adcode", ("adcode", "name", "region"))
    pairs = _match(geometries, units.geometry.to_numpy(), tolerance_m)
    unit, flags = _choose(pairs, size)
    flags[shapely.is_missing(geometries) | shapely.is_empty(geometries)] = EMPTY

    out = layer.copy()
    for column, source in (("adcode", "adcode"), ("district", "name"), ("region", "region")):
        out[column] = _lookup(units[source].to_numpy(), unit)
    if zones is not None:
        zone_units = _units(zones, "functional zones", "name", ("name",))
        zone_pairs = _match(geometries, zone_units.geometry.to_numpy(), 0.0)
        interior = zone_pairs.stage == _INTERIOR
        feature, zone = zone_pairs.feature[interior], zone_pairs.unit[interior]
        order = np.lexsort((zone, feature))
        out["zones"] = _listed(feature[order], zone_units["name"].to_numpy()[zone[order]], size)
    if basins is not None:
        basin_units = _units(basins, "basins", "name", ("name",))
        basin_pairs = _match(geometries, basin_units.geometry.to_numpy(), tolerance_m)
        out["basin"] = _lookup(basin_units["name"].to_numpy(), _choose(basin_pairs, size)[0])
    out["attribution_flag"] = _lookup(np.array(FLAGS), flags)
    spans = np.flatnonzero((flags == SPANNING)[pairs.feature] & (pairs.stage == _INTERIOR))
    spans = spans[np.lexsort((pairs.unit[spans], -pairs.share[spans], pairs.feature[spans]))]
    out["spans"] = _listed(pairs.feature[spans], units["name"].to_numpy()[pairs.unit[spans]], size)
    return out
