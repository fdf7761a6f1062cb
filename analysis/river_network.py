"""River network analysis: a directed reach graph of the ``rivers`` layer, upstream and downstream tracing.

Graph
-----
:func:`build_graph` works in the conformal CRS of
:func:`cqgis.geo.crs.metric_crs`. A tributary of the ``rivers`` layer ends
on its main river, usually in the middle of the main river's line, so every
line is first cut where the end of another line lies on it (within
:data:`JOIN_TOLERANCE_M`; cuts closer together than the tolerance count as
one). The pieces' end points closer than the tolerance are then one node
(clustered transitively), and every piece is an edge carrying its reach
(``reach``: row position in the layer, ``river_id``, ``name``), its metric
``geometry`` running downstream, ``length_m`` and how its direction is
known (``direction``: ``data``, ``inferred`` or ``undecided``).

Direction
---------
Reaches with ``oriented`` true run downstream as drawn. The direction of
the other reaches (unnamed WDB reaches, drawn in an arbitrary direction) is
inferred from the network, one reach at a time, with two rules that follow
from water leaving a confluence by a single channel:

1. **Joining.** An undecided reach touching a node that a decided reach
   leaves flows into that node. An unnamed reach meeting a named, oriented
   river (at the river's head or anywhere along it) is thus its tributary,
   and chains of unnamed reaches are resolved outwards from the named
   rivers.
2. **Continuing.** At a node that decided reaches enter and none leaves,
   a single undecided reach there is the way out and flows away from it.

The rules are applied until nothing changes. All pieces of one reach share
its direction; a reach that the rules would turn both ways (an unnamed
reach linking two rivers), or that no rule reaches, stays ``undecided``:
it is kept as two opposite edges flagged ``decided`` false, which the
tracing functions do not follow, and listed in ``graph.graph["undecided"]``.

Tracing
-------
:func:`upstream` and :func:`downstream` start from a point, snapped to the
nearest reach within a tolerance (:func:`snap`), or from a reach, which
stands for its downstream end (its mouth): the upstream of a reach is the
reach itself and everything flowing into it. The reach holding the point
is cut there (``shapely.line_locate_point`` / ``shapely.ops.substring``).
The network only covers the ``rivers`` layer, that is Chongqing and a belt
of about 100 km around it: upstream tracing stops at the edge of that belt.
"""

from __future__ import annotations

import difflib
from typing import NamedTuple

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.ops import substring

from cqgis import config
from cqgis.analysis import provenance
from cqgis.analysis.errors import AnalysisError
from cqgis.geo import crs

#: Line ends (and an end and a line) closer than this are one node, in metres.
#: The ``rivers`` layer closes gaps up to 500 m but then drops slivers, which
#: leaves gaps of ~130 m where a sliver joined two reaches.
JOIN_TOLERANCE_M = 250.0

#: Farthest a point may lie from the reach it is snapped to, in metres. Section
#: points are town seats, typically 0.1-2.5 km from the river line.
DEFAULT_SNAP_M = 5_000.0

#: Values of the edges' ``direction`` attribute.
DIRECTIONS = ("data", "inferred", "undecided")

CHONGQING = "重庆市"
SICHUAN = "四川省"


class Snapped(NamedTuple):
    """A point snapped onto a reach: the reach's row position, ``river_id`` and name, the gap and the foot."""

    position: int
    river_id: int
    name: str
    distance_m: float
    along_m: float
    foot: shapely.Point


def _metric_lines(rivers: gpd.GeoDataFrame) -> np.ndarray:
    return rivers.geometry.to_crs(crs.metric_crs("distance")).to_numpy()


def _to_metric(point: shapely.Point) -> shapely.Point:
    return gpd.GeoSeries([point], crs=config.STORAGE_CRS).to_crs(crs.metric_crs("distance")).iloc[0]


def _candidates(rivers: gpd.GeoDataFrame, river: str | None) -> np.ndarray:
    """Row positions a point may snap to: the named river, else only unnamed reaches, else all."""
    names = rivers["name"].fillna("").to_numpy(str)
    if not river:
        return np.arange(len(rivers))
    if river in names:
        return np.flatnonzero(names == river)
    # A river missing from the layer may be one of its unnamed reaches, never another named river.
    return np.flatnonzero(names == "")


def _candidate_label(rivers: gpd.GeoDataFrame, river: str | None) -> str:
    """Describe the reaches :func:`_candidates` offers, for error messages."""
    if river is None:
        return "reach"
    if river in set(rivers["name"]):
        return f"reach of {river}"
    return f"unnamed reach (no {river} in the rivers layer)"


