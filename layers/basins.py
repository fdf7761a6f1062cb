"""Layer `basins`: river basins tiling Chongqing, approximated by the nearest named river.

Method
------
No terrain model fine enough to trace divides is available (the only one
reachable is a 0.2° grid), so basins are approximated by proximity: every
line of the ``rivers`` layer that belongs to a basin is sampled every
:data:`SAMPLE_M` metres in the conformal CRS, the samples' Voronoi cells
(``shapely.voronoi_polygons``) are dissolved by basin and the result is
clipped to the union of the districts. A point of Chongqing is thus put in
the basin of the nearest river line.

A named river defines its own basin (the Yangtze's is 长江干流区间, the area
draining straight to the main stem); an unnamed WDB reach counts for the
basin of the named river the reach graph leads it to (its ``flows_into``).
Basins are leaves of the river hierarchy and never overlap: the 嘉陵江
polygon is the part draining to the 嘉陵江 itself, while 涪江 and 渠江 are
separate polygons whose ``parent`` is 嘉陵江 (and 琼江's is 涪江). Merging a
basin with every polygon below it in the ``parent`` chain gives the whole
basin. Rivers missing from the data (綦江, 大宁河, 小江, ...) fall into the
basin of the nearest river that is present, mostly 长江干流区间.

``area_km2`` is measured in the equal-area CRS. Precision is
``approximate``, ``schematic`` for basins drawn around schematic rivers.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cqgis import config
from cqgis.geo import crs
from cqgis.layers.schema import PRECISIONS, PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES: tuple[str, ...] = ()
DEPENDS = ("districts", "rivers")

#: Spacing of the river samples whose Voronoi cells make the basins.
SAMPLE_M = 1_000.0

#: The Yangtze's own basin within the study area is the interval draining straight to it.
MAIN_STEM: Mapping[str, str] = MappingProxyType({"长江": "长江干流区间"})

METHOD = f"河线每{SAMPLE_M / 1000:g} km取样点的Voronoi划分，按所属河流合并并裁切至重庆市界（就近归属，非分水岭）"

SCHEMA = Schema(
    name="basins",
    title_zh="流域分区",
    geometry_type="Polygon",
    fields=(
        Field("name", "str", description="basin name, e.g. 嘉陵江 or 长江干流区间", aliases=("流域",)),
        Field("parent", "str", required=False, description="basin this one drains into; empty for the top", aliases=("上级流域",)),
        Field("area_km2", "float", description="area within Chongqing in km² (equal-area CRS)"),
        Field("method", "str", description="how the polygon was drawn"),
        *PROVENANCE_FIELDS,
    ),
    description="Leaf river basins tiling Chongqing, by proximity to the named rivers.",
)


def _basin_of(rivers: gpd.GeoDataFrame) -> pd.Series:
    """Return the basin each river line belongs to ('' when it connects to no named river)."""
    named = set(rivers["name"]) - {""}
    basin = rivers["name"].where(rivers["name"] != "", rivers["flows_into"])
    return basin.where(basin.isin(named), "")


def _samples(lines: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return points every :data:`SAMPLE_M` along ``lines`` (shared points once) and their labels."""
    coords, index = shapely.get_coordinates(shapely.segmentize(lines, SAMPLE_M), return_index=True)
    # A point shared by two lines (a confluence) is kept for the first line given.
    _, first = np.unique(coords, axis=0, return_index=True)
    first.sort()
    return coords[first], labels[index[first]]


def basin_cells(rivers: gpd.GeoDataFrame, extent: shapely.Geometry, metric: object) -> dict[str, shapely.Geometry]:
    """Return each basin's Voronoi region, in the metric CRS.

    Parameters
    ----------
    rivers : geopandas.GeoDataFrame
        The ``rivers`` layer.
    extent : shapely.Geometry
        Area (in ``metric``) the regions must cover.
    metric : pyproj.CRS
        CRS to measure proximity in.

    Returns
    -------
    dict
        River name -> region, for every river that has lines.
    """
    basin = _basin_of(rivers).to_numpy()
    # Named rivers first, so a point they share with an unnamed reach is theirs.
    order = np.argsort(rivers["name"].to_numpy() == "", kind="stable")
    order = order[basin[order] != ""]
    lines = rivers.geometry.to_crs(metric).to_numpy()[order]
    points, labels = _samples(lines, basin[order])
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=extent, ordered=True)
    )
    return {name: shapely.coverage_union_all(cells[labels == name]) for name in dict.fromkeys(labels)}


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from the ``rivers`` and ``districts`` layers.

    Parameters
    ----------
    deps : mapping of str to geopandas.GeoDataFrame
        The layers named in :data:`DEPENDS`: ``districts`` and ``rivers``.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer conformed to :data:`SCHEMA`, in EPSG:4326.
    """
    metric = crs.metric_crs("distance")
    rivers = deps["rivers"]
    districts = deps["districts"]
    chongqing = shapely.union_all(districts.to_crs(metric).geometry.to_numpy())
    regions = basin_cells(rivers, chongqing, metric)
    names = np.array(list(regions))
    clipped = shapely.intersection(np.array(list(regions.values())), chongqing)
    keep = ~shapely.is_empty(clipped)
    names, clipped = names[keep], clipped[keep]

    by_name = rivers[rivers["name"] != ""].set_index("name")
    rank = {p: i for i, p in enumerate(PRECISIONS)}
    frame = pd.DataFrame(
        {
            "name": [MAIN_STEM.get(n, n) for n in names],
            "parent": [by_name.at[n, "flows_into"] for n in names],
            "method": METHOD,
            "source": [f"{by_name.at[n, 'source']}；市界：{districts['source'].iat[0]}" for n in names],
            "precision": [max(("approximate", by_name.at[n, "precision"]), key=rank.get) for n in names],
        }
    )
    geometry = gpd.GeoSeries(shapely.make_valid(clipped), crs=metric).to_crs(config.STORAGE_CRS)
    out = gpd.GeoDataFrame(frame, geometry=geometry.to_numpy(), crs=config.STORAGE_CRS)
    out["area_km2"] = crs.area_km2(out)
    return SCHEMA.conform(out)
