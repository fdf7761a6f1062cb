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
    Points are first looked up in an index grid (cells of
    :data:`INDEX_CELL_DEG` degrees). Each cell holds the unit whose interior
    covers the whole cell, burnt with :func:`rasterio.features.rasterize` at
    cell centres, unless a unit boundary touches the cell or a neighbour of
    it (``all_touched``; the neighbours absorb the rounding of a coordinate
    on a cell edge) or units overlap there: such cells send their points to
    the exact shapely predicates on the full-resolution polygons. Cells
    holding no unit are marked near or far from the units, so only points
    that may lie within the tolerance are measured. The grid is an index,
    not an approximation: results equal those of the exact predicates alone.
    Lines, polygons and multipoints always take the exact path. Distances
    are measured in the conformal metric CRS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from rasterio.enums import MergeAlg
from rasterio.features import rasterize
from rasterio.transform import Affine

from cqgis import config
from cqgis.analysis.errors import AttributionError
from cqgis.geo import crs

#: How far outside every unit a feature may lie and still be assigned, in metres.
DEFAULT_TOLERANCE_M = 2000.0
#: Side of the index grid's cells in degrees (about 240 x 280 m in Chongqing).
INDEX_CELL_DEG = 0.0025
#: Separator of the listed zones and districts (the Chinese enumeration comma).
SEPARATOR = "、"

#: Values of ``attribution_flag``, indexed by the codes below.
FLAGS = ("inside", "spanning", "boundary", "near", "outside", "empty")
INSIDE, SPANNING, BOUNDARY, NEAR, OUTSIDE, EMPTY = range(len(FLAGS))

#: Columns :func:`attribute` adds, in order (``zones`` and ``basin`` only with their layers).
COLUMNS = ("adcode", "district", "region", "zones", "basin", "attribution_flag", "spans")
#: Chinese headers for the added columns, for tables handed to the office.
COLUMN_LABELS = {
    "adcode": "行政区划代码",
    "district": "区县",
    "region": "片区",
    "zones": "功能区",
    "basin": "流域",
    "attribution_flag": "归属标记",
    "spans": "跨越区县",
}

# How a feature relates to a unit, in order of preference.
_INTERIOR, _CONTACT, _NEAREST = 0, 1, 2
_STAGE_FLAGS = np.array([INSIDE, BOUNDARY, NEAR], dtype=np.int8)
# Weight of one covering unit in the burnt grid; unit indices stay below it.
_ONE_UNIT = 1 << 32
# Grid codes of cells that hold no single unit's interior.
_FAR, _EXACT, _CLOSE = -1, -2, -3
# Cells are under-measured by this factor when turning the tolerance into a
# number of cells, so that no point within tolerance is taken as far (it
# covers the metric CRS's scale error and meridian convergence with a wide margin).
_CELL_SIZE_MARGIN = 0.9


class _Pairs(NamedTuple):
    """Feature-unit relations found by the exact predicates: one row per related pair."""

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
        np.asarray(unit, dtype=np.int64),
        np.broadcast_to(np.asarray(stage, dtype=np.int8), size),
        np.broadcast_to(np.asarray(share, dtype=float), size),
        np.broadcast_to(np.asarray(distance, dtype=float), size),
    )


def _concat(parts: list[_Pairs]) -> _Pairs:
    return _Pairs(*(np.concatenate(column) for column in zip(*parts, strict=True)))


class _Match(NamedTuple):
    """How features relate to units: points read off the grid, and the exact pairs of the others."""

    fast: np.ndarray
    fast_unit: np.ndarray
    pairs: _Pairs


def _dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """Grow a boolean grid by ``radius`` cells in every direction (a square window).

    Each pass ORs the grid with itself shifted both ways along an axis; the
    shift doubles while it stays within the reach already covered, so a
    radius takes about log2(radius) passes per axis.
    """
    grown = mask.copy()
    for axis in (0, 1):
        view = np.moveaxis(grown, axis, 0)
        done = 0
        while done < radius:
            step = min(done + 1, radius - done)
            view[step:] |= view[:-step].copy()
            view[:-step] |= view[step:].copy()
            done += step
    return grown


