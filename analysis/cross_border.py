"""Cross-border sections: monitoring sections near the Chongqing–Sichuan border on rivers that cross it, with their direction.

Rule
----
A section is **cross-border** when it lies within ``distance_m`` (default
:data:`DEFAULT_DISTANCE_M`, 15 km, measured in the conformal CRS of
:func:`cqgis.geo.crs.metric_crs`) of the ``border`` layer and its river
crosses that border. Its river is the reach its point snaps to
(:func:`cqgis.analysis.river_network.snap`: a reach of the section's
``river`` when the ``rivers`` layer has it, otherwise an unnamed reach,
within ``tolerance_m``); when no reach is near enough, the section data's
``cross_border`` flag stands in for the geometry.

Direction
---------
The reach is cut where it meets the border; every stretch between two
cuts lies on one side (its midpoint decides: 重庆 inside the districts,
四川 inside the Sichuan counties). A cut between a Sichuan and a
Chongqing stretch is a crossing: 川入渝 when the downstream stretch is in
Chongqing, 渝入川 when it is in Sichuan. The direction of a section is that
of the crossing nearest to it (``direction_source`` ``geometry``) when the
reach's downstream direction is known (an oriented river, or an unnamed
reach whose direction :mod:`cqgis.analysis.river_network` inferred);
otherwise it is the section data's ``direction`` (``data``). ``agrees``
compares the two where both exist: a check of the data.

Limits: ``side`` is the side of the section's *placed* point; sections in
Sichuan that the layer places at the first Chongqing town downstream count
as 重庆. Rivers missing from the ``rivers`` layer (too small for WDB II)
are only known from the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from cqgis import config
from cqgis.analysis import provenance, river_network
from cqgis.analysis.errors import AnalysisError
from cqgis.geo import crs

#: Farthest a section may lie from the Chongqing–Sichuan border and count as cross-border, in metres.
DEFAULT_DISTANCE_M = 15_000.0

#: Border cuts closer than this along a river are one crossing, in metres.
SAME_CROSSING_M = 100.0

SICHUAN_SIDE, CHONGQING_SIDE = "四川", "重庆"
INTO_CHONGQING, INTO_SICHUAN = "川入渝", "渝入川"
GEOMETRY, DATA = "geometry", "data"

#: Chinese headers of the per-section table.
SECTION_LABELS: Mapping[str, str] = MappingProxyType({
    "code": "断面编码",
    "name": "断面名称",
    "river": "河流",
    "reach_id": "河段编号",
    "distance_to_border_km": "距川渝边界(km)",
    "side": "所在一侧",
    "cross_border": "跨界(几何判定)",
    "cross_border_data": "跨界(数据)",
    "direction": "流向",
    "direction_source": "流向依据",
    "direction_geometry": "流向(几何)",
    "direction_data": "流向(数据)",
    "agrees": "几何与数据一致",
    "crossing_lon": "交界点经度",
    "crossing_lat": "交界点纬度",
    "precision": "精度",
    "source": "来源",
})

#: Chinese headers of the per-river table.
RIVER_LABELS: Mapping[str, str] = MappingProxyType({
    "river": "河流",
    "crossing_lon": "交界点经度",
    "crossing_lat": "交界点纬度",
    "direction": "流向",
    "upstream_side": "上游一侧",
    "sections_in_sichuan": "四川一侧断面",
    "sections_in_chongqing": "重庆一侧断面",
    "precision": "精度",
    "source": "来源",
})

_UPSTREAM_SIDE: Mapping[str, str] = MappingProxyType({INTO_CHONGQING: SICHUAN_SIDE, INTO_SICHUAN: CHONGQING_SIDE})


def _union(frame: gpd.GeoDataFrame) -> shapely.Geometry:
    geometry = shapely.union_all(frame.to_crs(crs.metric_crs("distance")).geometry.to_numpy())
    shapely.prepare(geometry)
    return geometry


def _sides(points: np.ndarray, chongqing: shapely.Geometry, sichuan: shapely.Geometry) -> np.ndarray:
    """Return 重庆, 四川 or '' (neither) for each metric point."""
    return np.where(
        shapely.covers(chongqing, points), CHONGQING_SIDE, np.where(shapely.covers(sichuan, points), SICHUAN_SIDE, "")
    )


def _neighbour_side(sides: np.ndarray, step: int) -> np.ndarray:
    """Return, per stretch, the nearest non-empty side looking forward (step 1) or back (-1), itself included."""
    order = np.arange(len(sides))[::step]
    filled = pd.Series(np.where(sides[order] == "", None, sides[order])).ffill().fillna("").to_numpy(str)
    return filled[::step]


def river_crossings(
    line: shapely.LineString, border: shapely.Geometry, chongqing: shapely.Geometry, sichuan: shapely.Geometry
) -> pd.DataFrame:
    """Find where a downstream-oriented line crosses the Chongqing–Sichuan border, and which way.

    Parameters
    ----------
    line : shapely.LineString
        A river line in the metric CRS, first point upstream.
    border : shapely.Geometry
        The border lines, metric CRS.
    chongqing, sichuan : shapely.Geometry
        The two territories, metric CRS.

    Returns
    -------
    pandas.DataFrame
        One row per crossing, upstream first: ``along_m``, ``x``, ``y``
        (metric), ``direction`` (川入渝 / 渝入川). Places where the line
        touches the border without changing side are left out.
    """
    hits = shapely.get_parts(shapely.intersection(line, border))
    along = np.sort(shapely.line_locate_point(line, shapely.point_on_surface(hits))) if hits.size else np.empty(0)
    along = along[np.concatenate([[True], np.diff(along) > SAME_CROSSING_M])] if along.size else along
    bounds = np.concatenate([[0.0], along, [line.length]])
    middles = shapely.line_interpolate_point(line, (bounds[:-1] + bounds[1:]) / 2)
    sides = _sides(middles, chongqing, sichuan)
    before, after = _neighbour_side(sides, 1)[:-1], _neighbour_side(sides, -1)[1:]
    crossing = (before != after) & (before != "") & (after != "")
    xy = shapely.get_coordinates(shapely.line_interpolate_point(line, along[crossing]))
    return pd.DataFrame(
        {
            "along_m": along[crossing],
            "x": xy[:, 0],
            "y": xy[:, 1],
            "direction": np.where(after[crossing] == CHONGQING_SIDE, INTO_CHONGQING, INTO_SICHUAN),
        }
    )


def _reach_line(graph: nx.DiGraph, position: int) -> tuple[shapely.LineString, bool]:
    """Return a reach's metric line running downstream (as drawn when unknown) and whether its direction is known."""
    line = graph.graph["lines"][position]
    sign = graph.graph["signs"][position]
    return (shapely.reverse(line) if sign < 0 else line), bool(sign)


