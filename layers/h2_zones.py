"""Layer `h2_zones`: the seven hydrogen demonstration areas the plan names, as polygons.

The plan (三(四)2, 完善绿色交通基础设施) names 两江新区, 万州区, 九龙坡区,
南岸区, 长寿区, 綦江区 and 潼南区 as the demonstration areas where hydrogen
stations are to be laid out first. The six districts take their
``districts`` polygons (precision as that layer); 两江新区 takes its
``functional_zones`` polygon, whose precision that layer states.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import pandas as pd

from cqgis import config
from cqgis.layers.errors import LayerError
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = ()
DEPENDS = ("districts", "functional_zones")

#: The demonstration areas in the order the plan lists them.
ZONES = ("两江新区", "万州区", "九龙坡区", "南岸区", "长寿区", "綦江区", "潼南区")

PLAN = "《重庆市“十四五”节能减排综合工作实施方案》三(四)2 氢燃料电池汽车示范区域"

SCHEMA = Schema(
    name="h2_zones",
    title_zh="氢能示范区域",
    geometry_type="Polygon",
    fields=(
        Field("name", "str", description="demonstration area", aliases=("示范区域", "名称")),
        Field("kind", "str", allowed=("区县", "功能区"), description="a district or a functional zone"),
        Field("adcode", "str", required=False, description="district adcode; empty for a functional zone"),
        *PROVENANCE_FIELDS,
    ),
    description="The plan's seven hydrogen fuel-cell vehicle demonstration areas.",
)


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from the ``districts`` and ``functional_zones`` layers.

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
        When a demonstration area is neither a district nor a functional zone.
    """
    districts = deps["districts"].assign(kind="区县")
    # The plan names zones by their short names (两江新区, not 重庆两江新区).
    zones = deps["functional_zones"].assign(kind="功能区", adcode=pd.NA, name=deps["functional_zones"]["short_name"])
    areas = pd.concat([districts, zones], ignore_index=True).set_index("name")
    missing = [name for name in ZONES if name not in areas.index]
    if missing:
        msg = f"hydrogen demonstration areas not found in districts or functional zones: {', '.join(missing)}"
        raise LayerError(msg)
    chosen = areas.loc[list(ZONES)].reset_index()
    frame = gpd.GeoDataFrame(
        chosen.assign(source=PLAN + "；边界：" + chosen["source"]),
        geometry=chosen.geometry.to_numpy(),
        crs=config.STORAGE_CRS,
    )
    return SCHEMA.conform(frame)
