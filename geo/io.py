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
"""

from __future__ import annotations

import glob
import os
import re
import secrets
import shutil
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import TYPE_CHECKING, BinaryIO, Literal

from cqgis.errors import CqgisError
from cqgis.geo.errors import CRSError, NoRowsError, ReadError, WriteError

# numpy, pandas, shapely, geopandas, pyogrio and fiona are imported inside the
# functions that use them: the CLI builds its help text from FORMATS, and
# `cqgis --help` must not pay a second for loading GDAL.
if TYPE_CHECKING:
    import fiona.model
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyproj

FormatKind = Literal["gdal", "zipped", "parquet", "csv", "excel"]


@dataclass(frozen=True)
class FileFormat:
    """A file format cqgis handles: how it is read and whether it is written.

    Parameters
    ----------
    label : str
        Name shown to users.
    kind : {"gdal", "zipped", "parquet", "csv", "excel"}
        Which reader and writer handle it.
    driver : str or None
        GDAL driver for the ``gdal`` and ``zipped`` kinds, pandas engine
        for ``excel``.
    writable : bool
        Whether :func:`write` produces it.
    multilayer : bool
        Whether one file holds several layers, so that writing one layer
        keeps the others.
    """

    label: str
    kind: FormatKind
    driver: str | None = None
    writable: bool = True
    multilayer: bool = False

    @property
    def is_table(self) -> bool:
        """True for CSV and Excel tables of points."""
        return self.kind in ("csv", "excel")


_SHAPEFILE = "ESRI Shapefile"
_GEOJSON = FileFormat("GeoJSON", "gdal", "GeoJSON")
_GEOPARQUET = FileFormat("GeoParquet", "parquet")

#: Every extension cqgis knows, lower case, mapped to its format. Shapefiles
#: are not written: several files cannot be replaced atomically.
FORMATS: Mapping[str, FileFormat] = MappingProxyType({
    ".gpkg": FileFormat("GeoPackage", "gdal", "GPKG", multilayer=True),
    ".shp": FileFormat("Shapefile", "gdal", _SHAPEFILE, writable=False),
    ".zip": FileFormat("zipped Shapefile", "zipped", _SHAPEFILE, writable=False),
    ".geojson": _GEOJSON,
    ".json": _GEOJSON,
    ".fgb": FileFormat("FlatGeobuf", "gdal", "FlatGeobuf"),
    ".parquet": _GEOPARQUET,
    ".geoparquet": _GEOPARQUET,
    ".csv": FileFormat("CSV", "csv"),
    ".txt": FileFormat("text table", "csv", writable=False),
    ".xlsx": FileFormat("Excel", "excel", "openpyxl"),
    ".xls": FileFormat("Excel 97-2003", "excel", "xlrd", writable=False),
})

#: Extensions :func:`read` accepts.
READ_EXTENSIONS: tuple[str, ...] = tuple(FORMATS)
#: Extensions :func:`write` produces.
WRITE_EXTENSIONS: tuple[str, ...] = tuple(ext for ext, fmt in FORMATS.items() if fmt.writable)

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

#: Most characters an Excel cell holds.
EXCEL_CELL_LIMIT = 32_767
#: Sheet a single table is written to when no layer name is given.
DEFAULT_SHEET = "Sheet1"
#: Column that gets the z of 3-D points in a table.
Z_COLUMN = "z"
# First characters that make a spreadsheet evaluate a CSV cell (see _defused).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"

#: Time stamp GDAL writes into GeoPackage metadata (see :func:`_write_gdal`).
FIXED_GDAL_DATE = "2000-01-01T00:00:00Z"
#: GeoPackage version written: 1.2 is read without warnings by the GDAL of
#: Debian's QGIS 3.22, which calls GDAL's default (1.4) only partially supported.
GPKG_VERSION = "1.2"

#: Name of the index holding the number the user knows each row by (see :func:`row_numbers`).
#: Row numbers travel as the index, never in ``frame.attrs``: pandas deep-copies
#: ``attrs`` on every operation, which made large tables crawl.
ROW_INDEX = "row"

#: Rows per block when a large CSV is read and written in blocks (see :func:`iter_table`).
BLOCK_ROWS = 50_000
#: Rows of a table searched for its header when none is given (see :func:`find_header_row`).
HEADER_SEARCH_ROWS = 30
#: Header words marking a column of dates, whose Excel serial day numbers are read as dates:
#: anywhere in the header, or (the second tuple) at its end, so that 监测时间 is a
#: date and 运行时间(h), hours, is not.
DATE_HEADER_WORDS = (("日期", "年月"), ("时间", "date", "time"))
# Excel serial days of 1950-01-01 and 2100-01-01: a date column's numbers between them are days.
_EXCEL_SERIAL_RANGE = (18264, 73051)
_EXCEL_EPOCH = "1899-12-30"
# Cells kept as text in a column of numbers: ids with leading zeros, and
# digit strings longer than a float's 15 significant digits keep.
_KEEP_AS_TEXT = r"[+-]?(?:0\d|\d{16})"

# Characters of a CSV read to find its separator, width and header; blocks checked for its encoding.
_CSV_HEAD_CHARS = 1 << 16
_DECODE_BLOCK_BYTES = 1 << 20
# Encodings tried, strictly and in order, for text without a declared one.
_CSV_ENCODINGS = ("utf-8-sig", "gb18030")
_DBF_ENCODINGS = ("utf-8", "gb18030")
# Code pages a .cpg names by number whose Python codec is not "cp" + number.
_CPG_CODE_PAGES = MappingProxyType({"65001": "utf-8", "88591": "latin-1", "936": "gbk", "utf8": "utf-8"})
# Enough records to meet the text of any realistic attribute table while
# keeping the guess cheap for DBFs of hundreds of megabytes.
_ENCODING_SAMPLE_BYTES = 8 << 20
_DBF_TEXT_FIELD = ord("C")
_GDAL_CANNOT_OPEN = "Failed to open dataset"
_UNCLOSED_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")
_DBF_HEADER_END = 0x0D


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
    path = _existing(path)
    fmt = _read_format(path)
    if fmt.is_table:
        return read_table(
            path, lon=lon, lat=lat, crs="wgs84" if crs is None else crs, sheet=layer, header_row=header_row
        )
    if lon is not None or lat is not None or header_row is not None:
        msg = f"{path.name} is a {fmt.label} file: --lon, --lat and --header-row apply only to CSV and Excel tables"
        raise ReadError(msg)
    return read_vector(path, layer=layer, crs=crs)


def read_vector(
    path: str | os.PathLike,
    layer: str | None = None,
    crs: str | int | pyproj.CRS | None = None,
) -> gpd.GeoDataFrame:
    """Read a vector file into a GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    path : str or os.PathLike
        GeoPackage, Shapefile, zipped Shapefile (read through GDAL's
        ``/vsizip/``), GeoJSON, FlatGeobuf or GeoParquet.
    layer : str, optional
        Layer to read; required when the file holds more than one.
    crs : str, int or pyproj.CRS, optional
        What the coordinates really are: ``wgs84``, ``cgcs2000``, ``gcj02``,
        ``bd09`` or an EPSG code. Overrides the file's label (GCJ-02 data
        always comes labelled EPSG:4326). Default: the file's own CRS.

    Returns
    -------
    geopandas.GeoDataFrame
        The layer in EPSG:4326, its index (named :data:`ROW_INDEX`)
        numbering the features from 1.

    Raises
    ------
    ReadError
        Missing, empty or unreadable file, unknown or ambiguous layer, a
        layer without geometry or without features.
    CRSError
        When the file has no CRS and ``crs`` is not given, or ``crs`` is unknown.
    """
    import geopandas as gpd
    import pandas as pd
    import pyogrio

    path = _existing(path)
    fmt = _vector_format(path)
    if fmt.kind == "parquet":
        with _reading(path, ValueError, OSError):
            frame = gpd.read_parquet(path)
    else:
        source, name, encoding = _gdal_source(path, fmt, layer)
        with _reading(path, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
            frame = pyogrio.read_dataframe(source, layer=name, encoding=encoding)
    if not isinstance(frame, gpd.GeoDataFrame):
        msg = f"{path.name}: the layer has no geometry; read attribute tables with read_table"
        raise ReadError(msg)
    if frame.empty:
        what = f"layer {layer!r} of {path.name}" if layer else path.name
        msg = f"{what} holds no features: nothing to read"
        raise ReadError(msg)
    frame = _georeference(frame, crs, path)
    # Features are numbered from 1, as GIS attribute tables show them.
    return frame.set_axis(pd.RangeIndex(1, len(frame) + 1, name=ROW_INDEX))


def list_layers(path: str | os.PathLike) -> list[str]:
    """List the layers of a vector file.

    Parameters
    ----------
    path : str or os.PathLike
        Any vector file; a zip's layers are the shapefiles it holds, named
        by their stems, and a GeoParquet file has one layer named after it.

    Returns
    -------
    list of str
        Layer names in the file's order; a GeoPackage's table of QGIS
        styles (``layer_styles``) is not a layer.
    """
    import fiona

    path = _existing(path)
    fmt = _vector_format(path)
    if fmt.kind == "parquet":
        return [path.stem]
    if fmt.kind == "zipped":
        with _open_zip(path) as archive:
            return list(_zip_shapefiles(path, archive.namelist()))
    from cqgis.geo.gpkg_styles import STYLE_TABLE

    with _reading(path, fiona.errors.DriverError):
        names = fiona.listlayers(path)
    return [name for name in names if not (fmt.driver == "GPKG" and name == STYLE_TABLE)]


def iter_features(
    path: str | os.PathLike, layer: str | None = None
) -> Iterator[fiona.model.Feature]:
    """Stream a vector file's features one at a time with fiona, for files too large to load.

    Parameters
    ----------
    path : str or os.PathLike
        Any vector file GDAL reads (not GeoParquet); the file is checked
        and its layer chosen before the first feature is asked for.
    layer : str, optional
        Layer to stream; required when the file holds more than one.

    Returns
    -------
    iterator of fiona.model.Feature
        The features as stored: geometry in the file's own CRS, text
        decoded as by :func:`read_vector` (GBK shapefiles without ``.cpg``
        included). The file is closed when the iterator is exhausted or
        closed.

    Raises
    ------
    ReadError
        Missing or unreadable file, GeoParquet, or an ambiguous or unknown
        layer.
    """
    import fiona

    path = _existing(path)
    fmt = _vector_format(path)
    if fmt.kind == "parquet":
        msg = f"{path.name}: GeoParquet is not streamed feature by feature; read it with read_vector"
        raise ReadError(msg)
    source, name, encoding = _gdal_source(path, fmt, layer)

    def stream() -> Iterator[fiona.model.Feature]:
        with _reading(path, fiona.errors.DriverError), fiona.open(
            source, layer=name, encoding=encoding
        ) as features:
            yield from features

    return stream()


def read_rows(
    path: str | os.PathLike,
    sheet: str | None = None,
    text: bool = False,
    header_row: int | None = None,
    columns: Callable[[str], bool] | None = None,
) -> pd.DataFrame:
    """Read a CSV or Excel table as it is, its rows labelled as the spreadsheet numbers them.

    Title rows above the header are skipped: the header is the row given, or
    the one :func:`find_header_row` finds. A blank header cell under a
    cell merged over several rows takes that cell's name; columns without
    a header are dropped when empty and refused when they hold a value. Rows with every cell blank
    are dropped (their numbers are skipped, not reused).

    Without ``text``, a column becomes numeric only when every cell is a
    number and none is written with a leading zero (``00123``, ``0500103``)
    or with more digits than a float keeps, so ids stay text; in a column
    whose header names a date or time (:data:`DATE_HEADER_WORDS`), Excel
    serial day numbers (45717) become dates.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv``/``.txt`` or Excel file (see :func:`read_table`).
    sheet : str, optional
        Worksheet of an Excel file; default: the first.
    text : bool
        Keep every CSV cell as text (``0.01L``, codes with leading zeros)
        and every Excel cell as Excel typed it, instead of inferring column types.
    header_row : int, optional
        Spreadsheet row (from 1) holding the column headers; default: found.
    columns : callable, optional
        Keep only the columns whose header (found as above) it accepts;
        default: all.

    Returns
    -------
    pandas.DataFrame
        The cells, untouched but for the typing above: no coordinate is
        parsed or converted. The index, named :data:`ROW_INDEX`, holds the
        row numbers.

    Raises
    ------
    ReadError
        Missing, empty, undecodable or non-table file, an unknown sheet, a
        header row outside the table, two columns with the same header, or
        no data rows under the header.
    """
    import pandas as pd

    path = _existing(path)
    fmt = _read_format(path)
    if not fmt.is_table:
        msg = f"{path.name} is a {fmt.label} file, not a table: read it with read_vector"
        raise ReadError(msg)
    where = path.name
    if fmt.kind == "excel":
        raw, where = _read_excel(path, fmt, sheet)
    elif sheet is not None:
        msg = f"{path.name} is a CSV table and has no sheets; sheets exist only in Excel workbooks"
        raise ReadError(msg)
    else:
        raw = _read_csv(path)
    data = _under_header(raw, _header_position(raw, header_row, path), path)
    if text:
        data = _without_blank_cells(data)
    data = data.dropna(how="all")
    if data.empty:
        msg = f"{where} has a header row ({', '.join(map(str, data.columns))}) but no data rows under it"
        raise NoRowsError(msg)
    if columns is not None:
        # Rows blank in every kept column go too, as if the others had never been there.
        data = data[[name for name in data.columns if columns(name)]].dropna(how="all")
    if not text:
        data = data.apply(_typed_column)
    data.index = data.index.rename(ROW_INDEX)
    return data


def find_header_row(raw: pd.DataFrame) -> int:
    """Return the position of a raw table's header row, skipping title and unit rows above it.

    The header is the first of the first :data:`HEADER_SEARCH_ROWS` rows
    that fills more than half of the table's width and whose cells are all
    names: text that is not a number. A title (one cell, often merged across
    the sheet), a unit line or a group row of merged cells above the header
    fills too little of the width; a data row holds numbers. A header of
    two rows, names merged down over both and groups merged across, ends on
    its lower row: the one of names under the group's blank cells. When no
    row qualifies, the first row with a cell is the header.

    Parameters
    ----------
    raw : pandas.DataFrame
        The sheet's cells without a header (``header=None``): text for CSV,
        as Excel typed them for workbooks.

    Returns
    -------
    int
        Position (from 0) of the header row in ``raw``.
    """
    import numpy as np

    sample = raw.iloc[:HEADER_SEARCH_ROWS]
    filled = sample.map(_is_filled).to_numpy(dtype=bool)
    names = sample.map(_is_name).to_numpy(dtype=bool)
    counts = filled.sum(axis=1)
    if not counts.any():
        return 0
    qualifies = (counts * 2 > counts.max()) & (names.sum(axis=1) == counts)
    if not qualifies.any():
        return int(np.argmax(counts > 0))
    top = int(np.argmax(qualifies))
    if top + 1 < len(sample):
        upper, lower = filled[top], filled[top + 1]
        # A header of two rows (a group merged across, names merged down) ends on its lower row.
        if (names[top + 1] == lower).all() and (lower & ~upper).any() and (upper & ~lower).any():
            return top + 1
    return top


def excel_serial_dates(values: pd.Series) -> pd.Series | None:
    """Return a column of Excel serial day numbers (45717 = 2025-03-01) as dates, or None when it is not one.

    Parameters
    ----------
    values : pandas.Series
        A column's cells.

    Returns
    -------
    pandas.Series or None
        Dates (``datetime64``) when every non-blank cell is a number of days
        between 1950 and 2100 in Excel's count; None otherwise.
    """
    import pandas as pd

    numbers = pd.to_numeric(values, errors="coerce")
    present = values.notna()
    if not present.any() or numbers[present].isna().any():
        return None
    low, high = _EXCEL_SERIAL_RANGE
    if not numbers[present].between(low, high).all():
        return None
    return pd.to_datetime(numbers, unit="D", origin=_EXCEL_EPOCH)


def _is_filled(cell: object) -> bool:
    import pandas as pd

    if isinstance(cell, str):
        return bool(cell.strip())
    return not pd.isna(cell)


def _is_name(cell: object) -> bool:
    """Whether a cell reads as a column name: text that is not a number."""
    if not isinstance(cell, str) or not cell.strip():
        return False
    try:
        float(cell.replace(",", ""))
    except ValueError:
        return True
    return False


def _header_position(raw: pd.DataFrame, header_row: int | None, path: Path) -> int:
    """Return the position of the header in ``raw``: the row the user gave (from 1), or the one found."""
    if raw.empty:
        msg = f"{path.name} is empty: it has no header row and no data"
        raise ReadError(msg)
    if header_row is None:
        return find_header_row(raw)
    if not 1 <= header_row <= len(raw):
        msg = f"{path.name}: --header-row {header_row} is outside the table, which has rows 1 to {len(raw)}"
        raise ReadError(msg)
    return header_row - 1


def _under_header(raw: pd.DataFrame, position: int, path: Path) -> pd.DataFrame:
    """Return the rows below the header, named by it and labelled with their spreadsheet row numbers."""
    header = raw.iloc[position]
    above = raw.iloc[:position]
    names = {}
    for column in raw.columns:
        name = header[column]
        if not _is_filled(name):
            # A header merged over several rows holds its name in its top cell only.
            over = [cell for cell in above[column] if _is_filled(cell)]
            name = over[-1] if over else None
        if name is None:
            _check_headless(raw[column].iloc[position + 1 :], column, position, path)
            continue
        names[column] = _header_text(name)
    _check_unique(names, position, path)
    data = raw.iloc[position + 1 :][list(names)]
    data.columns = list(names.values())
    # Spreadsheet rows count from 1.
    data.index = data.index + 1
    return data


def _check_headless(values: pd.Series, column: int, position: int, path: Path) -> None:
    """Refuse values in a column without a header: no command could tell what they are."""
    filled = values.map(_is_filled)
    if filled.any():
        row = int(filled.idxmax()) + 1
        msg = (
            f"{path.name} row {row}, column {_column_letter(column)}: {values[filled.idxmax()]!r} "
            f"stands in a column without a header (row {position + 1}); give the column a header or clear it"
        )
        raise ReadError(msg)


def _header_text(cell: object) -> str:
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell)


def _check_unique(names: Mapping[int, str], position: int, path: Path) -> None:
    """Refuse two columns with one header: which one a command would use is a guess."""
    seen: dict[str, list[int]] = {}
    for column, name in names.items():
        seen.setdefault(name.strip(), []).append(column)
    for name, columns in seen.items():
        if len(columns) > 1:
            letters = " and ".join(_column_letter(column) for column in columns)
            msg = (
                f"{path.name} row {position + 1}: columns {letters} are both headed {name!r}; "
                f"give each column its own header"
            )
            raise ReadError(msg)


def _column_letter(position: int) -> str:
    """Spreadsheet letter of a column position from 0 (0 -> A, 26 -> AA)."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _is_date_header(name: str) -> bool:
    key = name.strip().lower()
    inside, ending = DATE_HEADER_WORDS
    return any(word in key for word in inside) or key.endswith(ending)