def _lonlat(x: float, y: float) -> tuple[float, float]:
    point = gpd.GeoSeries([shapely.Point(x, y)], crs=crs.metric_crs("distance")).to_crs(config.STORAGE_CRS).iloc[0]
    return round(point.x, 5), round(point.y, 5)


def _geometry_facts(
    point: shapely.Point, section: pd.Series, graph: nx.DiGraph, territory: tuple, tolerance_m: float
) -> dict:
    """Snap a section to its reach and read the crossing nearest to it; empty when no reach is near."""
    try:
        snapped = river_network.snap(section.geometry, graph.graph["rivers"], tolerance_m, section.get("river"))
    except AnalysisError:
        return {}
    line, known = _reach_line(graph, snapped.position)
    crossings = river_crossings(line, *territory)
    reach = graph.graph["rivers"].iloc[snapped.position]
    facts = {
        "reach_id": snapped.river_id,
        "crosses": not crossings.empty,
        "reach_precision": reach["precision"],
        "reach_source": reach["source"],
    }
    if crossings.empty:
        return facts
    gap = shapely.distance(point, shapely.points(crossings[["x", "y"]].to_numpy()))
    nearest = crossings.iloc[int(np.argmin(gap))]
    facts["crossing_lon"], facts["crossing_lat"] = _lonlat(nearest["x"], nearest["y"])
    facts["direction_geometry"] = nearest["direction"] if known else None
    return facts


def _section_row(section: pd.Series, facts: dict, near: bool, side: str) -> dict:
    data_direction = section.get("direction") if isinstance(section.get("direction"), str) else None
    data_flag = bool(section.get("cross_border")) if pd.notna(section.get("cross_border")) else False
    geometry_direction = facts.get("direction_geometry")
    crosses = facts["crosses"] if "crosses" in facts else data_flag
    direction = geometry_direction or data_direction
    # A section with no reach near it has no reach precision to weigh.
    reach = [facts["reach_precision"]] if "reach_precision" in facts else []
    return {
        "code": section.get("code"),
        "name": section.get("name"),
        "river": section.get("river"),
        "reach_id": facts.get("reach_id"),
        "side": side,
        "cross_border": near and crosses,
        "cross_border_data": data_flag,
        "direction": direction,
        "direction_source": GEOMETRY if geometry_direction else DATA if data_direction else None,
        "direction_geometry": geometry_direction,
        "direction_data": data_direction,
        "agrees": (geometry_direction == data_direction) if geometry_direction and data_direction else None,
        "crossing_lon": facts.get("crossing_lon"),
        "crossing_lat": facts.get("crossing_lat"),
        "precision": provenance.weakest([section.get("precision"), *reach]),
        "source": provenance.join_sources([section.get("source"), facts.get("reach_source")]),
    }


