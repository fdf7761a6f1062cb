"""File I/O: read vector layers and point tables into WGS84 GeoDataFrames and write them atomically.

Reading
    :func:`read` picks the reader from the extension (see :data:`FORMATS`).
    :func:`read_vector` reads GeoPackage, Shapefile (also zipped), GeoJSON,
    FlatGeobuf and GeoParquet; :func:`read_table` reads CSV/TXT and Excel
    tables of points. Both return a frame in EPSG:4326, converted with
    :func:`cqgis.geo.crs.to_wgs84` from the CRS the user names (``gcj02``,
    ``bd09``, ``cgcs2000``, an EPSG code) or, for vector files, from the
    file's own label.

Text encodings
    Shapefiles from Chinese desktop GIS are often GBK without a ``.cpg``
    file; when the ``.cpg`` is missing the DBF's field names and text values
    are tried as strict UTF-8, then GB18030 (a superset of GBK), and the
    first that decodes is handed to GDAL. A ``.cpg`` always wins. CSV files
    are tried as UTF-8 (with or without BOM), then GB18030.

Tables
    Coordinate columns are found by name, case-insensitively (:data:`LON_NAMES`,
    :data:`LAT_NAMES`) unless named explicitly. The returned frame keeps every
    column of the table in its order; the two coordinate columns are
    rewritten to hold the WGS84 longitude and latitude of the geometry, so a
    frame never carries two disagreeing positions. The frame remembers them
    in ``frame.attrs[COORDINATE_COLUMNS]`` and :func:`write` refreshes them
    from the geometry, so a table written back has exactly its columns.

Writing
    :func:`write` writes to a hidden temporary file beside the target and
    renames it over the target only when complete: a failed write leaves
    neither a partial target nor the temporary file, and an existing target
    is untouched. Tables (CSV as UTF-8 with BOM so that Excel shows Chinese
    correctly, XLSX) get the points' coordinates in the remembered columns,
    or ``lon``/``lat`` appended; any other geometry is written as a ``wkt``
    column.

Modules: :mod:`~cqgis.geo.io.formats` (formats by extension, path checks),
:mod:`~cqgis.geo.io.encoding` (DBF and CSV encodings), :mod:`~cqgis.geo.io.vector`
(vector files), :mod:`~cqgis.geo.io.rows` (spreadsheets and CSV as rows of
cells, header rows, row numbers), :mod:`~cqgis.geo.io.points` (tables of
points), :mod:`~cqgis.geo.io.writers` (every writer) and
:mod:`~cqgis.geo.io.tempfiles` (atomic writes). This package's namespace holds
their public functions and :func:`read`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from cqgis.geo.errors import ReadError
from cqgis.geo.io.formats import FORMATS, READ_EXTENSIONS, WRITE_EXTENSIONS, FileFormat, existing_file, read_format
from cqgis.geo.io.points import (
    BLOCK_ROWS,
    COORDINATE_COLUMNS,
    DEFAULT_COORDINATE_COLUMNS,
    LAT_NAMES,
    LON_NAMES,
    WKT_COLUMN,
    Z_COLUMN,
    find_coordinate_columns,
    iter_rows,
    iter_table,
    read_table,
)
from cqgis.geo.io.rows import ROW_INDEX, excel_serial_dates, find_header_row, read_rows, row_numbers
from cqgis.geo.io.tempfiles import atomic
from cqgis.geo.io.vector import iter_features, list_layers, read_vector
from cqgis.geo.io.writers import (
    DEFAULT_SHEET,
    EXCEL_CELL_LIMIT,
    GPKG_VERSION,
    write,
    write_blocks,
    write_layers,
    write_sheets,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import pyproj

__all__ = [
    "BLOCK_ROWS", "COORDINATE_COLUMNS", "DEFAULT_COORDINATE_COLUMNS", "DEFAULT_SHEET", "EXCEL_CELL_LIMIT",
    "FORMATS", "GPKG_VERSION", "LAT_NAMES", "LON_NAMES", "READ_EXTENSIONS", "ROW_INDEX", "WKT_COLUMN",
    "WRITE_EXTENSIONS", "Z_COLUMN", "FileFormat", "atomic", "excel_serial_dates", "find_coordinate_columns",
    "find_header_row", "iter_features", "iter_rows", "iter_table", "list_layers", "read", "read_rows",
    "read_table", "read_vector", "row_numbers", "write", "write_blocks", "write_layers", "write_sheets",
]


def read(
    path: str | os.PathLike,
    *,
    layer: str | None = None,
    crs: str | int | pyproj.CRS | None = None,
    lon: str | None = None,
    lat: str | None = None,
    header_row: int | None = None,
) -> gpd.GeoDataFrame:
    """Read any file cqgis understands into a WGS84 GeoDataFrame, chosen by extension.

    Parameters
    ----------
    path : str or os.PathLike
        A file with one of :data:`READ_EXTENSIONS`.
    layer : str, optional
        Layer of a GeoPackage or of a zip holding several shapefiles, or
        sheet of an Excel workbook.
    crs : str, int or pyproj.CRS, optional
        What the coordinates are (see :func:`read_vector`); default: the
        file's own CRS for vector files, WGS84 for tables.
    lon, lat : str, optional
        Coordinate columns of a table (see :func:`read_table`).
    header_row : int, optional
        A table's header row, from 1 (see :func:`read_rows`); default: found.

    Returns
    -------
    geopandas.GeoDataFrame
        The data in EPSG:4326.

    Raises
    ------
    ReadError
        Missing file, unknown extension, unreadable content, or
        ``lon``/``lat`` given for a vector file.
    CRSError
        Unknown ``crs``, or a vector file without a CRS and no ``crs``.
    """
    path = existing_file(path)
    fmt = read_format(path)
    if fmt.is_table:
        return read_table(
            path, lon=lon, lat=lat, crs="wgs84" if crs is None else crs, sheet=layer, header_row=header_row
        )
    if lon is not None or lat is not None or header_row is not None:
        msg = f"{path.name} is a {fmt.label} file: --lon, --lat and --header-row apply only to CSV and Excel tables"
        raise ReadError(msg)
    return read_vector(path, layer=layer, crs=crs)
