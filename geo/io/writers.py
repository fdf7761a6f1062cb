"""Writing layers and tables in every format cqgis produces (GeoPackage with styles, GeoJSON, FlatGeobuf, GeoParquet, CSV, Excel)."""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from cqgis.errors import one_line
from cqgis.geo.errors import WriteError
from cqgis.geo.io.formats import FORMATS, WRITE_EXTENSIONS, FileFormat
from cqgis.geo.io.points import as_table, has_geometry, refresh_point_columns
from cqgis.geo.io.tempfiles import atomic

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from cqgis.geo.gpkg_styles import LayerStyle


#: Most characters an Excel cell holds.
EXCEL_CELL_LIMIT = 32_767
#: Sheet a single table is written to when no layer name is given.
DEFAULT_SHEET = "Sheet1"
# First characters that make a spreadsheet evaluate a CSV cell (see _defused).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
#: Time stamp GDAL writes into GeoPackage metadata (see :func:`_write_gdal`).
FIXED_GDAL_DATE = "2000-01-01T00:00:00Z"
#: GeoPackage version written: 1.2 is read without warnings by the GDAL of
#: Debian's QGIS 3.22, which calls GDAL's default (1.4) only partially supported.
GPKG_VERSION = "1.2"


def write(
    frame: gpd.GeoDataFrame, path: str | os.PathLike, layer: str | None = None, style: str | LayerStyle | None = None
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
    style : str or LayerStyle, optional
        QGIS style (QML, or QML and SLD) stored as the layer's default in a GeoPackage's
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
    if not has_geometry(frame) and fmt.kind not in ("csv", "excel", "parquet"):
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
    styles: Mapping[str, str | LayerStyle] | None = None,
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
    styles : mapping of str to str or LayerStyle, optional
        Layer name -> QGIS style (QML, or QML and SLD), stored as the layer's default (see
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
    tables = {name: as_table(table) if "geometry" in table else table for name, table in sheets.items()}
    with atomic(path) as temp:
        _write_workbook(tables, temp, path, keep_others=False)
    return path


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
            refresh_point_columns(frame), temp, driver=fmt.driver, layer=layer or target.stem,
            dataset_options=options, geometry_type=geometry_type,
        )


def _write_styles(temp: Path, styles: Mapping[str, str | LayerStyle]) -> None:
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
    refresh_point_columns(frame).to_parquet(temp)


def _write_csv(
    frame: gpd.GeoDataFrame, temp: Path, target: Path, fmt: FileFormat, layer: str | None
) -> None:
    _write_csv_blocks([frame], temp)


def _write_csv_blocks(blocks: Iterable[gpd.GeoDataFrame], temp: Path) -> int:
    """Write frames one after the other as one CSV table (the first one's header); return the rows written."""
    count = 0
    for i, block in enumerate(blocks):
        # The BOM makes Excel on Chinese Windows open UTF-8 as UTF-8, not GBK; appended blocks carry none.
        _defused(as_table(block)).to_csv(
            temp, index=False, header=i == 0, mode="a" if i else "w", encoding="utf-8" if i else "utf-8-sig"
        )
        count += len(block)
    return count


def _write_excel(
    frame: gpd.GeoDataFrame, temp: Path, target: Path, fmt: FileFormat, layer: str | None
) -> None:
    _write_workbook({layer or DEFAULT_SHEET: as_table(frame)}, temp, target, keep_others=layer is not None)


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
        msg = f"cannot write {path.name}: it exists and is not an Excel workbook ({one_line(exc, with_type=False)}); choose another file name"
        raise WriteError(msg) from exc
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def _check_excel_cells(table: pd.DataFrame, target: Path) -> None:
    """Refuse text Excel would cut: a cell holds at most 32,767 characters (a detailed polygon's WKT does not fit)."""

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