def cross_border_sections(
    sections: gpd.GeoDataFrame,
    rivers: gpd.GeoDataFrame,
    border: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    neighbors: gpd.GeoDataFrame,
    distance_m: float = DEFAULT_DISTANCE_M,
    tolerance_m: float = river_network.DEFAULT_SNAP_M,
    graph: nx.DiGraph | None = None,
) -> pd.DataFrame:
    """Find the cross-border sections and their direction (see the module docstring).

    Parameters
    ----------
    sections, rivers, border, districts, neighbors : geopandas.GeoDataFrame
        The layers of those names (or users' files standing in for them).
    distance_m : float
        Farthest a section may lie from the border, in metres.
    tolerance_m : float
        Farthest a section may lie from its reach, in metres.
    graph : networkx.DiGraph, optional
        :func:`cqgis.analysis.river_network.build_graph` of ``rivers``
        (built when not given).

    Returns
    -------
    pandas.DataFrame
        One row per section that is cross-border by the rule or by the
        data's ``cross_border`` flag: ``code``, ``name``, ``river``,
        ``reach_id``, ``distance_to_border_km``, ``side`` (四川/重庆),
        ``cross_border`` (the rule), ``cross_border_data``, ``direction``,
        ``direction_source`` (geometry/data), ``direction_geometry``,
        ``direction_data``, ``agrees``, ``crossing_lon``/``crossing_lat``
        (the crossing used), ``precision`` (weakest of the section, its
        reach and the border) and ``source``.
    """
    graph = river_network.build_graph(rivers) if graph is None else graph
    metric = crs.metric_crs("distance")
    line = _union(border)
    territory = (line, _union(districts), _union(neighbors[neighbors["level"] == "区县"]))
    points = sections.geometry.to_crs(metric).to_numpy()
    distance = shapely.distance(points, line)
    sides = _sides(points, *territory[1:])
    nearer_chongqing = shapely.distance(points, territory[1]) <= shapely.distance(points, territory[2])
    sides = np.where(sides != "", sides, np.where(nearer_chongqing, CHONGQING_SIDE, SICHUAN_SIDE))
    rows = []
    for k, (_, section) in enumerate(sections.iterrows()):
        facts = _geometry_facts(points[k], section, graph, territory, tolerance_m)
        row = _section_row(section, facts, bool(distance[k] <= distance_m), str(sides[k]))
        row["distance_to_border_km"] = round(float(distance[k]) / 1000.0, 2)
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(SECTION_LABELS))
    border_precision = provenance.weakest(border["precision"])
    table["precision"] = [provenance.weakest([p, border_precision]) for p in table["precision"]]
    table["source"] = [provenance.join_sources([s, *border["source"].drop_duplicates()]) for s in table["source"]]
    keep = table["cross_border"].astype(bool) | table["cross_border_data"].astype(bool)
    return table[keep].reset_index(drop=True)


def cross_border_rivers(sections: pd.DataFrame) -> pd.DataFrame:
    """Group the cross-border sections by river and crossing.

    Parameters
    ----------
    sections : pandas.DataFrame
        Output of :func:`cross_border_sections`; only rows with
        ``cross_border`` true are used.

    Returns
    -------
    pandas.DataFrame
        One row per river and crossing: ``river``, ``crossing_lon``,
        ``crossing_lat`` (empty when known only from the data),
        ``direction``, ``upstream_side``, ``sections_in_sichuan``,
        ``sections_in_chongqing`` (names joined with 、), ``precision`` and
        ``source``.
    """
    used = sections[sections["cross_border"].astype(bool)].copy()
    keys = ["river", "crossing_lon", "crossing_lat", "direction"]
    used[keys] = used[keys].astype(object).where(used[keys].notna(), "")
    names = {
        column: used["name"].where(used["side"] == side).dropna().groupby([used[k] for k in keys]).agg("、".join)
        for column, side in (("sections_in_sichuan", SICHUAN_SIDE), ("sections_in_chongqing", CHONGQING_SIDE))
    }
    groups = used.groupby(keys, sort=True).size().index
    out = pd.DataFrame({c: s.reindex(groups).fillna("") for c, s in names.items()}, index=groups)
    out = out.join(provenance.summarise(used, keys)).reset_index()
    out["upstream_side"] = out["direction"].map(_UPSTREAM_SIDE).fillna("")
    return out[list(RIVER_LABELS)]
