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
    :data:`INDEX_CELL_DEG` degrees), burnt with
    :func:`rasterio.features.rasterize` over the units' extent in two
    passes: the interiors (at cell centres) and the boundaries
    (``all_touched``). A cell holds the unit whose interior covers it unless
    a unit boundary touches the cell or a neighbour of it (the neighbours
    absorb the rounding of a coordinate on a cell edge) or units overlap
    there: such cells send their points to the exact shapely predicates on
    the full-resolution polygons. Outside the units, cells farther than the
    tolerance from every boundary cell are far; cells surely within the
    tolerance of a boundary cell, with one unit's boundaries alone within
    the tolerance's reach, are near that unit; the other cells of the band
    send their points to the exact distance (a prepared nearest-distance
    search, then the exact distance to the boundary pieces within a hair of
    it). Cell sizes are measured in the conformal metric CRS with margins
    and a cell to spare. The grid is an index, not an approximation: results
    equal those of the exact predicates alone. Lines, polygons and
    multipoints always take the exact path. Distances are measured in the
    conformal metric CRS.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from rasterio.enums import MergeAlg
from rasterio.features import rasterize
from rasterio.transform import Affine

from cqgis import config
from cqgis.analysis.errors import AttributionError
from cqgis.geo import crs

#: How far outside every unit a feature may lie and still be assigned, in metres.
DEFAULT_TOLERANCE_M = config.ATTRIBUTION_TOLERANCE_M
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
COLUMN_LABELS: Mapping[str, str] = MappingProxyType({
    "adcode": "行政区划代码",
    "district": "区县",
    "region": "片区",
    "zones": "功能区",
    "basin": "流域",
    "attribution_flag": "归属标记",
    "spans": "跨越区县",
})

# How a feature relates to a unit, in order of preference.
_INTERIOR, _CONTACT, _NEAREST = 0, 1, 2
_STAGE_FLAGS = np.array([INSIDE, BOUNDARY, NEAR], dtype=np.int8)
# Weight of one covering unit in the burnt grid; unit indices stay below it.
_ONE_UNIT = 1 << 32
# Grid codes of cells that hold no single unit's interior; codes from
# _NEAR_UNIT down name the only unit near the cell (_NEAR_UNIT - unit).
_FAR, _EXACT, _CLOSE, _NEAR_UNIT = -1, -2, -3, -4
# Cells are under-measured by this factor when turning the tolerance into a
# number of cells, so that no point within tolerance is taken as far (the
# metric CRS's scale varies by under 0.1 % over the region: ten times that).
_CELL_SIZE_MARGIN = 0.99
# Segments per boundary piece measured by the exact distance (fewer, longer
# pieces make a smaller tree but dearer distances; 8 measured fastest).
_PIECE_SEGMENTS = 8
# Relative and absolute (metres) slack between the prepared nearest distance
# and the exact one: both are rounded, differently, near 1e-16 relative.
_ROUNDING, _ROUNDING_M = 1e-9, 1e-6
# Cells per packed word in :func:`_dilate`.
_WORD_BITS = 64


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