def _typed_column(values: pd.Series) -> pd.Series:
    """Type one column: numbers where every cell is a number and no id would lose its zeros; dates in date columns."""
    import numpy as np
    import pandas as pd

    if _is_date_header(str(values.name)):
        dates = excel_serial_dates(values)
        if dates is not None:
            return dates
    if values.dtype == object:
        # Excel cells: text typed as text stays text unless every cell of the column is a number.
        kinds = values.dropna().map(type)
        if not kinds.eq(str).any():
            return values.infer_objects()
        text = values.where(values.isna(), values.astype(str))
    else:
        text = values
    text = text.str.strip()
    try:
        # A cast stops at the first text cell, so text columns cost little.
        numbers = text.astype("float64")
    except (ValueError, TypeError):
        return values
    if text.str.match(_KEEP_AS_TEXT).any():
        return values
    whole = np.isfinite(numbers).all() and (numbers == numbers.round()).all()
    return numbers.astype("int64") if whole else numbers


def row_numbers(frame: pd.DataFrame) -> np.ndarray:
    """Return the number the user knows each row of ``frame`` by, for error messages.

    A table read by :func:`read_rows`, a vector file read by
    :func:`read_vector` (features from 1), or a user's file loaded as a
    layer keeps its rows as its index, named :data:`ROW_INDEX`; any other
    frame is numbered as a spreadsheet would be: 2, 3 ... after the header.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows.

    Returns
    -------
    numpy.ndarray
        One number per row.
    """
    import numpy as np

    if frame.index.name == ROW_INDEX:
        return frame.index.to_numpy()
    return np.arange(len(frame)) + 2


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
    path = _existing(path)
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

    path = _existing(path)
    if _read_format(path).kind != "csv":
        msg = f"{path.name}: only CSV and text tables are read in blocks"
        raise ReadError(msg)
    layout = _csv_layout(path)
    head = _read_csv(path, layout, nrows=max(HEADER_SEARCH_ROWS, header_row or 0))
    position = _header_position(head, header_row, path)

    def blocks() -> Iterator[pd.DataFrame]:
        found = False
        # Read from the top and drop the header rows: pandas' skiprows miscounts blank lines ended by a lone CR.
        chunks = _read_csv(path, layout, chunk_rows=rows)
        while True:
            # The parser reads lazily: a malformed line surfaces here, not when the reader opens.
            with _reading(path, pd.errors.ParserError):
                chunk = next(chunks, None)
            if chunk is None:
                break
            chunk = chunk[chunk.index > position]
            data = _without_blank_cells(_under_header(pd.concat([head.iloc[: position + 1], chunk]), position, path))
            data = data.dropna(how="all")
            if data.empty:
                continue
            found = True
            yield data.rename_axis(ROW_INDEX)
        if not found:
            msg = f"{path.name} has a header row but no data rows under it"
            raise NoRowsError(msg)

    return blocks()


