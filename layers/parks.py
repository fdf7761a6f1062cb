"""Layer `parks`: industrial parks the plan names for circular transformation and Chongqing's national green parks.

Method
------
One row per park in ``data/parks.csv`` with its sources (see
``data/H2_PARKS_RESEARCH.md``): the three parks the plan names for
circular transformation (两江新区, 西部科学城重庆高新区, 重庆经开区) and the
Chongqing parks on the national green-park lists (工业和信息化部 绿色制造名单)
with the list year. Positions are placed as in :mod:`cqgis.layers.points`:
a town seat is ``approximate``, a district seat or area point ``schematic``.
``central_wastewater`` is empty where no public source states it.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd

from cqgis.layers import points
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = ()
DEPENDS = ("districts", "functional_zones")
DATA_FILES = ("parks.csv",)

LEVELS = ("国家级", "市级")

SCHEMA = Schema(
    name="parks",
    title_zh="工业园区",
    geometry_type="Point",
    fields=(
        Field("name", "str", description="park name", aliases=("园区名称", "名称")),
        Field("level", "str", required=False, allowed=LEVELS, description="国家级 / 市级 development zone", aliases=("级别", "园区级别")),
        Field("green_park", "str", required=False, allowed=LEVELS, description="green-park list it is on", aliases=("绿色园区", "绿色园区级别")),
        Field("green_park_year", "int", required=False, description="year of that list", aliases=("绿色园区年份", "入选年份")),
        Field("circular_transform", "str", required=False, description="circular-transformation status (实施 when the plan names it)", aliases=("循环化改造", "循环化改造状态")),
        Field("central_wastewater", "str", required=False, description="centralised wastewater treatment, as stated", aliases=("污水集中处理", "污水集中处理设施")),
        Field("reported_area", "str", required=False, description="district or zone the source names", aliases=("所在区县", "区县")),
        Field("adcode", "str", derived=True, description="district adcode (spatial join)"),
        Field("district", "str", derived=True, description="district full name (spatial join)"),
        Field("location_source", "str", required=False, description="how the point was placed"),
        *PROVENANCE_FIELDS,
    ),
    description="Industrial parks: the plan's circular-transformation parks and national green parks.",
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
    return points.build_curated("parks.csv", SCHEMA, deps)
