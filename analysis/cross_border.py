"""Cross-border sections: monitoring sections on rivers that cross the Chongqing–Sichuan border, and which way the water goes.

Rules
-----
A section is **cross-border** when

* a cited document says so (the section data's ``cross_border`` flag:
  ``basis`` 文献), or
* it is the section nearest to a border crossing of the river it drains
  through, measured along the flow within :data:`DEFAULT_REACH_KM`, on either
  side of the crossing (``basis`` 推断; the rule is stated in ``rule``).

So 朱沱, which 渝府发〔2012〕4号 names as the 川渝边界 control section, is
cross-border and the 长江 sections below it (松溉, 白沙) are not, however
close to the border they lie.

Direction
---------
Each section is snapped to the cell it drains through (its documented river
when traced, see :meth:`cqgis.layers.drainage.Drainage.snap`). The flow path
through that cell, :data:`DEFAULT_REACH_KM` up the main stem and down the
flow, is split into 重庆 and 四川 stretches by the districts and the Sichuan
counties; a change of side is a crossing: 川入渝 when the water goes from
四川 to 重庆, 渝入川 the other way. ``direction_flow`` is the crossing
nearest the section. A documented direction always stands (``direction``,
``direction_source`` 文献); the flow-derived one fills in where no document
gives one (``direction_source`` 流向推算). Where both exist and differ,
``agrees`` is false and ``conflict`` says so: a 30″ flow path on a small
river can be wrong, and so can a document.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cqgis import config
from cqgis.analysis import provenance
from cqgis.analysis.errors import ParameterError
from cqgis.layers import catalog, drainage, terrain

#: Farthest along the flow from a section a border crossing is looked for, in km.
DEFAULT_REACH_KM = config.CROSS_BORDER_REACH_KM

SICHUAN_SIDE, CHONGQING_SIDE = "四川", "重庆"
INTO_CHONGQING, INTO_SICHUAN = "川入渝", "渝入川"
DOCUMENTED, INFERRED = "文献", "推断"
FROM_DOCUMENT, FROM_FLOW = "文献", "流向推算"

#: The inference rule as the output states it.
RULE = f"沿水流方向{DEFAULT_REACH_KM:g} km内距川渝交界点最近的断面（交界点两侧各取一个）"

#: Chinese headers of the per-section table.
SECTION_LABELS: Mapping[str, str] = MappingProxyType({
    "code": "断面编码",
    "name": "断面名称",
    "river": "河流",
    "side": "所在一侧",
    "cross_border": "跨界",
    "basis": "跨界依据",
    "rule": "推断规则",
    "direction": "流向",
    "direction_source": "流向依据",
    "direction_flow": "流向(DEM流向推算)",
    "direction_data": "流向(文献)",
    "agrees": "推算与文献一致",
    "conflict": "冲突说明",
    "km_to_crossing": "沿程距交界点(km)",
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


def _territories(districts: gpd.GeoDataFrame, neighbors: gpd.GeoDataFrame) -> tuple[shapely.Geometry, shapely.Geometry]:
    chongqing = shapely.union_all(districts.to_crs("EPSG:4326").geometry.to_numpy())
    counties = neighbors[neighbors["level"] == "区县"] if "level" in neighbors else neighbors
    sichuan = shapely.union_all(counties.to_crs("EPSG:4326").geometry.to_numpy())
    shapely.prepare(chongqing)
    shapely.prepare(sichuan)
    return chongqing, sichuan


def flow_crossings(
    model: drainage.Drainage, cell: int, territories: tuple[shapely.Geometry, shapely.Geometry], reach_km: float = DEFAULT_REACH_KM
) -> pd.DataFrame:
    """Find where the flow path through ``cell`` crosses the Chongqing–Sichuan border.

    Parameters
    ----------
    model : drainage.Drainage
        The drainage model.
    cell : int
        Flat index of the section's cell.
    territories : tuple of shapely.Geometry
        Chongqing and Sichuan, lon/lat.
    reach_km : float
        How far up the main stem and down the flow to look.

    Returns
    -------
    pandas.DataFrame
        One row per crossing: ``along_km`` (negative upstream of the
        section), ``lon``, ``lat`` and ``direction`` (川入渝 / 渝入川).
    """
    hyd = model.hydrology
    above = []
    upstream_main = np.asarray(hyd.flow.idxs_us_main)
    here, walked = cell, 0.0
    while walked < reach_km:
        nxt = int(upstream_main[here])
        if nxt < 0:
            break
        walked += float(terrain.along_km(hyd.center([here, nxt]))[-1])
        above.append(nxt)
        here = nxt
    below = hyd.path(cell)
    steps_below = terrain.along_km(hyd.center(below))
    below = below[steps_below <= reach_km]
    path = np.concatenate([np.asarray(above[::-1], dtype=np.intp), below])
    xy = hyd.center(path)
    along = terrain.along_km(xy)
    along -= along[len(above)]
    chongqing, sichuan = territories
    side = np.where(shapely.contains_xy(chongqing, xy[:, 0], xy[:, 1]), CHONGQING_SIDE,
                    np.where(shapely.contains_xy(sichuan, xy[:, 0], xy[:, 1]), SICHUAN_SIDE, ""))
    known = np.flatnonzero(side != "")
    rows = []
    for a, b in zip(known[:-1], known[1:]):
        if side[a] != side[b]:
            rows.append(
                {
                    "along_km": float((along[a] + along[b]) / 2),
                    "lon": float((xy[a, 0] + xy[b, 0]) / 2),
                    "lat": float((xy[a, 1] + xy[b, 1]) / 2),
                    "direction": INTO_CHONGQING if side[b] == CHONGQING_SIDE else INTO_SICHUAN,
                }
            )
    return pd.DataFrame(rows, columns=["along_km", "lon", "lat", "direction"])


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def cross_border_sections(
    sections: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    neighbors: gpd.GeoDataFrame,
    reach_km: float = DEFAULT_REACH_KM,
    model: drainage.Drainage | None = None,
) -> pd.DataFrame:
    """Find the cross-border sections and their direction (see the module docstring).

    Parameters
    ----------
    sections, districts, neighbors : geopandas.GeoDataFrame
        The layers of those names (or users' files standing in for them).
    reach_km : float
        How far along the flow a crossing may lie from a section, km.
    model : drainage.Drainage, optional
        The drainage model (loaded when not given).

    Returns
    -------
    pandas.DataFrame
        One row per cross-border section, documented or inferred, with the
        columns of :data:`SECTION_LABELS`.

    Raises
    ------
    ParameterError
        When ``reach_km`` is not a positive number of km.
    """
    if not (np.isfinite(reach_km) and reach_km > 0):
        msg = f"the reach (--reach) must be a positive number of km, not {reach_km:g}"
        raise ParameterError(msg)
    model = catalog.drainage_model() if model is None else model
    territories = _territories(districts, neighbors)
    rows = []
    for _, section in sections.to_crs("EPSG:4326").iterrows():
        river = _text(section.get("river"))
        point = section.geometry
        cell = model.snap(point.x, point.y, river)
        crossings = flow_crossings(model, cell, territories, reach_km) if cell >= 0 else pd.DataFrame()
        nearest = crossings.iloc[int(np.argmin(crossings["along_km"].abs()))] if len(crossings) else None
        in_chongqing = territories[0].contains(point)
        rows.append(
            {
                "code": section.get("code"),
                "name": section.get("name"),
                "river": river,
                "side": CHONGQING_SIDE if in_chongqing else SICHUAN_SIDE if territories[1].contains(point) else "",
                "documented": bool(section.get("cross_border")) if pd.notna(section.get("cross_border")) else False,
                "direction_data": _text(section.get("direction")),
                "direction_flow": None if nearest is None else nearest["direction"],
                "km_to_crossing": None if nearest is None else round(float(nearest["along_km"]), 1),
                "crossing_lon": None if nearest is None else round(float(nearest["lon"]), 4),
                "crossing_lat": None if nearest is None else round(float(nearest["lat"]), 4),
                "precision": provenance.weakest([section.get("precision"), "approximate"]),
                "source": provenance.join_sources([section.get("source"), model.hydrology.source]),
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return pd.DataFrame(columns=list(SECTION_LABELS))
    table["inferred"] = _nearest_to_each_crossing(table)
    table = table[table["documented"] | table["inferred"]].copy()
    table["cross_border"] = True
    table["basis"] = np.where(table["documented"], DOCUMENTED, INFERRED)
    table["rule"] = np.where(table["documented"], "", RULE)
    table["direction"] = table["direction_data"].where(table["direction_data"].notna(), table["direction_flow"])
    table["direction_source"] = np.where(
        table["direction_data"].notna(), FROM_DOCUMENT, np.where(table["direction_flow"].notna(), FROM_FLOW, None)
    )
    both = table["direction_data"].notna() & table["direction_flow"].notna()
    table["agrees"] = np.where(both, table["direction_data"] == table["direction_flow"], None)
    table["conflict"] = np.where(
        both & (table["direction_data"] != table["direction_flow"]),
        "文献为" + table["direction_data"].fillna("") + "，DEM流向推算为" + table["direction_flow"].fillna("") + "：以文献为准，请核实",
        "",
    )
    return table[list(SECTION_LABELS)].reset_index(drop=True)


def _nearest_to_each_crossing(table: pd.DataFrame) -> np.ndarray:
    """Whether each section is the nearest, on its side, to the crossing its flow path meets."""
    along = pd.to_numeric(table["km_to_crossing"])
    has = along.notna()
    # Sections below a crossing and sections above it each have their nearest.
    key = table["crossing_lon"].astype(str) + "," + table["crossing_lat"].astype(str) + np.where(along < 0, "下", "上")
    distance = along.abs()
    best = distance.where(has).groupby(key.where(has)).transform("min")
    return (has & distance.eq(best)).to_numpy()


def cross_border_rivers(sections: pd.DataFrame) -> pd.DataFrame:
    """Group the cross-border sections by river and crossing.

    Parameters
    ----------
    sections : pandas.DataFrame
        Output of :func:`cross_border_sections`.

    Returns
    -------
    pandas.DataFrame
        One row per river and crossing, with the columns of :data:`RIVER_LABELS`.
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


def border_rivers(
    rivers: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, neighbors: gpd.GeoDataFrame, model: drainage.Drainage | None = None
) -> pd.DataFrame:
    """Return the named rivers whose traced course crosses the Chongqing–Sichuan border.

    Parameters
    ----------
    rivers : geopandas.GeoDataFrame
        The ``rivers`` layer (for lengths and receivers).
    districts, neighbors : geopandas.GeoDataFrame
        The territories.
    model : drainage.Drainage, optional
        The drainage model.

    Returns
    -------
    pandas.DataFrame
        ``name``, ``directions`` (e.g. 川入渝), ``length_km`` (of the
        named river in the layer) and ``flows_into``, in the model's order.
    """
    model = catalog.drainage_model() if model is None else model
    chongqing, sichuan = _territories(districts, neighbors)
    named = rivers[rivers["name"].fillna("") != ""].groupby("name", sort=False).agg(
        length_km=("length_km", "sum"), flows_into=("flows_into", "first")
    )
    rows = []
    for label, name in enumerate(model.names, start=1):
        cells = np.flatnonzero(model.river == label)
        if not cells.size:
            continue
        # The label array is unordered; order the cells by upstream area to follow the flow.
        cells = cells[np.argsort(model.hydrology.upstream_km2.ravel()[cells], kind="stable")]
        xy = model.hydrology.center(cells)
        side = np.where(shapely.contains_xy(chongqing, xy[:, 0], xy[:, 1]), CHONGQING_SIDE,
                        np.where(shapely.contains_xy(sichuan, xy[:, 0], xy[:, 1]), SICHUAN_SIDE, ""))
        side = side[side != ""]
        changes = [INTO_CHONGQING if b == CHONGQING_SIDE else INTO_SICHUAN for a, b in zip(side[:-1], side[1:]) if a != b]
        if changes and name in named.index:
            rows.append({"name": name, "directions": "、".join(dict.fromkeys(changes)), **named.loc[name].to_dict()})
    return pd.DataFrame(rows, columns=["name", "directions", "length_km", "flows_into"])