@dataclass(frozen=True)
class _Grid:
    """Units burnt into a grid of square cells in degrees (see the module docstring).

    ``codes`` holds per cell the unit whose interior holds the whole cell and
    its neighbours, or :data:`_EXACT`, :data:`_CLOSE` (no unit, but maybe
    one within the tolerance) or :data:`_FAR`.
    """

    west: float
    north: float
    codes: np.ndarray

    @classmethod
    def build(cls, units: np.ndarray, tolerance_m: float) -> _Grid:
        xmin, ymin, xmax, ymax = shapely.total_bounds(units)
        reach = _cells_within(tolerance_m, xmin, ymax)
        # Margins wider than the reach keep the outermost cells far, so that
        # coordinates clipped onto them read right.
        margin = (reach + 2) * INDEX_CELL_DEG
        west, north = xmin - margin, ymax + margin
        shape = (
            int(np.ceil((north - ymin + margin) / INDEX_CELL_DEG)),
            int(np.ceil((xmax + margin - west) / INDEX_CELL_DEG)),
        )
        options = {
            "out_shape": shape,
            "transform": Affine(INDEX_CELL_DEG, 0.0, west, 0.0, -INDEX_CELL_DEG, north),
        }
        polygons = [unit.__geo_interface__ for unit in units]
        rings = [
            {"type": "MultiLineString", "coordinates": _rings(polygon)} for polygon in polygons
        ]
        # One burn gives both the number of units covering a cell (high bits)
        # and, where it is one, which unit (low bits).
        burnt = rasterize(
            zip(polygons, _ONE_UNIT + np.arange(len(units))),
            fill=0,
            merge_alg=MergeAlg.add,
            dtype="int64",
            **options,
        )
        count = burnt // _ONE_UNIT
        codes = np.where(count == 1, burnt % _ONE_UNIT, _FAR).astype(np.int32)
        edges = rasterize(rings, fill=0, default_value=1, all_touched=True, dtype="uint8", **options) > 0
        codes[_dilate(count > 0, reach) & (count == 0)] = _CLOSE
        codes[_dilate(edges | (count > 1), 1)] = _EXACT
        return cls(west, north, codes)

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the code of the cell holding each point (clipped to the grid)."""
        rows, cols = self.codes.shape
        row = np.clip((self.north - y) / INDEX_CELL_DEG, 0, rows - 1).astype(np.intp)
        col = np.clip((x - self.west) / INDEX_CELL_DEG, 0, cols - 1).astype(np.intp)
        return self.codes[row, col]


def _rings(polygon: dict) -> list:
    """Return the rings of a GeoJSON-like (multi)polygon, as MultiLineString coordinates."""
    if polygon["type"] == "Polygon":
        return list(polygon["coordinates"])
    return [ring for part in polygon["coordinates"] for ring in part]


def _cells_within(metres: float, west: float, north: float) -> int:
    """Return how many index cells surely span ``metres`` in any direction, plus one for rounding."""
    to_metric = pyproj.Transformer.from_crs(config.STORAGE_CRS, crs.metric_crs("distance"), always_xy=True)
    # Cells are narrowest at the grid's northern edge.
    x, y = to_metric.transform(
        [west, west + INDEX_CELL_DEG, west], [north, north, north - INDEX_CELL_DEG]
    )
    side = min(np.hypot(x[1] - x[0], y[1] - y[0]), np.hypot(x[2] - x[0], y[2] - y[0]))
    return int(np.ceil(metres / (side * _CELL_SIZE_MARGIN))) + 1


def _project(geometries: np.ndarray, kind: str) -> np.ndarray:
    """Express WGS84 geometries in the metric CRS of ``kind`` ('area' or 'distance')."""
    series = gpd.GeoSeries(geometries, crs=config.STORAGE_CRS)
    return series.to_crs(crs.metric_crs(kind)).to_numpy()


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


def _point_match(
    geometries: np.ndarray, features: np.ndarray, units: np.ndarray, grid: _Grid
) -> tuple[np.ndarray, np.ndarray, _Pairs, np.ndarray]:
    """Relate single points to units; return fast features and units, exact pairs, unrelated ones."""
    x, y = shapely.get_x(geometries), shapely.get_y(geometries)
    code = grid.lookup(x, y)
    fast = code >= 0
    exact = np.flatnonzero(code == _EXACT)
    points = geometries[exact]
    unit, point = shapely.STRtree(points).query(units, predicate="intersects")
    interior = shapely.contains_xy(units[unit], x[exact[point]], y[exact[point]])
    pairs = _pairs(
        features[exact[point]], unit, np.where(interior, _INTERIOR, _CONTACT), interior.astype(float)
    )
    unrelated = np.zeros(len(geometries), dtype=bool)
    unrelated[exact] = True
    unrelated[exact[point]] = False
    unrelated |= code == _CLOSE
    return features[fast], code[fast], pairs, features[unrelated]


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
    """Split the units' boundaries into two-point segments; return them and their unit.

    Distances to single segments are cheap whatever the size of the unit.
    """
    rings, ring_unit = shapely.get_parts(shapely.boundary(units), return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same_ring = np.flatnonzero(ring[1:] == ring[:-1])
    segments = shapely.linestrings(np.stack([xy[same_ring], xy[same_ring + 1]], axis=1))
    return segments, ring_unit[ring[same_ring]]


def _near_pairs(
    geometries: np.ndarray, features: np.ndarray, units: np.ndarray, tolerance_m: float
) -> _Pairs:
    """Relate features touching no unit to the nearest units within ``tolerance_m`` metres."""
    if features.size == 0:
        return _pairs([], [], _NEAREST)
    segments, segment_unit = _boundary_segments(_project(units, "distance"))
    (feature, segment), distance = shapely.STRtree(segments).query_nearest(
        _project(geometries, "distance"), max_distance=tolerance_m, return_distance=True
    )
    return _pairs(features[feature], segment_unit[segment], _NEAREST, 0.0, distance)


def _match(geometries: np.ndarray, units: np.ndarray, tolerance_m: float) -> _Match:
    """Relate every feature to the units it lies in, touches or (within tolerance) is near."""
    # Every exact predicate below tests many features against the same units.
    shapely.prepare(units)
    present = ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))
    single = present & (shapely.get_type_id(geometries) == shapely.GeometryType.POINT)
    points = np.flatnonzero(single)
    shapes = np.flatnonzero(present & ~single)
    fast, fast_unit, point_pairs, unrelated = _point_match(
        geometries[points], points, units, _Grid.build(units, tolerance_m)
    )
    shape_pairs = _shape_pairs(geometries[shapes], shapes, units)
    parts = [point_pairs, shape_pairs]
    if tolerance_m > 0:
        lonely = np.ones(len(geometries), dtype=bool)
        lonely[shape_pairs.feature] = False
        near = np.concatenate([unrelated, shapes[lonely[shapes]]])
        parts.append(_near_pairs(geometries[near], near, units, tolerance_m))
    return _Match(fast, fast_unit, _concat(parts))


def _choose(match: _Match, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pick one unit per feature: largest interior share, then contact, then nearest.

    Returns the unit per feature (-1 for none) and the flag codes (``empty``
    is left to the caller). Units are sorted, so the lowest index wins ties.
    """
    pairs = match.pairs
    order = np.lexsort((pairs.unit, pairs.distance, -pairs.share, pairs.stage, pairs.feature))
    first = order[np.diff(pairs.feature[order], prepend=-1) != 0]
    unit = np.full(size, -1, dtype=np.int64)
    flags = np.full(size, OUTSIDE, dtype=np.int8)
    unit[match.fast] = match.fast_unit
    flags[match.fast] = INSIDE
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
    match = _match(geometries, units.geometry.to_numpy(), tolerance_m)
    unit, flags = _choose(match, size)
    flags[shapely.is_missing(geometries) | shapely.is_empty(geometries)] = EMPTY

    out = layer.copy()
    for column, source in (("adcode", "adcode"), ("district", "name"), ("region", "region")):
        out[column] = _lookup(units[source].to_numpy(), unit)
    if zones is not None:
        zone_units = _units(zones, "functional zones", "name", ("name",))
        zone_match = _match(geometries, zone_units.geometry.to_numpy(), 0.0)
        interior = zone_match.pairs.stage == _INTERIOR
        feature = np.concatenate([zone_match.fast, zone_match.pairs.feature[interior]])
        zone = np.concatenate([zone_match.fast_unit, zone_match.pairs.unit[interior]])
        order = np.lexsort((zone, feature))
        out["zones"] = _listed(feature[order], zone_units["name"].to_numpy()[zone[order]], size)
    if basins is not None:
        basin_units = _units(basins, "basins", "name", ("name",))
        basin_match = _match(geometries, basin_units.geometry.to_numpy(), tolerance_m)
        out["basin"] = _lookup(basin_units["name"].to_numpy(), _choose(basin_match, size)[0])
    out["attribution_flag"] = _lookup(np.array(FLAGS), flags)
    pairs = match.pairs
    spans = np.flatnonzero((flags == SPANNING)[pairs.feature] & (pairs.stage == _INTERIOR))
    spans = spans[np.lexsort((pairs.unit[spans], -pairs.share[spans], pairs.feature[spans]))]
    out["spans"] = _listed(pairs.feature[spans], units["name"].to_numpy()[pairs.unit[spans]], size)
    return out
