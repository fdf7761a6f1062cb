"""Layer `h2_stations`: hydrogen refuelling stations in Chongqing from public reports.

Method
------
One row per station in ``data/h2_stations.csv``, each with the documents it
comes from (see ``data/H2_PARKS_RESEARCH.md``). Positions are those of the
town or sub-district seat the report names (precision ``approximate``); a
station the report places only by district is drawn at that district's or
functional zone's representative point (``schematic``; see
:mod:`cqgis.layers.points`). The administrative district comes from a
spatial join of the point; ``reported_area`` keeps the area the source
names, which may be a functional zone such as 两江新区.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd

from cqgis.layers import points
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = ()
DEPENDS = ("districts", "functional_zones")
DATA_FILES = ("h2_stations.csv",)

STATUSES = ("规划", "在建", "运营", "停运")

SCHEMA = Schema(
    name="h2_stations",
    title_zh="加氢站",
    geometry_type="Point",
    fields=(
        Field("name", "str", description="station name", aliases=("站点名称", "名称", "加氢站名称")),
        Field("operator", "str", required=False, description="operating company", aliases=("运营单位", "运营商", "建设单位")),
        Field("type", "str", required=False, description="油氢合建 / 气氢合建 / 独立加氢站 ...", aliases=("类型", "站点类型")),
        Field(
            "capacity_kg_per_day",
            "float",
            required=False,
            description="design capacity, kg/day",
            aliases=("加注能力", "设计加注能力", "日加注能力(kg)"),
            minimum=0,
        ),
        Field("status", "str", allowed=STATUSES, description="规划 / 在建 / 运营 / 停运", aliases=("状态", "建设状态")),
        Field("year", "int", required=False, description="year of the reported status", aliases=("年份", "建成年份")),
        Field("address", "str", required=False, description="address as reported", aliases=("地址",)),
        Field("reported_area", "str", required=False, description="district or zone the source names", aliases=("所在区县", "区县", "所在区域")),
        Field("adcode", "str", derived=True, description="district adcode (spatial join)"),
        Field("district", "str", derived=True, description="district full name (spatial join)"),
        Field("location_source", "str", required=False, description="how the point was placed"),
        *PROVENANCE_FIELDS,
    ),
    description="Hydrogen refuelling stations from public reports, with their sources.",
)


#: Derives adcode and district for a user's file too.
complete = points.complete


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from the curated CSV and the district and zone layers.

    Parameters
    ----------
    deps : mapping of str to geopandas.GeoDataFrame
        The layers named in :data:`DEPENDS`: ``districts`` and ``functional_zones``.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer conformed to :data:`SCHEMA`, in EPSG:4326.

    Raises
    ------
    LayerError
        When a row without coordinates names an unknown district or functional zone.
    """
    return points.build_curated("h2_stations.csv", SCHEMA, deps)