def snap(
    point: shapely.Point, rivers: gpd.GeoDataFrame, tolerance_m: float = DEFAULT_SNAP_M, river: str | None = None
) -> Snapped:
    """Snap a point to the nearest reach within a tolerance.

    Parameters
    ----------
    point : shapely.Point
        Longitude and latitude (WGS84).
    rivers : geopandas.GeoDataFrame
        The ``rivers`` layer.
    tolerance_m : float
        Farthest the reach may be, in metres (conformal CRS).
    river : str, optional
        The river the point is on: only its reaches are candidates when the
        layer names it, otherwise only unnamed reaches.

    Returns
    -------
    Snapped
        The reach, the distance to it and the foot of the point on it
        (``along_m`` metres from the reach's first point, metric CRS).

    Raises
    ------
    AnalysisError
        When no candidate reach lies within ``tolerance_m``.
    """
    river = river if isinstance(river, str) and river else None
    where = _to_metric(point)
    candidates = _candidates(rivers, river)
    lines = _metric_lines(rivers.iloc[candidates])
    gaps = shapely.distance(where, lines)
    if not len(gaps) or gaps.min() > tolerance_m:
        msg = (
            f"no {_candidate_label(rivers, river)} within {tolerance_m / 1000:g} km of ({point.x:.5f}, {point.y:.5f})"
            + (f"; the nearest is {gaps.min() / 1000:.1f} km away" if len(gaps) else "")
        )
        raise AnalysisError(msg)
    best = int(np.argmin(gaps))
    line = lines[best]
    along = float(shapely.line_locate_point(line, where))
    row = rivers.iloc[candidates[best]]
    return Snapped(
        int(candidates[best]), int(row["river_id"]), str(row["name"] or ""), float(gaps[best]), along,
        shapely.line_interpolate_point(line, along),
    )


def _cut_positions(lines: np.ndarray, tolerance_m: float) -> list[np.ndarray]:
    """Return, per line, where along it other lines' ends lie on it (away from its own ends)."""
    ends = np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1)])
    owner = np.tile(np.arange(len(lines)), 2)
    end_idx, line_idx = shapely.STRtree(lines).query(ends, predicate="dwithin", distance=tolerance_m)
    other = line_idx != owner[end_idx]
    end_idx, line_idx = end_idx[other], line_idx[other]
    along = shapely.line_locate_point(lines[line_idx], ends[end_idx])
    inner = (along > tolerance_m) & (along < shapely.length(lines[line_idx]) - tolerance_m)
    cuts = []
    for k in range(len(lines)):
        found = np.sort(along[inner & (line_idx == k)])
        # Cuts closer than the tolerance would make pieces that collapse into one node.
        keep = np.concatenate([[True], np.diff(found) > tolerance_m]) if found.size else found.astype(bool)
        cuts.append(found[keep])
    return cuts


def _pieces(lines: np.ndarray, tolerance_m: float) -> pd.DataFrame:
    """Cut the lines where other lines end on them: one row per piece (reach, start, stop, geometry)."""
    rows = []
    for k, (line, cuts) in enumerate(zip(lines, _cut_positions(lines, tolerance_m))):
        bounds = np.concatenate([[0.0], cuts, [line.length]])
        rows.extend(
            {"reach": k, "start": a, "stop": b, "geometry": substring(line, a, b)} for a, b in zip(bounds[:-1], bounds[1:])
        )
    return pd.DataFrame(rows)


