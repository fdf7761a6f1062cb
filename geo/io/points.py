"""Tables of points: coordinate columns found by name, rows turned into WGS84 points, read whole or in blocks."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cqgis.geo.errors import CRSError, NoRowsError, ReadError
from cqgis.geo.io.formats import existing_file, read_format, reading
from cqgis.geo.io.rows import (
    HEADER_SEARCH_ROWS,
    ROW_INDEX,
    csv_layout,
    header_position,
    read_csv_cells,
    read_rows,
    under_header,
    without_blank_cells,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyproj


#: Column names taken as longitude and latitude, in order of preference
#: (compared case-insensitively, surrounding spaces ignored).
LON_NAMES = ("lon", "lng", "long", "longitude", "经度", "东经", "x")
LAT_NAMES = ("lat", "latitude", "纬度", "北纬", "y")
#: Key of ``frame.attrs`` naming a table's (longitude, latitude) columns.
COORDINATE_COLUMNS = "cqgis.coordinate_columns"
#: Columns that get a point layer's coordinates in a table that has none.
DEFAULT_COORDINATE_COLUMNS = ("lon", "lat")
#: Column that gets non-point geometries as WKT in a table.
WKT_COLUMN = "wkt"
#: Column that gets the z of 3-D points in a table.
Z_COLUMN = "z"
#: Rows per block when a large CSV is read and written in blocks (see :func:`iter_table`).
BLOCK_ROWS = 50_000


def find_coordinate_columns(
    columns: Sequence, path: str | os.PathLike, lon: str | None = None, lat: str | None = None
) -> tuple[str, str]:
    """Return a table's longitude and latitude columns: the ones named, or found by usual name.

    Parameters
    ----------
    columns : sequence
        The table's column names.
    path : str or os.PathLike
        The file, named in the error message.
    lon, lat : str, optional
        Explicit column names; default: the first column named one of
        :data:`LON_NAMES` / :data:`LAT_NAMES`, case-insensitively.

    Returns
    -------
    (str, str)
        The longitude and latitude column names.

    Raises
    ------
    ReadError
        When a coordinate column is not there; the message lists the columns.
    """
    path = Path(path)
    return (
        _find_column(columns, lon, LON_NAMES, "longitude", path),
        _find_column(columns, lat, LAT_NAMES, "latitude", path),
    )


def read_table(
    path: str | os.PathLike,
    lon: str | None = None,
    lat: str | None = None,
    crs: str | int | pyproj.CRS = "wgs84",
    sheet: str | None = None,
    header_row: int | None = None,
) -> gpd.GeoDataFrame:
    """Read a CSV or Excel table of points into a GeoDataFrame in EPSG:4326.

    Rows keep their numbers as the user sees them in Excel (the header is
    found below any title rows); rows with every cell blank are skipped.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv`` or ``.txt`` (comma- or tab-separated; UTF-8, UTF-8 with BOM
        or GBK/GB18030), ``.xlsx`` (``.xls`` only if ``xlrd`` is installed).
    lon, lat : str, optional
        Coordinate columns; default: the first column whose name is one of
        :data:`LON_NAMES` / :data:`LAT_NAMES`, case-insensitively.
    crs : str, int or pyproj.CRS
        What the coordinates are: ``wgs84`` (default), ``cgcs2000``,
        ``gcj02``, ``bd09`` or an EPSG code (e.g. projected x/y in metres).
    sheet : str, optional
        Worksheet of an Excel file; default: the first.
    header_row : int, optional
        Spreadsheet row (from 1) of the headers; default: found (see :func:`read_rows`).

    Returns
    -------
    geopandas.GeoDataFrame
        Every column of the table in its order, the coordinate columns
        rewritten to the WGS84 longitude and latitude, plus the point
        geometry; ``attrs[COORDINATE_COLUMNS]`` names the coordinate columns.

    Raises
    ------
    ReadError
        Missing or undecodable file, no coordinate columns, or a cell that
        is not a usable coordinate (named by row, column and value).
    """
    path = existing_file(path)
    data = read_rows(path, sheet=sheet, header_row=header_row)
    return _table_points(data, path, lon, lat, crs)


def iter_table(
    path: str | os.PathLike,
    lon: str | None = None,
    lat: str | None = None,
    crs: str | int | pyproj.CRS = "wgs84",
    header_row: int | None = None,
    rows: int = BLOCK_ROWS,
) -> Iterator[gpd.GeoDataFrame]:
    """Read a large CSV table of points in blocks of rows, in memory that does not grow with the file.

    Each block is what :func:`read_table` returns for those rows, but for
    the cells: they stay text as written (no column is typed from a block
    it cannot see whole), and the coordinate columns get the WGS84 values.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv`` or ``.txt`` table.
    lon, lat, crs, header_row
        As for :func:`read_table`.
    rows : int
        Rows per block.

    Returns
    -------
    iterator of geopandas.GeoDataFrame
        The blocks in file order, rows labelled as the spreadsheet numbers
        them (index named :data:`ROW_INDEX`). The file is checked and its header
        found before the first block is asked for.

    Raises
    ------
    ReadError
        As :func:`read_table`, raised by the block holding the bad cell;
        also for a file that is no CSV.
    """
    path = Path(path)
    return (_table_points(data, path, lon, lat, crs) for data in iter_rows(path, header_row, rows))


def iter_rows(
    path: str | os.PathLike, header_row: int | None = None, rows: int = BLOCK_ROWS
) -> Iterator[pd.DataFrame]:
    """Read a large CSV table in blocks of rows, its cells as text, as :func:`read_rows` reads it whole.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv`` or ``.txt`` table.
    header_row : int, optional
        Spreadsheet row (from 1) of the headers; default: found.
    rows : int
        Rows per block.

    Returns
    -------
    iterator of pandas.DataFrame
        Blocks of rows labelled with their spreadsheet row numbers (the
        index, named :data:`ROW_INDEX`), blank rows left out. The file is checked
        and its header found before the first block is asked for.

    Raises
    ------
    ReadError
        As :func:`read_rows`; also for a file that is no CSV.
    """
    import pandas as pd

    path = existing_file(path)
    if read_format(path).kind != "csv":
        msg = f"{path.name}: only CSV and text tables are read in blocks"
        raise ReadError(msg)
    layout = csv_layout(path)
    head = read_csv_cells(path, layout, nrows=max(HEADER_SEARCH_ROWS, header_row or 0))
    position = header_position(head, header_row, path)

    def blocks() -> Iterator[pd.DataFrame]:
        found = False
        # Read from the top and drop the header rows: pandas' skiprows miscounts blank lines ended by a lone CR.
        chunks = read_csv_cells(path, layout, chunk_rows=rows)
        while True:
            # The parser reads lazily: a malformed line surfaces here, not when the reader opens.
            with reading(path, pd.errors.ParserError):
                chunk = next(chunks, None)
            if chunk is None:
                break
            chunk = chunk[chunk.index > position]
            data = without_blank_cells(under_header(pd.concat([head.iloc[: position + 1], chunk]), position, path))
            data = data.dropna(how="all")
            if data.empty:
                continue
            found = True
            yield data.rename_axis(ROW_INDEX)
        if not found:
            msg = f"{path.name} has a header row but no data rows under it"
            raise NoRowsError(msg)

    return blocks()


def _table_points(
    data: pd.DataFrame, path: Path, lon: str | None, lat: str | None, crs: str | int | pyproj.CRS
) -> gpd.GeoDataFrame:
    """Turn a table's rows into points in EPSG:4326, the coordinate columns rewritten to match."""
    import geopandas as gpd
    import numpy as np

    from cqgis.geo import crs as crs_module

    lon_column, lat_column = find_coordinate_columns(data.columns, path, lon=lon, lat=lat)
    parsed = crs_module.parse_crs(crs)
    degrees = isinstance(parsed, str) or parsed.is_geographic
    x = _coordinate_values(data, lon_column, "longitude", 180.0 if degrees else None, path)
    y = _coordinate_values(data, lat_column, "latitude", 90.0 if degrees else None, path)
    if not degrees and len(x) and (np.abs(x) <= 180).all() and (np.abs(y) <= 90).all():
        # Metres of a projected CRS are never all this small near China: these are degrees.
        msg = (
            f"{path.name}: the coordinates look like degrees (e.g. {x[0]:g}, {y[0]:g}), not metres of "
            f"{parsed.name}; give --crs wgs84, cgcs2000, gcj02 or bd09"
        )
        raise CRSError(msg)
    points = gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(x, y))
    frame = _point_columns(crs_module.to_wgs84(points, crs), (lon_column, lat_column))
    frame.attrs[COORDINATE_COLUMNS] = (lon_column, lat_column)
    return frame