def _without_blank_cells(data: pd.DataFrame) -> pd.DataFrame:
    """Blank out cells of spaces: they are as blank as empty ones (not measured, never zero)."""
    import pandas as pd

    blank = pd.DataFrame(
        {
            column: data[column].map(lambda cell: isinstance(cell, str) and not cell.strip())
            if data[column].dtype == object
            else data[column].str.strip().eq("").fillna(False)
            for column in data.columns
        },
        index=data.index,
    )
    return data.mask(blank.astype(bool))


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


def write(
    frame: gpd.GeoDataFrame, path: str | os.PathLike, layer: str | None = None, style: str | None = None
) -> Path:
    """Write a GeoDataFrame atomically, in the format the extension names.

    The frame is written as it is (no reprojection): convert it first with
    :func:`cqgis.geo.crs.from_wgs84` if it must be in another system.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The data.
    path : str or os.PathLike
        Target with one of :data:`WRITE_EXTENSIONS`: GeoPackage (version
        :data:`GPKG_VERSION`), GeoJSON,
        FlatGeobuf, GeoParquet, CSV (UTF-8 with BOM) or XLSX. In CSV and
        XLSX a point layer's coordinates go into its remembered coordinate
        columns (:data:`COORDINATE_COLUMNS`) or into ``lon``/``lat``; other
        geometries go into a ``wkt`` column.
    layer : str, optional
        Layer name (GeoPackage, GeoJSON) or sheet name (XLSX); default: the
        target's stem (``Sheet1`` for XLSX). Writing a named layer into an
        existing GeoPackage or workbook replaces that layer or sheet and
        keeps the others; without ``layer`` the whole file is replaced, but
        a workbook holding other sheets is refused rather than lost.
    style : str, optional
        QGIS style (QML) stored as the layer's default in a GeoPackage's
        ``layer_styles`` table (see :mod:`cqgis.geo.gpkg_styles`); ignored
        by the other formats.

    Notes
    -----
    Text is never written as a live formula: in XLSX a text cell starting
    with ``=`` is stored as text; in CSV a text cell starting with ``=``,
    ``+``, ``-``, ``@``, tab or carriage return (but a number such as
    ``-3.5``) gets a leading ``'``, as spreadsheets show such cells (CSV
    injection). 3-D points get a ``z`` column in CSV and XLSX.

    Returns
    -------
    pathlib.Path
        The target.

    Raises
    ------
    WriteError
        Unsupported extension, missing folder, or any failure while
        writing; no partial target and no temporary file are left, and an
        existing target is unchanged.
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None or not fmt.writable:
        msg = f"cannot write {path.name}: cqgis writes {', '.join(WRITE_EXTENSIONS)}"
        raise WriteError(msg)
    if not _has_geometry(frame) and fmt.kind not in ("csv", "excel", "parquet"):
        msg = f"cannot write {path.name}: a table without geometry goes to .csv, .xlsx or .parquet"
        raise WriteError(msg)
    with atomic(path) as temp:
        if fmt.multilayer and layer is not None and path.exists():
            shutil.copyfile(path, temp)
        _WRITERS[fmt.kind](frame, temp, path, fmt, layer)
        if style is not None and fmt.driver == "GPKG":
            _write_styles(temp, {layer or path.stem: style})
    return path


def write_blocks(blocks: Iterable[gpd.GeoDataFrame], path: str | os.PathLike) -> int:
    """Write blocks of rows (from :func:`iter_table`) as one CSV table, atomically, holding one block at a time.

    Parameters
    ----------
    blocks : iterable of geopandas.GeoDataFrame
        Frames with the same columns, written in order as by :func:`write`.
    path : str or os.PathLike
        A ``.csv`` target.

    Returns
    -------
    int
        Rows written.

    Raises
    ------
    WriteError
        Not a ``.csv`` target, a missing folder, or any failure while
        writing, a bad cell of a later block included: nothing is left
        behind and an existing file is unchanged.
    """
    path = Path(path)
    if path.suffix.lower() != ".csv":
        msg = f"cannot write {path.name}: blocks of rows are written to .csv"
        raise WriteError(msg)
    with atomic(path) as temp:
        return _write_csv_blocks(blocks, temp)


def write_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    path: str | os.PathLike,
    styles: Mapping[str, str] | None = None,
    geometry_types: Mapping[str, str] | None = None,
) -> Path:
    """Write several layers into one new GeoPackage, atomically: all of them or nothing.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame
        Layer name -> data.
    path : str or os.PathLike
        A ``.gpkg`` target; an existing file is replaced as a whole, so no
        layer of an earlier run survives.
    styles : mapping of str to str, optional
        Layer name -> QGIS style (QML), stored as the layer's default (see
        :func:`write`).
    geometry_types : mapping of str to str, optional
        Layer name -> GDAL geometry type (``Point``, ``LineString``,
        ``Polygon`` ...) of layers that may have no geometry to take it
        from: an empty layer is otherwise typed ``GEOMETRY``, which QGIS
        opens as a table that no style applies to.

    Returns
    -------
    pathlib.Path
        The target.

    Raises
    ------
    WriteError
        Not a ``.gpkg`` target, a missing folder, or any failure while
        writing; nothing is left behind and an existing file is unchanged.
    """
    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        msg = f"cannot write {path.name}: several layers go into a .gpkg GeoPackage"
        raise WriteError(msg)
    fmt = FORMATS[".gpkg"]
    with atomic(path) as temp:
        for name, frame in layers.items():
            _write_gdal(frame, temp, path, fmt, name, geometry_type=(geometry_types or {}).get(name))
        if styles:
            _write_styles(temp, styles)
    return path


def write_sheets(sheets: Mapping[str, pd.DataFrame], path: str | os.PathLike) -> Path:
    """Write several tables as the sheets of one XLSX workbook, atomically.

    Parameters
    ----------
    sheets : mapping of str to DataFrame
        Sheet name (at most 31 characters, as Excel allows) -> table; a
        GeoDataFrame's geometry becomes coordinate or WKT columns as in
        :func:`write`.
    path : str or os.PathLike
        An ``.xlsx`` target.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    WriteError
        Not an ``.xlsx`` target, a missing folder, or any failure while
        writing; nothing is left behind.
    """
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        msg = f"cannot write {path.name}: a workbook of several sheets must be .xlsx"
        raise WriteError(msg)
    tables = {name: _as_table(table) if "geometry" in table else table for name, table in sheets.items()}
    with atomic(path) as temp:
        _write_workbook(tables, temp, path, keep_others=False)
    return path


@contextmanager
def atomic(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``, renamed over it when the block succeeds.

    On any failure, Ctrl-C included, the temporary file (and any file the
    writer added beside it) is removed and ``path`` is left as it was; an
    ordinary exception becomes :class:`WriteError`.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.

    Yields
    ------
    pathlib.Path
        The temporary file to write to, in the same folder as ``path``.

    Raises
    ------
    WriteError
        Missing folder, ``path`` is a folder, or the block failed.
    """
    path = Path(path)
    if not path.parent.is_dir():
        msg = f"cannot write {path}: folder {path.parent} does not exist"
        raise WriteError(msg)
    if path.is_dir():
        msg = f"cannot write {path}: it is a folder"
        raise WriteError(msg)
    # Same folder, so the final rename stays on one file system and is atomic.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        yield temp
        os.replace(temp, path)
    except BaseException as exc:
        for leftover in temp.parent.glob(glob.escape(temp.name) + "*"):
            leftover.unlink(missing_ok=True)
        # A user's mistake found while writing (a bad cell of a later block) keeps its own message.
        if not isinstance(exc, Exception) or isinstance(exc, CqgisError):
            raise
        msg = f"cannot write {path}: {_one_line(exc)}"
        raise WriteError(msg) from exc


