"""Curated point facts: read a layer's CSV of researched features and place the ones without coordinates.

The curated CSVs (``h2_stations.csv``, ``parks.csv``) hold one row per
feature with the document it comes from. A row whose source gives a place
but no position is kept: its point is the representative point of the
district or functional zone the source names, with precision
``schematic`` (it shows which area the feature belongs to, not where it
is). A row placed at a district seat (``precision`` written ``district`` in
the CSV) is ``schematic`` for the same reason; a row geocoded from its town
seat stays ``approximate``.
"""

from __future__ import annotations

from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd

from cqgis import config
from cqgis.layers.sources import DATA_DIR
from cqgis.layers import places
from cqgis.layers.districting import assign_districts
from cqgis.layers.schema import Schema

#: How far outside every district a curated point may lie and still be assigned.
NEAREST_LIMIT_M = 3000.0

#: Location note given to rows placed at their area's representative point.
AREA_POINT_NOTE = "位置示意：所在区县/功能区的代表点（来源未给出坐标）"


def read_curated(data_file: str) -> pd.DataFrame:
    """Read a curated CSV from ``layers/data`` as text cells with numeric lon/lat.

    Parameters
    ----------
    data_file : str
        File name under ``layers/data``.

    Returns
    -------
    pandas.DataFrame
        Every cell as text, except ``lon`` and ``lat`` (float, NaN when blank).
    """
    frame = pd.read_csv(DATA_DIR / data_file, dtype=str)
    frame[["lon", "lat"]] = frame[["lon", "lat"]].apply(pd.to_numeric, errors="coerce")
    return frame


def area_points(areas: pd.Series, districts: gpd.GeoDataFrame, zones: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Return the representative point of each named district or functional zone.

    Parameters
    ----------
    areas : pandas.Series
        District full names (石柱土家族自治县) or functional-zone names (两江新区).
    districts, zones : geopandas.GeoDataFrame
        The ``districts`` and ``functional_zones`` layers.

    Returns
    -------
    geopandas.GeoSeries
        One point per name, indexed like ``areas``, in EPSG:4326.

    Raises
    ------
    cqgis.layers.errors.UnknownPlaceError
        When a name is neither a district nor a functional zone.
    """
    # Sources write both full and short names (重庆两江新区 / 两江新区).
    known = pd.concat([places.lookup(districts, "district"), places.lookup(zones, "functional_zone")])
    names = places.canonical(areas, known[~known.index.duplicated()], "district or functional zone")
    polygons = pd.concat([layer.set_index("name").geometry for layer in (districts, zones)])
    points = polygons[~polygons.index.duplicated()].loc[names.to_numpy()].representative_point()
    return gpd.GeoSeries(points.to_numpy(), index=areas.index, crs=config.STORAGE_CRS)


def place(
    frame: pd.DataFrame, area_column: str, districts: gpd.GeoDataFrame, zones: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Turn a curated table into points with their district and honest precision.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with ``lon``, ``lat`` (blank when the source gives no position),
        ``precision`` and ``location_source``.
    area_column : str
        Column naming the district or functional zone the source puts the
        feature in; used for rows without a position.
    districts, zones : geopandas.GeoDataFrame
        The ``districts`` and ``functional_zones`` layers.

    Returns
    -------
    geopandas.GeoDataFrame
        ``frame`` with point geometry, ``adcode`` and ``district`` (the
        administrative district the point falls in) and ``precision`` in
        :data:`cqgis.config.PRECISIONS`.
    """
    has_point = frame["lon"].notna() & frame["lat"].notna()
    geometry = gpd.GeoSeries(
        gpd.points_from_xy(frame["lon"], frame["lat"]), index=frame.index, crs=config.STORAGE_CRS
    )
    missing = ~has_point
    if missing.any():
        geometry[missing] = area_points(frame.loc[missing, area_column], districts, zones)
    precision = np.where(
        missing | frame["precision"].eq("district"), "schematic", frame["precision"]
    )
    location = frame["location_source"].where(has_point, AREA_POINT_NOTE)
    points = gpd.GeoDataFrame(
        frame.assign(precision=precision, location_source=location), geometry=geometry
    )
    return complete(points, {"districts": districts})


def complete(frame: gpd.GeoDataFrame, deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Add the derived ``adcode`` and ``district`` of each point (a user's file or the curated CSV).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        Points in EPSG:4326.
    deps : mapping of str to geopandas.GeoDataFrame
        Built layers; ``districts`` is used.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``frame`` with ``adcode`` and ``district``.
    """
    return assign_districts(frame, deps["districts"], max_distance_m=NEAREST_LIMIT_M)


def build_curated(data_file: str, schema: Schema, deps: Mapping[str, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """Build a point layer from its curated CSV, whose ``district`` column names the area the source gives.

    Parameters
    ----------
    data_file : str
        CSV under ``layers/data``.
    schema : Schema
        The layer's schema; the CSV's ``district`` becomes ``reported_area``.
    deps : mapping of str to geopandas.GeoDataFrame
        The ``districts`` and ``functional_zones`` layers.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer conformed to ``schema``.
    """
    table = read_curated(data_file).rename(columns={"district": "reported_area"})
    placed = place(table, "reported_area", deps["districts"], deps["functional_zones"])
    return schema.conform(placed)
