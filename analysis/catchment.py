"""Catchments: what drains to a point, its split among provinces, prefectures and counties, and the sections upstream."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely
from rasterio.windows import Window

from cqgis import config
from cqgis.analysis.errors import AnalysisError
from cqgis.config import Settings
from cqgis.layers import catalog, drainage, terrain


@dataclass(frozen=True)
class Catchment:
    """The area draining to one outlet.

    Attributes
    ----------
    outlet : tuple of float
        (lon, lat) of the grid cell the point was snapped to.
    river : str
        The named river the outlet lies on ('' when unnamed).
    area_km2 : float
        Area of the catchment on the grid (true cell areas), km².
    polygon : geopandas.GeoDataFrame
        One row: the catchment outline with its provenance.
    shares : pandas.DataFrame
        Rows per county (province, prefecture, county, km2, pct), then per
        prefecture and per province (``level`` says which); percentages sum to
        100 at each level. Area outside every listed county is reported as
        ``境外/未覆盖``.
    sections : pandas.DataFrame
        Monitoring sections whose cell drains to the outlet, nearest the
        outlet last (upstream first), with ``km_to_outlet`` along the flow.
    source : str
        Provenance of the flow directions.
    """

    outlet: tuple[float, float]
    river: str
    area_km2: float
    polygon: gpd.GeoDataFrame
    shares: pd.DataFrame
    sections: pd.DataFrame
    source: str


def _window_of(mask: np.ndarray) -> Window:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return Window(cols[0], rows[0], cols[-1] - cols[0] + 1, rows[-1] - rows[0] + 1)


def _shares(mask: np.ndarray, hyd: terrain.Hydrology, counties: gpd.GeoDataFrame) -> pd.DataFrame:
    """Area of the catchment in each county, prefecture and province (km², %)."""
    window = _window_of(mask)
    rows, cols = window.toslices()
    sub = mask[rows, cols]
    transform = rasterio.windows.transform(window, hyd.transform)
    west, north = transform.c, transform.f
    east, south = west + transform.a * sub.shape[1], north + transform.e * sub.shape[0]
    chosen = counties.cx[west:east, south:north]
    ids = rasterio.features.rasterize(
        zip(chosen.geometry, np.arange(1, len(chosen) + 1)), out_shape=sub.shape, transform=transform, fill=0, dtype="int32"
    )
    cell = np.broadcast_to(hyd.cell_km2[rows], sub.shape)
    sums = np.bincount(ids[sub], weights=cell[sub], minlength=len(chosen) + 1)
    total = sums.sum()
    table = chosen[["province", "prefecture", "name"]].reset_index(drop=True).assign(km2=sums[1:])
    if sums[0] > 0:
        table.loc[len(table)] = {"province": "境外/未覆盖", "prefecture": "", "name": "", "km2": sums[0]}
    table = table[table["km2"] > 0].rename(columns={"name": "county"})
    table["prefecture"] = table["prefecture"].fillna("").replace("", pd.NA).fillna(table["province"])
    levels = [
        table.assign(level="区县"),
        table.groupby(["province", "prefecture"], as_index=False)["km2"].sum().assign(level="地市", county=""),
        table.groupby("province", as_index=False)["km2"].sum().assign(level="省", prefecture="", county=""),
    ]
    out = pd.concat(levels, ignore_index=True)
    out["pct"] = 100.0 * out["km2"] / total
    order = {"省": 0, "地市": 1, "区县": 2}
    out = out.sort_values(["level", "km2"], key=lambda s: s.map(order) if s.name == "level" else -s, kind="stable")
    return out[["level", "province", "prefecture", "county", "km2", "pct"]].reset_index(drop=True)


def _outline(mask: np.ndarray, hyd: terrain.Hydrology) -> shapely.Geometry:
    window = _window_of(mask)
    rows, cols = window.toslices()
    transform = rasterio.windows.transform(window, hyd.transform)
    parts = [
        shapely.geometry.shape(g)
        for g, v in rasterio.features.shapes(mask[rows, cols].astype(np.uint8), mask=mask[rows, cols], transform=transform)
    ]
    return shapely.make_valid(shapely.union_all(parts))


def _upstream_sections(model: drainage.Drainage, outlet: int, upstream: np.ndarray, sections: gpd.GeoDataFrame) -> pd.DataFrame:
    hyd = model.hydrology
    rows = []
    rivers = sections["river"] if "river" in sections else pd.Series(None, index=sections.index)
    for (_, section), river in zip(sections.iterrows(), rivers):
        cell = model.snap(section.geometry.x, section.geometry.y, river if isinstance(river, str) else None)
        if cell < 0 or cell == outlet or not upstream[cell]:
            continue
        path = hyd.path(cell)
        # Distance along the flow to the outlet, from cell centres on the sphere.
        upto = np.flatnonzero(path == outlet)
        km = float(terrain.along_km(hyd.center(path[: upto[0] + 1] if upto.size else path))[-1])
        rows.append({"code": section.get("code"), "name": section.get("name"), "river": river, "district": section.get("district"), "km_to_outlet": km})
    table = pd.DataFrame(rows, columns=["code", "name", "river", "district", "km_to_outlet"])
    return table.sort_values("km_to_outlet", ascending=False, kind="stable").reset_index(drop=True)


def catchment(
    lon: float,
    lat: float,
    river: str | None = None,
    sections: gpd.GeoDataFrame | None = None,
    settings: Settings | None = None,
) -> Catchment:
    """Return the catchment of a point on the stream network.

    Parameters
    ----------
    lon, lat : float
        The point (a section), WGS84.
    river : str, optional
        The river the point is on; the point snaps to that river when the
        model has traced it (a section on the 长江 snaps to the main stem, not
        to a creek beside it), else to the nearest stream of no other name.
    sections : geopandas.GeoDataFrame, optional
        Sections to list when upstream; default the ``sections`` layer.
    settings : Settings, optional
        Cache and data folder.

    Returns
    -------
    Catchment

    Raises
    ------
    AnalysisError
        When the point is outside the DEM window or far from any stream.
    """
    model = catalog.drainage_model(settings)
    hyd = model.hydrology
    cell = model.snap(lon, lat, river)
    if cell < 0:
        where = f"on the {river}" if river and model.label(river) else "on the stream network"
        msg = f"({lon:.5f}, {lat:.5f}) is not {where}: no stream cell near enough in the DEM window"
        raise AnalysisError(msg)
    upstream = model.hydrology.upstream_mask([cell]).ravel()
    mask = upstream.reshape(hyd.shape)
    counties = catalog.load("counties", settings)
    shares = _shares(mask, hyd, counties)
    area = float(shares.loc[shares["level"] == "省", "km2"].sum())
    outline = _outline(mask, hyd)
    outlet = tuple(float(v) for v in hyd.center([cell])[0])
    on = model.names[model.river[cell] - 1] if model.river[cell] else ""
    source = f"{hyd.source}；区县：{counties['source'].iat[0]}"
    polygon = gpd.GeoDataFrame(
        {"river": [on], "outlet_lon": [outlet[0]], "outlet_lat": [outlet[1]], "area_km2": [area], "source": [source], "precision": ["approximate"]},
        geometry=[outline],
        crs=config.STORAGE_CRS,
    )
    listed = catalog.load("sections", settings) if sections is None else sections
    return Catchment(
        outlet=outlet,
        river=on,
        area_km2=area,
        polygon=polygon,
        shares=shares,
        sections=_upstream_sections(model, cell, upstream, listed),
        source=source,
    )