def _write_gdal(
    frame: gpd.GeoDataFrame,
    temp: Path,
    target: Path,
    fmt: FileFormat,
    layer: str | None,
    *,
    geometry_type: str | None = None,
) -> None:
    import pyogrio

    # Dataset options apply when the file is created, not when a layer is added.
    options = {"VERSION": GPKG_VERSION} if fmt.driver == "GPKG" else {}
    with _fixed_gdal_date():
        pyogrio.write_dataframe(
            _refresh_point_columns(frame), temp, driver=fmt.driver, layer=layer or target.stem,
            dataset_options=options, geometry_type=geometry_type,
        )


def _write_styles(temp: Path, styles: Mapping[str, str]) -> None:
    from cqgis.geo import gpkg_styles

    with _fixed_gdal_date():
        gpkg_styles.write_styles(temp, styles, update_time=FIXED_GDAL_DATE)


@contextmanager
def _fixed_gdal_date() -> Iterator[None]:
    """Make GDAL stamp GeoPackage metadata with :data:`FIXED_GDAL_DATE`.

    GeoPackage stamps each table with the time of writing; a fixed stamp
    makes the same data give the same bytes (the atlas promises that).
    """
    import pyogrio

    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_GDAL_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def _write_parquet(
    frame: gpd.GeoDataFrame, temp: Path, target: Path, fmt: FileFormat, layer: str | None
) -> None:
    _refresh_point_columns(frame).to_parquet(temp)