def _nodes(pieces: pd.DataFrame, tolerance_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cluster the pieces' end points; return each piece's start and end node and the nodes' (x, y)."""
    geoms = pieces["geometry"].to_numpy()
    ends = np.concatenate([shapely.get_point(geoms, 0), shapely.get_point(geoms, -1)])
    left, right = shapely.STRtree(ends).query(ends, predicate="dwithin", distance=tolerance_m)
    near = nx.Graph()
    near.add_nodes_from(range(len(ends)))
    near.add_edges_from(zip(left.tolist(), right.tolist()))
    label = np.empty(len(ends), dtype=int)
    for node, members in enumerate(sorted(map(sorted, nx.connected_components(near)))):
        label[members] = node
    # Each node sits at its lowest-numbered end, so the result does not depend on search order.
    first = np.unique(label, return_index=True)[1]
    return label[: len(geoms)], label[len(geoms) :], shapely.get_coordinates(ends[first])


def _votes(up: np.ndarray, down: np.ndarray, sign: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Return, per piece, whether a rule says it runs as drawn and whether one says it runs backwards."""
    decided = sign != 0
    source = np.where(sign > 0, up, down)[decided]
    mouth = np.where(sign > 0, down, up)[decided]
    leaving = np.bincount(source, minlength=n_nodes)
    entering = np.bincount(mouth, minlength=n_nodes)
    open_ = ~decided
    undecided = np.bincount(up[open_], minlength=n_nodes) + np.bincount(down[open_], minlength=n_nodes)
    exit_only = (entering > 0) & (leaving == 0) & (undecided == 1)
    forward = open_ & ((leaving[down] > 0) | exit_only[up])
    backward = open_ & ((leaving[up] > 0) | exit_only[down])
    return forward, backward


def infer_directions(
    up: np.ndarray, down: np.ndarray, reach: np.ndarray, oriented: np.ndarray, n_nodes: int
) -> np.ndarray:
    """Infer which way each reach runs from the known ones (see the module docstring).

    Parameters
    ----------
    up, down : numpy.ndarray of int
        Start and end node of every piece, as drawn.
    reach : numpy.ndarray of int
        The reach each piece belongs to.
    oriented : numpy.ndarray of bool
        Per reach: whether it is drawn downstream.
    n_nodes : int
        Number of nodes.

    Returns
    -------
    numpy.ndarray of int
        Per reach: 1 as drawn, -1 backwards, 0 undecided (no rule, or rules both ways).
    """
    sign = np.where(oriented, 1, 0)
    while True:
        forward, backward = _votes(up, down, sign[reach], n_nodes)
        ahead = np.bincount(reach[forward], minlength=len(sign)) > 0
        behind = np.bincount(reach[backward], minlength=len(sign)) > 0
        new = np.where((sign == 0) & ahead & ~behind, 1, np.where((sign == 0) & behind & ~ahead, -1, sign))
        if np.array_equal(new, sign):
            return sign
        sign = new


def _oriented_piece(piece: pd.Series, sign: int) -> tuple[shapely.LineString, float, float]:
    """Return a piece's line running downstream (as drawn when undecided) and its ends' distances along the reach."""
    if sign < 0:
        return shapely.reverse(piece["geometry"]), piece["stop"], piece["start"]
    return piece["geometry"], piece["start"], piece["stop"]


def _add_edge(graph: nx.DiGraph, a: int, b: int, attributes: dict) -> None:
    """Add one edge, or two opposite ones when it is undecided."""
    graph.add_edge(a, b, **attributes)
    if not attributes["decided"]:
        graph.add_edge(b, a, **attributes)


def _add_piece(graph: nx.DiGraph, a: int, b: int, attributes: dict) -> None:
    """Add a piece from node ``a`` to ``b``, split at its middle when the two nodes are already linked."""
    if not (graph.has_edge(a, b) or graph.has_edge(b, a)):
        _add_edge(graph, a, b, attributes)
        return
    # A DiGraph holds one edge per node pair: a second channel between two nodes gets a node of its own.
    line, first, last = attributes["geometry"], attributes["up_along"], attributes["down_along"]
    middle, half = graph.number_of_nodes(), line.length / 2
    x, y = shapely.get_coordinates(shapely.line_interpolate_point(line, half))[0]
    graph.add_node(middle, x=x, y=y)
    at = (first + last) / 2
    halves = (
        (a, middle, substring(line, 0, half), first, at),
        (middle, b, substring(line, half, line.length), at, last),
    )
    for u, v, part, p, q in halves:
        _add_edge(graph, u, v, {**attributes, "geometry": part, "length_m": part.length, "up_along": p, "down_along": q})


def build_graph(rivers: gpd.GeoDataFrame, tolerance_m: float = JOIN_TOLERANCE_M) -> nx.DiGraph:
    """Build the directed reach graph of a ``rivers`` layer (see the module docstring).

    Parameters
    ----------
    rivers : geopandas.GeoDataFrame
        The ``rivers`` layer (``river_id``, ``name``, ``oriented`` ...).
    tolerance_m : float
        Ends and confluences closer than this many metres are one node.

    Returns
    -------
    networkx.DiGraph
        Nodes are integers with metric ``x`` and ``y``; edges carry
        ``reach`` (row position in ``rivers``), ``river_id``, ``name``,
        ``geometry`` (metric, downstream), ``length_m``, ``up_along`` and
        ``down_along`` (metres along the reach's own line), ``decided`` and
        ``direction`` (one of :data:`DIRECTIONS`). ``graph.graph`` holds
        ``rivers`` (the layer, re-indexed), ``lines`` (its metric lines),
        ``signs`` (per reach: 1 drawn downstream, -1 backwards, 0
        undecided), ``undecided`` (their river ids) and ``tolerance_m``.
    """
    frame = rivers.reset_index(drop=True)
    lines = _metric_lines(frame)
    pieces = _pieces(lines, tolerance_m)
    up, down, xy = _nodes(pieces, tolerance_m)
    # A piece shorter than the tolerance has collapsed into a single node.
    keep = up != down
    pieces, up, down = pieces[keep].reset_index(drop=True), up[keep], down[keep]
    oriented = frame["oriented"].fillna(False).to_numpy(bool)
    signs = infer_directions(up, down, pieces["reach"].to_numpy(), oriented, len(xy))
    undecided = frame["river_id"].to_numpy()[(signs == 0) & np.isin(np.arange(len(frame)), pieces["reach"])]
    graph = nx.DiGraph(
        rivers=frame, lines=lines, signs=signs, undecided=sorted(undecided.tolist()), tolerance_m=tolerance_m
    )
    graph.add_nodes_from((i, {"x": x, "y": y}) for i, (x, y) in enumerate(xy))
    for k, piece in pieces.iterrows():
        sign = int(signs[piece["reach"]])
        line, first, last = _oriented_piece(piece, sign)
        a, b = (down[k], up[k]) if sign < 0 else (up[k], down[k])
        row = frame.iloc[piece["reach"]]
        _add_piece(graph, int(a), int(b), {
            "reach": int(piece["reach"]),
            "river_id": int(row["river_id"]),
            "name": str(row["name"] or ""),
            "geometry": line,
            "length_m": line.length,
            "up_along": first,
            "down_along": last,
            "decided": sign != 0,
            "direction": DIRECTIONS[0] if oriented[piece["reach"]] else DIRECTIONS[1] if sign else DIRECTIONS[2],
        })
    return graph


def _find_reach(rivers: gpd.GeoDataFrame, target: int | str) -> int:
    """Return the row position of a reach given by ``river_id`` or by name."""
    column = "name" if isinstance(target, str) else "river_id"
    hits = np.flatnonzero(rivers[column].to_numpy() == target)
    if hits.size == 1:
        return int(hits[0])
    if hits.size > 1:
        msg = f"{target} names {hits.size} reaches of the rivers layer; give a river_id"
        raise AnalysisError(msg)
    names = [n for n in dict.fromkeys(rivers["name"].fillna("")) if n]
    close = difflib.get_close_matches(str(target), names, n=5, cutoff=0.0) if column == "name" else []
    hint = f"; close names: {'、'.join(close)}" if close else ""
    msg = f"no reach {column} = {target} in the rivers layer{hint}"
    raise AnalysisError(msg)


def _locate(graph: nx.DiGraph, target: object, tolerance_m: float, river: str | None) -> tuple[int, float, bool]:
    """Return the reach position, the metres along its line where tracing starts and whether a point was given."""
    rivers = graph.graph["rivers"]
    if isinstance(target, Snapped):
        return target.position, target.along_m, True
    if isinstance(target, shapely.Point):
        found = snap(target, rivers, tolerance_m, river)
        return found.position, found.along_m, True
    position = _find_reach(rivers, target)
    sign = graph.graph["signs"][position]
    if sign == 0:
        msg = f"reach {target} has no known direction, so it has no downstream end to trace from"
        raise AnalysisError(msg)
    # A reach stands for its mouth.
    return position, graph.graph["lines"][position].length if sign > 0 else 0.0, False


def _split(graph: nx.DiGraph, position: int, along: float) -> tuple[tuple[int, int], shapely.Geometry, shapely.Geometry]:
    """Find the edge of reach ``position`` holding the point ``along`` metres along it; cut the edge there."""
    for a, b, data in graph.edges(data=True):
        low, high = sorted((data["up_along"], data["down_along"]))
        if data["reach"] == position and low <= along <= high:
            if not data["decided"]:
                msg = (f"reach {data['river_id']} ({data['name'] or '无名河段'}) has no known direction: "
                       "it links rivers both ways or touches no oriented river")
                raise AnalysisError(msg)
            line = data["geometry"]
            cut = abs(along - data["up_along"])
            return (a, b), substring(line, 0, cut), substring(line, cut, line.length)
    msg = f"reach {graph.graph['rivers']['river_id'].iat[position]} is not part of the network (shorter than the tolerance)"
    raise AnalysisError(msg)


def _decided(graph: nx.DiGraph) -> nx.DiGraph:
    return nx.subgraph_view(graph, filter_edge=lambda a, b: graph[a][b]["decided"])


def _frame(graph: nx.DiGraph, parts: list[tuple[int, shapely.Geometry]]) -> gpd.GeoDataFrame:
    """Assemble pieces of reaches into rows of the rivers layer, each reach's pieces merged downstream."""
    rivers = graph.graph["rivers"]
    kept = pd.DataFrame(parts, columns=["reach", "geometry"])
    kept = kept[(shapely.get_type_id(kept["geometry"].to_numpy()) == shapely.GeometryType.LINESTRING)
                & (shapely.length(kept["geometry"].to_numpy()) > 0)]
    grouped = kept.groupby("reach", sort=True)["geometry"]
    merged = grouped.agg(lambda lines: shapely.line_merge(shapely.multilinestrings(lines.to_numpy()), directed=True))
    positions = merged.index.to_numpy(int)
    lines = merged.to_numpy()
    lengths = shapely.length(lines)
    full = shapely.length(graph.graph["lines"][positions])
    out = rivers.iloc[positions].copy()
    out["length_km"] = lengths / 1000.0
    out["partial"] = lengths < full - graph.graph["tolerance_m"]
    out = out.set_geometry(gpd.GeoSeries(lines, index=out.index, crs=crs.metric_crs("distance")).to_crs(config.STORAGE_CRS))
    return out.sort_values("river_id").reset_index(drop=True)


def _trace(graph: nx.DiGraph, target: object, tolerance_m: float, river: str | None, up: bool) -> gpd.GeoDataFrame:
    position, along, is_point = _locate(graph, target, tolerance_m, river)
    (a, b), above, below = _split(graph, position, along)
    network = _decided(graph)
    part, beyond = (above, below) if up else (below, above)
    # A point on a node traces from the node itself, so every reach meeting there counts;
    # a reach's mouth does not take in the river it flows into.
    on_node = is_point and shapely.length(beyond) == 0
    start = (b if on_node else a) if up else (a if on_node else b)
    if up:
        edges = network.in_edges(nx.ancestors(network, start) | {start}, data=True)
    else:
        edges = network.out_edges(nx.descendants(network, start) | {start}, data=True)
    parts = [(d["reach"], d["geometry"]) for u, v, d in edges if on_node or (u, v) != (a, b)]
    return _frame(graph, parts if on_node else [*parts, (position, part)])


def upstream(
    graph: nx.DiGraph, target: object, tolerance_m: float = DEFAULT_SNAP_M, river: str | None = None
) -> gpd.GeoDataFrame:
    """Return the reaches upstream of a point or of a reach's mouth.

    Parameters
    ----------
    graph : networkx.DiGraph
        Output of :func:`build_graph`.
    target : shapely.Point, Snapped, int or str
        A lon/lat point (snapped with :func:`snap`), an already snapped
        point, a ``river_id`` or a river name (its mouth).
    tolerance_m : float
        Snapping tolerance for a point, in metres.
    river : str, optional
        The river a point is on (see :func:`snap`).

    Returns
    -------
    geopandas.GeoDataFrame
        Rows of the rivers layer (EPSG:4326), each reach reduced to its part
        upstream of the point and oriented downstream; ``length_km`` is that
        part's length and ``partial`` tells whether it is cut.

    Raises
    ------
    AnalysisError
        When the point is too far from a reach, the reach is unknown or its
        direction is undecided.
    """
    return _trace(graph, target, tolerance_m, river, up=True)


def downstream(
    graph: nx.DiGraph, target: object, tolerance_m: float = DEFAULT_SNAP_M, river: str | None = None
) -> gpd.GeoDataFrame:
    """Return the reaches downstream of a point or of a reach's mouth.

    Parameters
    ----------
    graph : networkx.DiGraph
        Output of :func:`build_graph`.
    target : shapely.Point, Snapped, int or str
        A lon/lat point (snapped with :func:`snap`), an already snapped
        point, a ``river_id`` or a river name (its mouth).
    tolerance_m : float
        Snapping tolerance for a point, in metres.
    river : str, optional
        The river a point is on (see :func:`snap`).

    Returns
    -------
    geopandas.GeoDataFrame
        As for :func:`upstream`, with the parts of the reaches below the point.

    Raises
    ------
    AnalysisError
        When the point is too far from a reach, the reach is unknown or its
        direction is undecided.
    """
    return _trace(graph, target, tolerance_m, river, up=False)


def _areas(districts: gpd.GeoDataFrame, neighbors: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Chongqing districts, Sichuan prefectures (from their counties) and the other provinces, in the metric CRS."""
    metric = crs.metric_crs("distance")
    columns = ["level", "name", "province", "precision", "source", "geometry"]
    own = districts.to_crs(metric).assign(level="区县", province=CHONGQING)
    counties = neighbors[neighbors["level"] == "区县"].to_crs(metric)
    prefectures = counties.dissolve(
        by=["province", "prefecture"], aggfunc={"precision": provenance.weakest, "source": provenance.join_sources}
    ).reset_index()
    prefectures = prefectures.rename(columns={"prefecture": "name"}).assign(level="地市")
    provinces = neighbors[neighbors["level"] == "省"].to_crs(metric).assign(level="省")
    parts = [own[columns], prefectures[columns], provinces[columns]]
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=metric)


def reach_areas(reaches: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, neighbors: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the length of river in each Chongqing district, Sichuan prefecture and neighbouring province.

    Parameters
    ----------
    reaches : geopandas.GeoDataFrame
        River lines with ``precision`` and ``source``, e.g. from :func:`upstream`.
    districts, neighbors : geopandas.GeoDataFrame
        The ``districts`` and ``neighbors`` layers.

    Returns
    -------
    pandas.DataFrame
        One row per area the lines pass through: ``level`` (区县 for
        Chongqing districts, 地市 for Sichuan prefectures, 省 for the other
        provinces), ``name``, ``province``, ``length_km`` inside it
        (conformal CRS), ``precision`` (weakest of the lines and the area)
        and ``source``; Chongqing first, then Sichuan, then by province and
        length.
    """
    lines = reaches.geometry.to_crs(crs.metric_crs("distance")).to_numpy()
    areas = _areas(districts, neighbors)
    polygons = areas.geometry.to_numpy()
    area_idx, line_idx = shapely.STRtree(lines).query(polygons, predicate="intersects")
    length = shapely.length(shapely.intersection(lines[line_idx], polygons[area_idx])) / 1000.0
    pairs = areas.drop(columns="geometry").iloc[area_idx].reset_index(drop=True).assign(length_km=length)
    precisions = zip(pairs["precision"], reaches["precision"].to_numpy()[line_idx])
    sources = zip(pairs["source"], reaches["source"].to_numpy()[line_idx])
    pairs["precision"] = [provenance.weakest(p) for p in precisions]
    pairs["source"] = [provenance.join_sources(s) for s in sources]
    pairs = pairs[pairs["length_km"] > 0]
    keys = ["level", "name", "province"]
    lengths = pairs.groupby(keys, sort=False)["length_km"].sum().to_frame()
    out = lengths.join(provenance.summarise(pairs, keys)).reset_index()
    out["rank"] = out["province"].map({CHONGQING: 0, SICHUAN: 1}).fillna(2)
    out = out.sort_values(["rank", "province", "length_km"], ascending=[True, True, False])
    return out.drop(columns="rank").reset_index(drop=True)


def upstream_areas(
    section: pd.Series | shapely.Point,
    graph: nx.DiGraph,
    rivers: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    neighbors: gpd.GeoDataFrame,
    tolerance_m: float = DEFAULT_SNAP_M,
) -> pd.DataFrame:
    """Return the districts, Sichuan prefectures and provinces the river upstream of a section passes through.

    Parameters
    ----------
    section : pandas.Series or shapely.Point
        A row of the ``sections`` layer (its point, snapped to its ``river``)
        or a lon/lat point.
    graph : networkx.DiGraph
        Output of :func:`build_graph` for ``rivers``.
    rivers : geopandas.GeoDataFrame
        The ``rivers`` layer the point is snapped to.
    districts, neighbors : geopandas.GeoDataFrame
        The ``districts`` and ``neighbors`` layers.
    tolerance_m : float
        Snapping tolerance in metres.

    Returns
    -------
    pandas.DataFrame
        As :func:`reach_areas`, for the reaches upstream of the section.

    Raises
    ------
    AnalysisError
        When the section is too far from its river or the reach there has no known direction.
    """
    point, river = (section, None) if isinstance(section, shapely.Point) else (section.geometry, section.get("river"))
    return reach_areas(upstream(graph, snap(point, rivers, tolerance_m, river)), districts, neighbors)
