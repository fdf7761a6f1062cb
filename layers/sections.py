"""Layer `sections`: surface-water monitoring sections (水质监测断面) in and around Chongqing, from cited documents.

Method
------
``layers/data/sections.csv`` holds one researched row per section: its name,
river, control level, cross-border status and direction, target class and
the document each fact comes from (column ``source``). No public table gives
section coordinates, so each point is a GeoNames place near the section
(column ``location_source``): the section's own town (precision
``approximate``), a district or city seat, or the first Chongqing town on the
river downstream of a section that lies in Sichuan (``schematic``).

Empty cells stay empty: where no source states the 国控/市控 level or the
target class, the layer does not guess one. ``target_class`` of the
长江 main-stem sections is the 2012 water-function class of their reach
(渝府发〔2012〕4号), which is what the sections are assessed against.

The district is the Chongqing district whose polygon holds the point
(:func:`cqgis.layers.districting.assign_districts`); a point within
:data:`NEAREST_LIMIT_M` of a district (a town seat on a border river) takes
the nearest one. Sections placed in Sichuan keep an empty district.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd

from cqgis import config
from cqgis.layers.catalog import DATA_DIR
from cqgis.layers.districting import assign_districts
from cqgis.layers.gb3838 import CLASS_SPELLINGS, TARGET_CLASSES
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = ()
DEPENDS = ("districts", "basins")
DATA_FILES = ("sections.csv",)

#: How far outside every district a placed point may lie and still be assigned.
NEAREST_LIMIT_M = 1000.0

LEVELS = ("国控", "市控")
DIRECTIONS = ("川入渝", "渝入川")
WATERBODIES = ("river", "lake-reservoir")

#: How users' tables write the water body.
WATERBODY_SPELLINGS = MappingProxyType({
    "河流": "river", "河": "river", "江": "river",
    "湖库": "lake-reservoir", "湖泊": "lake-reservoir", "水库": "lake-reservoir", "湖": "lake-reservoir",
})

#: Where the CSV writes how it placed the point, joined to the fact source.
LOCATION_PREFIX = "位置："

SCHEMA = Schema(
    name="sections",
    title_zh="地表水监测断面",
    geometry_type="Point",
    fields=(
        Field(
            "code", "str", required=False,
            description="section code, e.g. CQ-S001; the name when not given",
            aliases=("断面编码", "断面代码", "编码"),
        ),
        Field("name", "str", description="section name, e.g. 朱沱", aliases=("断面名称", "断面")),
        Field("river", "str", description="river or lake, e.g. 长江", aliases=("河流", "河流名称", "所在河流", "水体")),
        Field("adcode", "str", required=False, derived=True, description="Chongqing district adcode; empty outside Chongqing"),
        Field("district", "str", required=False, derived=True, description="Chongqing district name (spatial join)"),
        Field("basin", "str", required=False, derived=True, description="basin (spatial join with the basins layer); empty outside Chongqing"),
        Field("level", "str", required=False, allowed=LEVELS, description="国控 / 市控; empty when unknown", aliases=("级别", "断面级别")),
        Field("cross_border", "bool", required=False, description="川渝 cross-border section; no when not given", aliases=("是否跨界", "跨界")),
        Field("direction", "str", required=False, allowed=DIRECTIONS, description="川入渝 / 渝入川 for cross-border sections", aliases=("流向", "跨界流向")),
        Field(
            "target_class", "str", required=False, allowed=TARGET_CLASSES,
            description="target water-quality class Ⅰ..Ⅴ; empty when unknown",
            aliases=("水质目标", "目标水质", "目标类别", "考核目标", "水质目标类别"),
            value_aliases=CLASS_SPELLINGS,
        ),
        Field(
            "waterbody", "str", required=False, allowed=WATERBODIES,
            description="river or lake-reservoir; river when not given",
            aliases=("水体类型",), value_aliases=WATERBODY_SPELLINGS,
        ),
        *PROVENANCE_FIELDS,
    ),
    description="Surface-water monitoring sections with their target class and cross-border direction.",
)


def read_table() -> pd.DataFrame:
    """Read ``layers/data/sections.csv`` with every cell as text (empty cells as NA).

    Returns
    -------
    pandas.DataFrame
        One row per section, in file order.
    """
    return pd.read_csv(DATA_DIR / "sections.csv", dtype=str, keep_default_na=False).replace("", pd.NA)


def _provenance(table: pd.DataFrame) -> pd.Series:
    location = table["location_source"].fillna("")
    return table["source"].str.cat(np.where(location.eq(""), "", "；" + LOCATION_PREFIX + location))


def complete(frame: gpd.GeoDataFrame, deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Add the derived district and basin of each section (the curated CSV or a user's file).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Section points in EPSG:4326.
    deps : mapping of str to geopandas.GeoDataFrame
        Built layers; ``districts`` and ``basins`` are used.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``frame`` with ``adcode``, ``district`` and ``basin``.
    """
    # A user's table may leave out what the curated CSV always gives.
    defaults = {"code": frame["name"], "cross_border": False, "waterbody": "river"}
    filled = frame.assign(**{
        column: frame[column].fillna(value) if column in frame else value for column, value in defaults.items()
    })
    with_districts = assign_districts(filled, deps["districts"], max_distance_m=NEAREST_LIMIT_M)
    return with_districts.assign(basin=basin_of(with_districts))


def basin_of(points: gpd.GeoDataFrame) -> list[str | None]:
    """Return the leaf watershed of each section, from the cell it drains through (not from where the point falls).

    A section is snapped to its documented river when that river is traced
    (so one on the 长江 main stem is in 长江干流区间 however close a
    tributary's divide runs), else to the nearest stream of no other name.
    """
    from cqgis.layers.basins import MAIN_STEM
    from cqgis.layers.drainage import model

    drains = model()
    rivers = points["river"] if "river" in points else pd.Series(None, index=points.index)
    names = []
    for point, river in zip(points.geometry, rivers):
        cell = drains.snap(point.x, point.y, river if isinstance(river, str) else None)
        name = drains.basin_name(cell)
        names.append(MAIN_STEM.get(name, name) or None)
    return names


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from ``sections.csv`` and the ``districts`` and ``basins`` layers.

    Parameters
    ----------
    deps : mapping of str to geopandas.GeoDataFrame
        The layers named in :data:`DEPENDS`: ``districts`` and ``basins``.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer conformed to :data:`SCHEMA`, in EPSG:4326.
    """
    table = read_table()
    points = gpd.GeoDataFrame(
        table.assign(source=_provenance(table)),
        geometry=gpd.points_from_xy(table["lon"].astype(float), table["lat"].astype(float)),
        crs=config.STORAGE_CRS,
    )
    return SCHEMA.conform(complete(points, deps))