def _write_csv(
    frame: gpd.GeoDataFrame, temp: Path, target: Path, fmt: FileFormat, layer: str | None
) -> None:
    _write_csv_blocks([frame], temp)


def _write_csv_blocks(blocks: Iterable[gpd.GeoDataFrame], temp: Path) -> int:
    """Write frames one after the other as one CSV table (the first one's header); return the rows written."""
    count = 0
    for i, block in enumerate(blocks):
        # The BOM makes Excel on Chinese Windows open UTF-8 as UTF-8, not GBK; appended blocks carry none.
        _defused(_as_table(block)).to_csv(
            temp, index=False, header=i == 0, mode="a" if i else "w", encoding="utf-8" if i else "utf-8-sig"
        )
        count += len(block)
    return count


def _write_excel(
    frame: gpd.GeoDataFrame, temp: Path, target: Path, fmt: FileFormat, layer: str | None
) -> None:
    _write_workbook({layer or DEFAULT_SHEET: _as_table(frame)}, temp, target, keep_others=layer is not None)


def _defused(table: pd.DataFrame) -> pd.DataFrame:
    """Return ``table`` with text cells a spreadsheet would run as a formula prefixed with ``'``.

    Excel, LibreOffice and WPS evaluate a CSV cell starting with ``=``, ``+``,
    ``-``, ``@``, tab or carriage return (CSV injection); the apostrophe makes
    them show the text. Numbers written as text (``-3.5``) are left alone.
    """
    out = table
    for column in table.columns:
        values = table[column]
        if not _is_text_column(values):
            continue
        text = values if values.dtype != object else values.map(lambda cell: cell if isinstance(cell, str) else "")
        risky = text.str.startswith(_FORMULA_STARTS).fillna(False).to_numpy(dtype=bool, copy=True)
        if not risky.any():
            continue
        risky[risky] = ~text[risky].str.fullmatch(_PLAIN_NUMBER).to_numpy(dtype=bool)
        if risky.any():
            out = out.copy() if out is table else out
            out[column] = values.where(~risky, "'" + text)
    return out