def _pack(cells: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pack the flat indices of set cells into rows of 64-cell words (first column in the highest bit).

    Each shift in :func:`_grow` then moves 64 cells at once.
    """
    rows, cols = shape
    row_bytes = -(-cols // _WORD_BITS) * (_WORD_BITS // 8)
    row, col = np.divmod(cells, cols)
    # Cells are distinct, so summing their bits in each byte ORs them.
    packed = np.bincount(row * row_bytes + col // 8, weights=0x80 >> (col % 8), minlength=rows * row_bytes)
    return packed.astype(np.uint8).reshape(rows, row_bytes).view(">u8").astype(np.uint64)


def _unpack(words: np.ndarray, cols: int) -> np.ndarray:
    """Return the boolean grid of packed words (the inverse of :func:`_pack`)."""
    return np.unpackbits(words.astype(">u8").view(np.uint8), axis=-1, count=cols).view(bool)


def _read(words: np.ndarray, cells: np.ndarray, cols: int) -> np.ndarray:
    """Return the bits of the given flat cells in packed grids (any leading axes kept)."""
    row, col = np.divmod(cells, cols)
    shift = (_WORD_BITS - 1 - col % _WORD_BITS).astype(np.uint64)
    return ((words[..., row, col // _WORD_BITS] >> shift) & np.uint64(1)).astype(bool)


def _grow(words: np.ndarray, windows: list[tuple[int, int]]) -> np.ndarray:
    """Dilate packed grids by the union of rectangular windows of (rows, columns) half-sizes.

    Each pass ORs the grid with itself shifted both ways along an axis; the
    shift doubles while it stays within the reach already covered, so a
    reach takes about log2(reach) passes.
    """
    grown = np.zeros_like(words)
    for window in windows:
        part = words
        for shift, reach in zip((_shift_rows, _shift_columns), window, strict=True):
            done = 0
            while done < reach:
                step = min(done + 1, reach - done, _WORD_BITS - 1)
                part = part | shift(part, step) | shift(part, -step)
                done += step
        grown |= part
    return grown


def _shift_rows(words: np.ndarray, step: int) -> np.ndarray:
    """Move packed rows ``step`` rows down (up when negative), filling with empty cells."""
    out = np.zeros_like(words)
    if step > 0:
        out[..., step:, :] = words[..., :-step, :]
    else:
        out[..., :step, :] = words[..., -step:, :]
    return out


def _shift_columns(words: np.ndarray, step: int) -> np.ndarray:
    """Move packed cells ``step`` columns right (left when negative), across word boundaries."""
    carry = np.zeros_like(words)
    size, back = np.uint64(abs(step)), np.uint64(_WORD_BITS - abs(step))
    if step > 0:
        carry[..., 1:] = words[..., :-1] << back
        return (words >> size) | carry
    carry[..., :-1] = words[..., 1:] >> back
    return (words << size) | carry


def _windows(metres: float, size: np.ndarray, slack: int) -> list[tuple[int, int]]:
    """Return rectangular windows (rows, columns) whose union is a disc of ``metres`` in cells.

    A window reaches ``(a, b)`` cells when cells ``a`` rows and ``b`` columns
    apart are ``max(a + slack, 0)`` cell heights and ``max(b + slack, 0)``
    widths (``size``) apart. With a negative slack (cells' nearest points,
    less a cell for rasterization rounding) the windows cover every cell
    that may lie within ``metres``; with a positive one (farthest points,
    plus a cell), only cells that surely do.
    """
    height, width = size
    rows = np.arange(int(metres // height) + abs(slack) + 1)
    across = np.maximum(rows + slack, 0) * height
    room = np.sqrt(np.maximum(metres**2 - across**2, 0.0))
    cols = np.floor(room / width).astype(int) - slack
    valid = (across <= metres) & (cols >= 0)
    rows, cols = rows[valid], cols[valid]
    # A window is inside the next one when that one is as wide.
    widest = np.append(cols[:-1] > cols[1:], True)[: cols.size]
    return list(zip(rows[widest].tolist(), cols[widest].tolist(), strict=True))


def _ranges(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(start, start + size)`` for each pair, vectorized."""
    offsets = np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    return np.repeat(starts, sizes) + offsets


def _geojson(units: np.ndarray) -> tuple[list[dict], list[dict]]:
    """Return the units as GeoJSON-like multipolygons and their rings as multilinestrings.

    Built from the coordinate arrays in one pass: ``__geo_interface__``
    walks the coordinates one by one in Python, which took longer than the
    rasterization itself on the full-resolution districts.
    """
    parts, part_unit = shapely.get_parts(units, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coordinates = shapely.get_coordinates(rings).tolist()
    ends = np.cumsum(shapely.get_num_coordinates(rings)).tolist()
    polygons = [{"type": "MultiPolygon", "coordinates": []} for _ in range(len(units))]
    lines = [{"type": "MultiLineString", "coordinates": []} for _ in range(len(units))]
    part_rings: list[list] = [[] for _ in range(len(parts))]
    for start, end, part in zip([0, *ends[:-1]], ends, ring_part.tolist(), strict=True):
        part_rings[part].append(coordinates[start:end])
    for rings_of_part, unit in zip(part_rings, part_unit.tolist(), strict=True):
        polygons[unit]["coordinates"].append(rings_of_part)
        lines[unit]["coordinates"].extend(rings_of_part)
    return polygons, lines


def _cell_sizes(west: float, south: float, east: float, north: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the smallest and the largest (height, width) of index cells over an extent, in metres.

    Measured at the corners, with :data:`_CELL_SIZE_MARGIN` to spare.
    """
    corner_x, corner_y = np.array([west, east, west, east]), np.array([south, south, north, north])
    corners = shapely.points(
        np.concatenate([corner_x, corner_x + INDEX_CELL_DEG, corner_x]),
        np.concatenate([corner_y, corner_y, corner_y - INDEX_CELL_DEG]),
    )
    x, y = shapely.get_coordinates(_project(corners, "distance")).reshape(3, 4, 2).transpose(2, 0, 1)
    sizes = np.stack([np.hypot(x[2] - x[0], y[2] - y[0]), np.hypot(x[1] - x[0], y[1] - y[0])])
    return sizes.min(axis=1) * _CELL_SIZE_MARGIN, sizes.max(axis=1) / _CELL_SIZE_MARGIN


def _burn(shapes: list[dict], options: dict, **kwargs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Burn one shape per unit; return per cell whether one unit or more hold it, and which one.

    Each unit adds :data:`_ONE_UNIT` plus its index: the high bits count the
    units, the low bits name the unit where there is only one.
    """
    values = _ONE_UNIT + np.arange(len(shapes))
    burnt = rasterize(zip(shapes, values), fill=0, merge_alg=MergeAlg.add, dtype="int64", **options, **kwargs)
    return burnt >= _ONE_UNIT, burnt >= 2 * _ONE_UNIT, burnt - _ONE_UNIT


@dataclass(frozen=True)
class _Grid:
    """Units burnt into a grid of square cells in degrees (see the module docstring).

    ``codes`` holds per cell the unit whose interior holds the whole cell and
    its neighbours, :data:`_NEAR_UNIT` minus the only unit surely within the
    tolerance of the whole cell, or :data:`_EXACT`, :data:`_CLOSE` (no unit,
    but maybe one within the tolerance) or :data:`_FAR`.
    """

    west: float
    north: float
    codes: np.ndarray

    @classmethod
    def build(cls, units: np.ndarray, tolerance_m: float) -> _Grid:
        """Burn ``units`` into a new grid.

        Parameters
        ----------
        units : numpy.ndarray of shapely.Geometry
            The unit polygons, lon/lat degrees.
        tolerance_m : float
            Distance within which a unit still counts as near; 0 for none.

        Returns
        -------
        _Grid
            The grid covering the units and a margin around them.
        """
        xmin, ymin, xmax, ymax = shapely.total_bounds(units)
        low, high = _cell_sizes(xmin, ymin, xmax, ymax)
        band = _windows(tolerance_m, low, -2) if tolerance_m > 0 else []
        # Margins wider than the band keep the outermost cells far, so that
        # coordinates clipped onto them read right.
        reach = np.max([*band, (1, 1)], axis=0)
        margin_rows, margin_cols = (reach + 2).tolist()
        west, north = xmin - margin_cols * INDEX_CELL_DEG, ymax + margin_rows * INDEX_CELL_DEG
        shape = (
            int(np.ceil((north - ymin) / INDEX_CELL_DEG)) + margin_rows,
            int(np.ceil((xmax - west) / INDEX_CELL_DEG)) + margin_cols,
        )
        options = {
            "out_shape": shape,
            "transform": Affine(INDEX_CELL_DEG, 0.0, west, 0.0, -INDEX_CELL_DEG, north),
        }
        polygons, lines = _geojson(units)
        covered, overlap, unit = _burn(polygons, options)
        edges, shared, edge_unit = _burn(lines, options, all_touched=True)
        # The smallest integer type holding every code keeps the grid in the caches during lookups.
        dtype = np.min_scalar_type(_NEAR_UNIT - len(units))
        codes = np.where(covered & ~overlap, unit, _FAR).astype(dtype)
        edge_cells = np.flatnonzero(edges)
        if band:
            sure = _windows(tolerance_m, high, 2)
            close, unit = _near_cells(edge_cells, shared, edge_unit, ~covered, band, sure)
            codes[close] = _CLOSE
            codes.ravel()[unit >= 0] = _NEAR_UNIT - unit[unit >= 0]
        exact = np.union1d(edge_cells, np.flatnonzero(overlap))
        codes[_unpack(_grow(_pack(exact, shape), [(1, 1)]), shape[1])] = _EXACT
        return cls(west, north, codes)

    def lookup(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Return the code of the cell holding each point (clipped to the grid).

        Parameters
        ----------
        x, y : numpy.ndarray
            Longitudes and latitudes in degrees.

        Returns
        -------
        numpy.ndarray
            One cell code per point.
        """
        rows, cols = self.codes.shape
        row = np.clip((self.north - y) / INDEX_CELL_DEG, 0, rows - 1).astype(np.intp)
        col = np.clip((x - self.west) / INDEX_CELL_DEG, 0, cols - 1).astype(np.intp)
        return self.codes.ravel()[row * cols + col]


def _near_cells(
    edge_cells: np.ndarray,
    shared: np.ndarray,
    edge_unit: np.ndarray,
    outside: np.ndarray,
    band: list[tuple[int, int]],
    sure: list[tuple[int, int]],
) -> tuple[np.ndarray, np.ndarray]:
    """Find the cells outside every unit that may lie within the tolerance of one.

    Returns the mask of those cells and, flat per cell, the only unit surely
    within the tolerance of the whole cell (-1 for none or several).
    ``band`` and ``sure`` are the windows of :func:`_windows` for the cells
    that may and that surely lie within the tolerance of a boundary cell.
    """
    shape = outside.shape
    # Nearest points lie on boundaries, so the band grows from the cells they touch.
    edges = _pack(edge_cells, shape)
    close = _unpack(_grow(edges, band), shape[1]) & outside
    cells = np.flatnonzero(close)
    cells = cells[_read(_grow(edges, sure), cells, shape[1])]
    # Where the rectangle holding the band's windows holds one unit's
    # boundaries alone, no other unit can be as near.
    rectangle = [tuple(np.max(band, axis=0).tolist())]
    alone, which = _only_unit(edge_cells, shared, edge_unit, rectangle, cells, shape)
    unit = np.full(close.size, -1)
    unit[cells[alone]] = which[alone]
    return close, unit


def _only_unit(
    edge_cells: np.ndarray,
    shared: np.ndarray,
    edge_unit: np.ndarray,
    window: list[tuple[int, int]],
    cells: np.ndarray,
    shape: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    """For the given flat cells, tell whether one unit alone has boundaries within the window, and which.

    The unit index is spread over bit planes: a plane of the boundary cells
    of units with the bit set and one of those with it clear. The window
    holds one unit's boundaries alone where no bit is in both grown planes;
    the grown planes with the bit set then spell its index. Cells touched by
    several boundaries count as both for the lowest bit.
    """
    several = shared.ravel()[edge_cells]
    index = edge_unit.ravel()[edge_cells]
    bits = np.arange(max(1, int(index[~several].max(initial=0)).bit_length()))
    has = ((index[None, :] >> bits[:, None]) & 1).astype(bool) & ~several
    has[0] |= several
    lacks = ~has | several
    planes = np.stack([_pack(edge_cells[chosen], shape) for chosen in (*has, *lacks)])
    grown = _read(_grow(planes, window), cells, shape[1])
    alone = ~(grown[: bits.size] & grown[bits.size :]).any(axis=0)
    return alone, (grown[: bits.size] << bits[:, None]).sum(axis=0)


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
    near = np.flatnonzero(code <= _NEAR_UNIT)
    exact = np.flatnonzero(code == _EXACT)
    unit, point = shapely.STRtree(geometries[exact]).query(units, predicate="intersects")
    interior = shapely.contains_xy(units[unit], x[exact[point]], y[exact[point]])
    pairs = _concat([
        _pairs(features[exact[point]], unit, np.where(interior, _INTERIOR, _CONTACT), interior.astype(float)),
        _pairs(features[near], _NEAR_UNIT - code[near].astype(np.int64), _NEAREST),
    ])
    unrelated = code == _CLOSE
    unrelated[exact] = True
    unrelated[exact[point]] = False
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


def _boundary_pieces(units: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split the units' boundaries into lines of :data:`_PIECE_SEGMENTS` segments; return them and their unit.

    Distances to short pieces are cheap whatever the size of the unit, and
    equal (bit for bit) the smallest distance to their segments.
    """
    rings, ring_unit = shapely.get_parts(shapely.boundary(units), return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    count = np.bincount(ring, minlength=len(rings))
    pieces = (count + _PIECE_SEGMENTS - 2) // _PIECE_SEGMENTS
    piece_ring = np.repeat(np.arange(len(rings)), pieces)
    last = (np.cumsum(count) - 1)[piece_ring]
    first = np.repeat(np.cumsum(count) - count, pieces)
    start = first + _ranges(np.zeros_like(pieces), pieces) * _PIECE_SEGMENTS
    size = np.minimum(start + _PIECE_SEGMENTS, last) - start + 1
    lines = shapely.linestrings(xy[_ranges(start, size)], indices=np.repeat(np.arange(size.size), size))
    return lines, ring_unit[piece_ring]


def _near_pairs(
    geometries: np.ndarray, features: np.ndarray, units: np.ndarray, tolerance_m: float
) -> _Pairs:
    """Relate features touching no unit to the nearest units within ``tolerance_m`` metres."""
    if features.size == 0:
        return _pairs([], [], _NEAREST)
    metric_units = _project(units, "distance")
    points = _project(geometries, "distance")
    # The prepared boundaries give each feature's distance to the nearest unit
    # quickly (an indexed facet search), but rounded in their own way: the
    # pieces within a hair of it are then measured as the exact method does.
    boundaries = shapely.multilinestrings(shapely.get_parts(shapely.boundary(metric_units)))
    shapely.prepare(boundaries)
    nearest = shapely.length(shapely.shortest_line(boundaries, points))
    reach = nearest * (1 + _ROUNDING) + _ROUNDING_M
    close = np.flatnonzero(nearest <= tolerance_m * (1 + _ROUNDING) + _ROUNDING_M)
    pieces, piece_unit = _boundary_pieces(metric_units)
    tree = shapely.STRtree(pieces)
    point, piece = tree.query(points[close], predicate="dwithin", distance=reach[close])
    distance = shapely.distance(points[close[point]], pieces[piece])
    within = distance <= tolerance_m
    return _pairs(
        features[close[point[within]]], piece_unit[piece[within]], _NEAREST, 0.0, distance[within]
    )


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