def _find_column(
    columns: Sequence, explicit: str | None, names: Sequence[str], what: str, path: Path
) -> str:
    """Return the column of one coordinate: the one asked for, or the first with a usual name."""
    if explicit is not None and explicit in columns:
        return explicit
    by_key: dict[str, str] = {}
    for column in columns:
        by_key.setdefault(str(column).strip().lower(), column)
    wanted = names if explicit is None else (explicit,)
    for name in wanted:
        key = name.strip().lower()
        if key in by_key:
            return by_key[key]
    listed = ", ".join(str(column) for column in columns)
    option = "--lon" if what == "longitude" else "--lat"
    if explicit is not None:
        msg = f"{path.name} has no column {explicit!r} for the {what}; its columns are: {listed}"
    else:
        msg = (
            f"{path.name}: no {what} column found; name one {', '.join(names)} or pass "
            f"{option} NAME (columns: {listed})"
        )
    raise ReadError(msg)


def _coordinate_values(
    data: pd.DataFrame, column: str, what: str, limit: float | None, path: Path
) -> np.ndarray:
    """Parse a coordinate column as floats; raise at the first cell that is no usable coordinate."""
    import numpy as np
    import pandas as pd

    raw = data[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    finite = np.isfinite(values)
    usable = finite & (np.abs(values) <= limit) if limit is not None else finite
    if usable.all():
        return values
    bad = np.flatnonzero(~usable)
    row = data.index[bad[0]]
    value = raw.iloc[bad[0]]
    if finite[bad[0]]:
        expected = f"a {what} in degrees between -{limit:g} and {limit:g}"
        hint = "; for projected coordinates give their EPSG code with --crs"
        got = str(value)
    else:
        expected = "a number"
        hint = ""
        blank = pd.isna(value) or (isinstance(value, str) and not value.strip())
        got = "a blank cell" if blank else repr(value) if isinstance(value, str) else str(value)
    others = len(bad) - 1
    cells = "cell" if others == 1 else "cells"
    more = f" ({others} more bad {cells} in this column)" if others else ""
    msg = f"{path.name} row {row}, column {column}: expected {expected}, got {got}{more}{hint}"
    raise ReadError(msg)


def _point_columns(frame: gpd.GeoDataFrame, names: tuple[str, str]) -> gpd.GeoDataFrame | None:
    """Return a copy of ``frame`` whose columns ``names`` hold its points' x and y.

    Columns that exist keep their place, missing ones are appended; empty
    geometries give NaN. None when some geometry is not a point.
    """
    import numpy as np
    import shapely

    geometries = np.asarray(frame.geometry.array)
    kinds = shapely.get_type_id(geometries)
    # -1 is a missing geometry: a blank position, not a different shape.
    if np.any((kinds != -1) & (kinds != shapely.GeometryType.POINT)):
        return None
    out = frame.copy()
    out[names[0]] = shapely.get_x(geometries)
    out[names[1]] = shapely.get_y(geometries)
    return out


def refresh_point_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Bring a table's remembered coordinate columns in line with the geometry being written."""
    if not has_geometry(frame):
        return frame
    names = frame.attrs.get(COORDINATE_COLUMNS)
    refreshed = _point_columns(frame, names) if names else None
    return frame if refreshed is None else refreshed


def has_geometry(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` is a GeoDataFrame with an active geometry column."""
    return getattr(frame, "_geometry_column_name", None) in frame.columns


def as_table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Turn a GeoDataFrame into a plain table: coordinate columns (and z) for points, WKT otherwise."""
    import numpy as np
    import pandas as pd
    import shapely

    if not has_geometry(frame):
        return pd.DataFrame(frame)
    names = frame.attrs.get(COORDINATE_COLUMNS, DEFAULT_COORDINATE_COLUMNS)
    table = _point_columns(frame, names)
    if table is not None:
        geometries = np.asarray(frame.geometry.array)
        if shapely.has_z(geometries).any():
            table[Z_COLUMN] = shapely.get_z(geometries)
    if table is None:
        table = frame.copy()
        table[WKT_COLUMN] = shapely.to_wkt(frame.geometry.array, rounding_precision=-1)
    return pd.DataFrame(table.drop(columns=frame.geometry.name))