def _write_workbook(
    tables: Mapping[str, pd.DataFrame], temp: Path, target: Path, keep_others: bool
) -> None:
    """Write tables as sheets into ``temp``, the workbook that will replace ``target``.

    A new workbook is written with openpyxl's streaming writer: rows go
    straight to the file instead of through a cell object each, several
    times faster than ``DataFrame.to_excel``. An existing target's other
    sheets are kept when ``keep_others`` (that workbook is opened whole,
    the written sheets replaced in place); else a target holding sheets not
    written is refused rather than lost. Text cells are stored as text,
    never as live formulas; missing values are empty cells.
    """
    import openpyxl

    names = {name[:31]: table for name, table in tables.items()}
    # Checked before the workbook opens: closing a half-built workbook would hide the reason.
    for table in names.values():
        _check_excel_cells(table, target)
    existing = _sheet_names(target)
    lost = [name for name in existing if name not in names]
    if lost and not keep_others:
        msg = (
            f"cannot write {target.name}: it exists and holds sheets this output does not write "
            f"({', '.join(lost)}); cqgis does not delete them: choose another file name"
        )
        raise WriteError(msg)
    if lost:
        book = openpyxl.load_workbook(target)
        sheets = []
        for name in names:
            position = book.sheetnames.index(name) if name in book.sheetnames else len(book.sheetnames)
            if name in book.sheetnames:
                book.remove(book[name])
            sheets.append(book.create_sheet(name, position))
    else:
        book = openpyxl.Workbook(write_only=True)
        # Every sheet is named before any is written: a bad name must not leave a stream half open.
        sheets = [book.create_sheet(name) for name in names]
    for sheet, table in zip(sheets, names.values()):
        _fill_sheet(sheet, table)
    book.save(temp)


def _fill_sheet(sheet: object, table: pd.DataFrame) -> None:
    """Append a bold header row, then the table's values, text starting with ``=`` kept as text."""
    import numpy as np
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    header = [WriteOnlyCell(sheet, value=str(column)) for column in table.columns]
    for cell in header:
        cell.font = bold
    sheet.append(header)
    columns = [
        values.astype(object).where(values.notna(), None).to_numpy()
        for values in (table.iloc[:, i] for i in range(table.shape[1]))
    ]
    formulas = np.zeros((len(table), len(columns)), bool)
    for position, values in enumerate(columns):
        if _is_text_column(table.iloc[:, position]):
            formulas[:, position] = [isinstance(cell, str) and cell.startswith("=") for cell in values]
    marked = formulas.any(axis=1)
    for index, row in enumerate(zip(*columns)):
        if marked[index]:
            row = [_text_cell(sheet, value) if formula else value for value, formula in zip(row, formulas[index])]
        sheet.append(row)


def _text_cell(sheet: object, text: str) -> object:
    """A cell holding ``text`` as text: openpyxl would otherwise store it as a live formula."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    # Excel then keeps it as text when the cell is edited, as if typed with a leading '.
    cell.quotePrefix = True
    return cell


def _is_text_column(values: pd.Series) -> bool:
    import pandas as pd

    return values.dtype == object or pd.api.types.is_string_dtype(values)


def _sheet_names(path: Path) -> list[str]:
    """Return the sheets of an existing workbook, none when there is no file."""
    import openpyxl

    if not path.exists():
        return []
    try:
        book = openpyxl.load_workbook(path, read_only=True)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        msg = f"cannot write {path.name}: it exists and is not an Excel workbook ({_one_line(exc)}); choose another file name"
        raise WriteError(msg) from exc
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _check_excel_cells(table: pd.DataFrame, target: Path) -> None:
    """Refuse text Excel would cut: a cell holds at most 32,767 characters (a detailed polygon's WKT does not fit)."""
    import pandas as pd

    for column in table.columns:
        values = table[column]
        if not _is_text_column(values):
            continue
        lengths = values.map(lambda v: len(v) if isinstance(v, str) else 0)
        if (lengths > EXCEL_CELL_LIMIT).any():
            msg = (
                f"cannot write {target.name}: column {column} has cells longer than Excel's "
                f"{EXCEL_CELL_LIMIT:,} characters (detailed geometries); write .gpkg, .geojson or .csv instead"
            )
            raise WriteError(msg)


_WRITERS: Mapping[str, Callable[[gpd.GeoDataFrame, Path, Path, FileFormat, str | None], None]] = (
    MappingProxyType({
        "gdal": _write_gdal,
        "parquet": _write_parquet,
        "csv": _write_csv,
        "excel": _write_excel,
    })
)


def _existing(path: str | os.PathLike) -> Path:
    path = Path(path)
    if not path.exists():
        msg = f"{path}: no such file"
        raise ReadError(msg)
    if path.is_dir():
        msg = f"{path} is a folder; name a file in it"
        raise ReadError(msg)
    if path.stat().st_size == 0:
        msg = f"{path.name} is empty (0 bytes): nothing to read"
        raise ReadError(msg)
    return path


def _read_format(path: Path) -> FileFormat:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        kind = f"{path.suffix!r} files" if path.suffix else "files without an extension"
        msg = (
            f"cannot read {path.name}: cqgis does not read {kind}; "
            f"it reads {', '.join(READ_EXTENSIONS)}"
        )
        raise ReadError(msg)
    return fmt


def _vector_format(path: Path) -> FileFormat:
    fmt = _read_format(path)
    if fmt.is_table:
        msg = f"{path.name} is a {fmt.label} table, not a vector file: read it with read_table"
        raise ReadError(msg)
    return fmt


def _one_line(exc: BaseException) -> str:
    # GDAL messages can span lines; the CLI promises one.
    return " ".join(str(exc).split()) or type(exc).__name__


@contextmanager
def _reading(path: Path, *failures: type[BaseException]) -> Iterator[None]:
    """Turn a library's complaint about a malformed file into a ReadError naming the file."""
    try:
        yield
    except failures as exc:
        reason = _one_line(exc)
        quote = _UNCLOSED_QUOTE.search(reason)
        if quote:
            # pandas counts rows from 0 and names its C tokenizer; users count from 1.
            reason = f'a quote (") opened on row {int(quote.group(1)) + 1} is never closed'
        if reason.startswith(_GDAL_CANNOT_OPEN):
            # GDAL's wording (with its open flags) says nothing to a user.
            fmt = FORMATS.get(path.suffix.lower())
            reason = f"it is not a valid {fmt.label if fmt else ''} file (no format GDAL knows could open it)"
        msg = f"cannot read {path}: {reason}"
        raise ReadError(msg) from exc


def _choose_layer(path: Path, layers: Sequence[str], layer: str | None) -> str:
    if layer is not None and layer in layers:
        return layer
    if layer is None and len(layers) == 1:
        return layers[0]
    if not layers:
        msg = f"{path.name} holds no layers"
    elif layer is None:
        listed = ", ".join(layers)
        msg = f"{path.name} holds {len(layers)} layers ({listed}): choose one with --layer"
    else:
        msg = f"{path.name} has no layer {layer!r}; its layers are: {', '.join(layers)}"
    raise ReadError(msg)


def _gdal_source(
    path: Path, fmt: FileFormat, layer: str | None
) -> tuple[str, str | None, str | None]:
    """Return what GDAL should open for a layer: (source, layer name, text encoding)."""
    if fmt.kind == "zipped":
        with _open_zip(path) as archive:
            members = _zip_shapefiles(path, archive.namelist())
            member = members[_choose_layer(path, list(members), layer)]
            base = member[: -len(".shp")].lower()
            sidecars = {
                "." + name.rsplit(".", 1)[1].lower(): partial(archive.open, name)
                for name in archive.namelist()
                if name.lower().rsplit(".", 1)[0] == base
            }
            encoding = _sidecar_encoding(sidecars, f"{path.name}: {PurePosixPath(member).name}")
        return f"/vsizip/{path.resolve()}/{member}", None, encoding
    encoding = None
    if fmt.driver == _SHAPEFILE:
        sidecars = {
            sibling.suffix.lower(): partial(sibling.open, "rb")
            for sibling in path.parent.glob(glob.escape(path.stem) + ".*")
        }
        encoding = _sidecar_encoding(sidecars, path.name)
    name = _choose_layer(path, list_layers(path), layer)
    return str(path), name, encoding


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        msg = f"cannot read {path}: not a valid zip file ({_one_line(exc)})"
        raise ReadError(msg) from exc


def _zip_shapefiles(path: Path, names: Sequence[str]) -> dict[str, str]:
    """Map the stem of every shapefile in a zip to its member name."""
    shapefiles = {
        PurePosixPath(name).stem: name
        for name in names
        if name.lower().endswith(".shp") and not name.startswith("__MACOSX/")
    }
    if not shapefiles:
        msg = f"{path.name} holds no shapefile (.shp)"
        raise ReadError(msg)
    return shapefiles


def _sidecar_encoding(sidecars: Mapping[str, Callable[[], BinaryIO]], what: str) -> str | None:
    """Check a shapefile's companion files and choose the encoding of its text, given openers by extension.

    A shapefile without its ``.dbf`` would give features without
    attributes, and one without its ``.shx`` index cannot be read: both are
    refused. The text is decoded, not trusted to the ``.cpg``: strictly as
    UTF-8 first (GBK text almost never passes as UTF-8, while UTF-8 text
    often passes as GBK), then as the ``.cpg`` says, then as GB18030.
    None lets GDAL decide, for plain ASCII.
    """
    for sidecar, role in ((".dbf", "attribute table"), (".shx", "index")):
        if sidecar not in sidecars:
            msg = (
                f"{what}: the shapefile's {role} ({sidecar}) is missing; cqgis reads a shapefile "
                f"only with its .shp, .shx and .dbf together: add the {sidecar} that came with the .shp"
            )
            raise ReadError(msg)
    declared = None
    if ".cpg" in sidecars:
        with sidecars[".cpg"]() as stream:
            declared = _codec(stream.read(64).decode("ascii", "replace"))
    with sidecars[".dbf"]() as stream:
        sample = _dbf_text_sample(stream)
    if sample is None or sample.isascii():
        return None
    encodings = dict.fromkeys(name for name in ("utf-8", declared, *_DBF_ENCODINGS) if name)
    decoded = _first_decoding(sample, tuple(encodings))
    if decoded is None:
        msg = f"{what}: the attribute text is neither UTF-8 nor GBK/GB18030{' nor ' + declared if declared else ''}"
        raise ReadError(msg)
    return decoded[0]


def _codec(label: str) -> str | None:
    """Python codec of a ``.cpg`` label (``UTF-8``, ``GBK``, ``936``, ``1252``), or None if unknown."""
    import codecs

    label = label.strip().lower()
    label = _CPG_CODE_PAGES.get(label, f"cp{label}" if label.isdigit() else label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _dbf_text_sample(stream: BinaryIO) -> bytes | None:
    """Return the bytes of a DBF's field names and text fields, or None for a DBF cqgis cannot lay out.

    Reads the header and up to :data:`_ENCODING_SAMPLE_BYTES` of records;
    the bytes of the character (``C``) fields are gathered with one mask
    over the record layout.
    """
    import numpy as np

    header = stream.read(32)
    if len(header) < 32:
        return None
    n_records = int.from_bytes(header[4:8], "little")
    header_size = int.from_bytes(header[8:10], "little")
    record_size = int.from_bytes(header[10:12], "little")
    descriptors = np.frombuffer(stream.read(max(header_size - 32, 0)), dtype=np.uint8)
    fields = descriptors[: descriptors.size // 32 * 32].reshape(-1, 32)
    end = np.flatnonzero(fields[:, 0] == _DBF_HEADER_END)
    fields = fields[: end[0] if end.size else len(fields)]
    sizes = fields[:, 16].astype(np.intp)
    # Each record is a deletion flag followed by the fields at their widths.
    text_bytes = np.concatenate([[False], np.repeat(fields[:, 11] == _DBF_TEXT_FIELD, sizes)])
    if record_size == 0 or text_bytes.size != record_size:
        return None
    count = min(n_records, _ENCODING_SAMPLE_BYTES // record_size)
    raw = np.frombuffer(stream.read(count * record_size), dtype=np.uint8)
    records = raw[: raw.size // record_size * record_size].reshape(-1, record_size)
    return fields[:, :11].tobytes() + records[:, text_bytes].tobytes()


def _first_decoding(raw: bytes, encodings: Sequence[str]) -> tuple[str, str] | None:
    """Return (encoding, text) for the first encoding that decodes ``raw`` strictly."""
    for encoding in encodings:
        try:
            return encoding, raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _georeference(
    frame: gpd.GeoDataFrame, crs: str | int | pyproj.CRS | None, path: Path
) -> gpd.GeoDataFrame:
    from cqgis.geo import crs as crs_module

    if crs is None and frame.crs is None:
        msg = (
            f"{path.name} has no coordinate system: say what its coordinates are with "
            f"--crs (wgs84, cgcs2000, gcj02, bd09 or an EPSG code such as 4545)"
        )
        raise CRSError(msg)
    return crs_module.to_wgs84(frame, crs)


def _read_csv(
    path: Path,
    layout: tuple[str, str, int] | None = None,
    nrows: int | None = None,
    chunk_rows: int | None = None,
) -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Read a CSV or tab-separated text file's cells as text, without a header.

    ``layout`` is :func:`_csv_layout`'s (found when not given); ``nrows``
    reads only the first rows and ``chunk_rows`` gives an iterator of
    blocks of that many rows, labelled by their position in the file.
    """
    import pandas as pd

    encoding, separator, width = layout or _csv_layout(path)
    # pandas decodes the file as it parses: no copy of the whole text is held.
    with _reading(path, pd.errors.ParserError, pd.errors.EmptyDataError):
        return pd.read_csv(
            path, sep=separator, header=None, names=range(width), encoding=encoding,
            skip_blank_lines=False, dtype=str, nrows=nrows, chunksize=chunk_rows,
        )


def _csv_layout(path: Path) -> tuple[str, str, int]:
    """Return a CSV file's (encoding, separator, number of columns), refusing undecodable and empty files."""
    encoding = _text_encoding(path, _CSV_ENCODINGS)
    if encoding is None:
        msg = (
            f"cannot read {path.name}: it is neither UTF-8 nor GBK/GB18030 text; "
            f"save it as UTF-8 CSV"
        )
        raise ReadError(msg)
    with path.open(encoding=encoding, newline="") as stream:
        head = stream.read(_CSV_HEAD_CHARS).splitlines()[:HEADER_SEARCH_ROWS]
    if not any(line.strip() for line in head):
        msg = f"{path.name} is empty: it has no header row and no data"
        raise ReadError(msg)
    # Excel's "text (tab delimited)" export uses tabs; everything else commas.
    separator = "\t" if any("\t" in line for line in head) else ","
    # Title rows above the header are narrower than it: name the widest row's columns.
    width = max(line.count(separator) for line in head) + 1
    return encoding, separator, width


def _text_encoding(path: Path, encodings: Sequence[str]) -> str | None:
    """Return the first encoding that decodes the whole file strictly, read in blocks; None if none does."""
    import codecs

    for encoding in encodings:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            with path.open("rb") as stream:
                while block := stream.read(_DECODE_BLOCK_BYTES):
                    decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _read_excel(path: Path, fmt: FileFormat, sheet: str | None) -> tuple[pd.DataFrame, str]:
    """Read a worksheet's cells as Excel typed them, without a header; also say which sheet it is."""
    import pandas as pd

    try:
        book = pd.ExcelFile(path, engine=fmt.driver)
    except ImportError as exc:
        msg = (
            f"cannot read {path.name}: {fmt.label} workbooks need the {fmt.driver} package, "
            f"which is not installed; save the workbook as .xlsx"
        )
        raise ReadError(msg) from exc
    except (ValueError, OSError, zipfile.BadZipFile, KeyError) as exc:
        msg = f"cannot read {path.name}: not a valid Excel workbook ({_one_line(exc)})"
        raise ReadError(msg) from exc
    with book:
        name = _choose_sheet(path, book.sheet_names, sheet)
        others = [other for other in book.sheet_names if other != name]
        where = f"{path.name} sheet {name!r}" + (f" (other sheets: {', '.join(others)})" if others else "")
        return pd.read_excel(book, sheet_name=name, header=None, dtype=object), where


def _choose_sheet(path: Path, sheets: Sequence[str], sheet: str | None) -> str:
    if sheet is None:
        return sheets[0]
    if sheet not in sheets:
        msg = f"{path.name} has no sheet {sheet!r}; its sheets are: {', '.join(sheets)}"
        raise ReadError(msg)
    return sheet


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


def _refresh_point_columns(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Bring a table's remembered coordinate columns in line with the geometry being written."""
    if not _has_geometry(frame):
        return frame
    names = frame.attrs.get(COORDINATE_COLUMNS)
    refreshed = _point_columns(frame, names) if names else None
    return frame if refreshed is None else refreshed


def _has_geometry(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` is a GeoDataFrame with an active geometry column."""
    return getattr(frame, "_geometry_column_name", None) in frame.columns


def _as_table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    """Turn a GeoDataFrame into a plain table: coordinate columns (and z) for points, WKT otherwise."""
    import numpy as np
    import pandas as pd
    import shapely

    if not _has_geometry(frame):
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
