"""Validation: a row-by-row report of what is wrong with a layer or a user's file, with repairs.

:func:`validate` checks a GeoDataFrame already in EPSG:4326;
:func:`validate_file` reads a file leniently first, so that a table whose
coordinate cells are blank, text or metres is reported cell by cell instead
of stopping at the first bad cell as :func:`cqgis.geo.io.read` does.

Neither raises for a problem in the data: they return a :class:`Report`
listing every :class:`Problem` with its row, column and value, and the data
with invalid geometries repaired by :func:`shapely.make_valid`.

Rows are numbered as the user sees them: a table's rows as the spreadsheet
numbers them (the header is row 1, so the first record is row 2), a vector
file's features from 1.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from cqgis import config
from cqgis.geo import crs as crs_module
from cqgis.geo import io

#: Problem kinds and what each means, in the order reports list them.
KINDS: Mapping[str, str] = MappingProxyType({
    "missing_field": "a required column is absent",
    "null_geometry": "no geometry, or blank coordinate cells",
    "not_a_number": "a coordinate cell that is not a number",
    "projected_coordinates": "metres (a projected CRS) in degree columns",
    "swapped_coordinates": "latitude and longitude apparently swapped",
    "outside_region": "coordinates outside the expected region",
    "empty_geometry": "an empty geometry",
    "invalid_geometry": "an invalid geometry, repaired with make_valid",
    "wrong_geometry_type": "a geometry of another type than the layer holds",
    "duplicate_id": "an id used by more than one row",
    "missing_value": "a blank cell in a required column",
    "not_numeric": "a value that is not a number in a numeric column",
    "not_integer": "a fraction in a column of whole numbers (a count)",
    "below_minimum": "a value below the column's minimum (a negative count)",
    "not_allowed": "a value outside the column's allowed values",
    "unreadable_table": "a table its layer's reader cannot parse (the first bad cell)",
    "duplicate_item": "two columns giving the same water-quality item",
    "bad_time": "a monitoring time that cannot be read, or has no year",
    "unreadable_value": "a cell that is no value, no below-detection mark and no missing mark",
    "impossible_value": "a value no water has (pH outside 0-14, dissolved oxygen far above saturation): not used",
    "unknown_section": "a section the sections table does not have (close matches listed)",
    "station_status": "a station status (站点情况) other than 正常",
    "no_values": "a row with no usable value: not used",
    "no_section": "a row with values but no section name or code: not used",
    "not_measured": "cells marked not measured (--) or withheld (*): counted, never zero",
})

#: Column names taken as the id column when none is named (case-insensitive).
ID_NAMES = ("id", "code", "fid", "编号", "编码", "代码", "断面编码", "站点编号")

# An id column no table has: blocks leave duplicate ids to the check over all blocks.
_NO_ID_CHECK = "\0"

#: How many problem lines :meth:`Report.format` prints before summarising.
SHOWN_PROBLEMS = 50


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the data.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    row : int or None
        Row as the user numbers it (see the module docstring); None for a
        problem of the whole file, such as a missing column.
    column : str or None
        The column concerned; None for geometries.
    value : str or None
        The offending value as text.
    message : str
        What is wrong and what was expected.
    """

    kind: str
    row: int | None
    column: str | None
    value: str | None
    message: str

    def __str__(self) -> str:
        where = [f"row {self.row}"] if self.row is not None else []
        if self.column is not None:
            where.append(f"column {self.column}")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


@dataclass
class Report:
    """What :func:`validate` found.

    Parameters
    ----------
    name : str
        What was validated (the file name).
    rows : int
        Number of rows checked.
    problems : list of Problem
        Every problem, ordered by kind (as in :data:`KINDS`) then row.
    frame : geopandas.GeoDataFrame
        The data in EPSG:4326 with invalid geometries repaired; rows whose
        coordinates could not be used have no geometry.
    row_numbers : numpy.ndarray
        The number the user knows each row of ``frame`` by.
    """

    name: str
    rows: int
    problems: list[Problem] = field(default_factory=list)
    frame: gpd.GeoDataFrame | None = None
    row_numbers: np.ndarray | None = None

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def counts(self) -> dict[str, int]:
        """Return the number of problems of each kind found, in :data:`KINDS` order.

        Returns
        -------
        dict of str to int
            Problem kind -> count; kinds not found are left out.
        """
        found = pd.Series([p.kind for p in self.problems], dtype=object).value_counts()
        return {kind: int(found[kind]) for kind in KINDS if kind in found.index}

    def to_frame(self) -> pd.DataFrame:
        """Return the problems as a table (kind, row, column, value, message).

        Returns
        -------
        pandas.DataFrame
            One row per problem; ``row`` is a nullable integer column.
        """
        return pd.DataFrame(
            [(p.kind, p.row, p.column, p.value, p.message) for p in self.problems],
            columns=["kind", "row", "column", "value", "message"],
        ).astype({"row": "Int64"})

    def format(self, limit: int = SHOWN_PROBLEMS) -> str:
        """Return the report as text: a summary line, then one line per problem.

        Parameters
        ----------
        limit : int
            How many problem lines to print before summarising the rest.

        Returns
        -------
        str
            The report, lines separated by newlines.
        """
        if self.ok:
            return f"{self.name}: {self.rows} rows, no problems found"
        counts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in self.counts().items())
        lines = [f"{self.name}: {self.rows} rows, {len(self.problems)} problems ({counts})"]
        lines += [f"  {problem}" for problem in self.problems[:limit]]
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        return "\n".join(lines)


def validate(
    frame: gpd.GeoDataFrame,
    *,
    name: str = "data",
    row_numbers: Sequence[int] | None = None,
    id_column: str | None = None,
    required: Collection[str] = (),
    numeric: Collection[str] = (),
    allowed: Mapping[str, Collection] | None = None,
    region: tuple[float, float, float, float] = config.EXPECTED_REGION,
) -> Report:
    """Check a GeoDataFrame in EPSG:4326 and repair its invalid geometries.

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The data, in EPSG:4326.
    name : str
        What the report calls the data.
    row_numbers : sequence of int, optional
        The number the user knows each row by; default: 1, 2, 3...
    id_column : str, optional
        Column whose values must be unique; default: the first column named
        one of :data:`ID_NAMES`, if any.
    required : collection of str
        Columns that must exist and have a value in every row.
    numeric : collection of str
        Columns whose non-blank values must be numbers.
    allowed : mapping of str to collection, optional
        Columns whose non-blank values must be one of the given values.
    region : tuple of float
        (west, south, east, north) in degrees where the data is expected;
        default: Chongqing and its neighbouring provinces.

    Returns
    -------
    Report
        The problems and the repaired frame.
    """
    rows = np.arange(1, len(frame) + 1) if row_numbers is None else np.asarray(row_numbers)
    problems = _geometry_problems(frame.geometry, rows, region)
    problems += check_attributes(frame, rows, id_column, required, numeric, allowed or {})
    repaired, _ = repair(frame)
    return Report(name=name, rows=len(frame), problems=ordered(problems), frame=repaired, row_numbers=rows)


def repair(frame: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, np.ndarray]:
    """Repair invalid geometries (a self-intersecting polygon) with :func:`shapely.make_valid`.

    Overlays and buffers fail on invalid geometries; the repaired shape
    covers the same ground (a bow-tie becomes two triangles).

    Parameters
    ----------
    frame : geopandas.GeoDataFrame
        The data.

    Returns
    -------
    (geopandas.GeoDataFrame, numpy.ndarray)
        A copy with every invalid geometry repaired (``frame`` itself when
        none is), and the positions of the repaired rows.
    """
    geometries = np.array(frame.geometry.array, dtype=object)
    invalid = np.flatnonzero(~shapely.is_valid(geometries) & ~shapely.is_missing(geometries))
    if invalid.size == 0:
        return frame, invalid
    geometries[invalid] = shapely.make_valid(geometries[invalid])
    repaired = frame.copy()
    repaired[frame.geometry.name] = gpd.GeoSeries(geometries, index=frame.index, crs=frame.crs)
    return repaired, invalid


def validate_file(
    path: str | os.PathLike,
    *,
    crs: str | int | pyproj.CRS | None = None,
    layer: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    header_row: int | None = None,
    **rules: object,
) -> Report:
    """Read a file leniently and validate it (see :func:`validate` for ``rules``).

    A table's coordinate cells are checked one by one: blank, text and
    out-of-range (metre) values are reported and their rows kept without a
    geometry. Vector files are read with :func:`cqgis.geo.io.read`.

    Parameters
    ----------
    path : str or os.PathLike
        Any file :func:`cqgis.geo.io.read` reads.
    crs : str, int or pyproj.CRS, optional
        What the coordinates are; default: the file's own CRS (tables: WGS84).
    layer : str, optional
        Layer or sheet to read.
    lon, lat : str, optional
        A table's coordinate columns; default: found by their usual names.
    header_row : int, optional
        A table's header row, from 1; default: found (see :func:`cqgis.geo.io.read_rows`).
    **rules
        Keyword arguments of :func:`validate` (``id_column``, ``required``,
        ``numeric``, ``allowed``, ``region``).

    Returns
    -------
    Report
        The problems, cell problems of a table included, and the repaired
        frame.

    Raises
    ------
    cqgis.geo.errors.ReadError, cqgis.geo.errors.CRSError
        When the file cannot be read at all (missing, unknown format,
        undecodable, no coordinate columns): there is nothing to validate.
    """
    fmt = io.FORMATS.get(os.path.splitext(str(path))[1].lower())
    name = os.path.basename(path)
    if fmt is None or not fmt.is_table:
        frame = io.read(path, layer=layer, crs=crs, header_row=header_row)
        return validate(frame, name=name, **rules)
    table = io.read_rows(path, sheet=layer, header_row=header_row)
    return _validate_table(table, path, crs, lon, lat, **rules)


def validate_blocks(
    path: str | os.PathLike,
    *,
    crs: str | int | pyproj.CRS | None = None,
    lon: str | None = None,
    lat: str | None = None,
    header_row: int | None = None,
    rows: int = io.BLOCK_ROWS,
    id_column: str | None = None,
    **rules: object,
) -> Report:
    """Validate a large CSV table block by block, in memory that does not grow with the file.

    Finds what :func:`validate_file` finds in a CSV (duplicate ids across
    blocks included), its cells read as text.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.csv`` or ``.txt`` table of points.
    crs, lon, lat, header_row
        As for :func:`validate_file`.
    rows : int
        Rows per block.
    id_column : str, optional
        Column whose values must be unique; default: found by name.
    **rules
        ``required``, ``numeric``, ``allowed``, ``region`` as for :func:`validate`.

    Returns
    -------
    Report
        The problems; no ``frame`` (the data is never whole in memory).
    """
    problems: list[Problem] = []
    ids: list[pd.Series] = []
    count = 0
    column = id_column
    for table in io.iter_rows(path, header_row=header_row, rows=rows):
        column = column or _id_column(table.columns)
        report = _validate_table(table, path, crs, lon, lat, id_column=_NO_ID_CHECK, **rules)
        problems += report.problems
        count += report.rows
        if column is not None and column in table.columns:
            ids.append(table[column].dropna())
    if ids:
        every = pd.concat(ids)
        repeated = every[every.duplicated(keep=False)]
        problems += check_attributes(repeated.to_frame(), repeated.index.to_numpy(), id_column=column)
    return Report(name=os.path.basename(path), rows=count, problems=ordered(problems))


def _validate_table(
    table: pd.DataFrame,
    path: str | os.PathLike,
    crs: str | int | pyproj.CRS | None,
    lon: str | None,
    lat: str | None,
    **rules: object,
) -> Report:
    """Validate a table's rows as read, their coordinate cells one by one (see :func:`validate_file`)."""
    lon_column, lat_column = io.find_coordinate_columns(table.columns, path, lon=lon, lat=lat)
    source = crs_module.parse_crs("wgs84" if crs is None else crs)
    degrees = isinstance(source, str) or source.is_geographic
    cell_problems, x, y = _coordinate_cells(table, lon_column, lat_column, degrees)
    usable = np.isfinite(x) & np.isfinite(y)
    points = np.full(len(table), None, dtype=object)
    points[usable] = shapely.points(x[usable], y[usable])
    frame = crs_module.to_wgs84(gpd.GeoDataFrame(table.reset_index(drop=True), geometry=points), source)
    frame.attrs[io.COORDINATE_COLUMNS] = (lon_column, lat_column)
    report = validate(frame, name=os.path.basename(path), row_numbers=table.index.to_numpy(), **rules)
    # A table's missing points come from its cells, already reported cell by cell.
    found = [p for p in report.problems if p.kind != "null_geometry"]
    report.problems = ordered(cell_problems + found)
    return report


def ordered(problems: list[Problem]) -> list[Problem]:
    """Sort problems as reports list them: by kind (as in :data:`KINDS`), then row.

    Parameters
    ----------
    problems : list of Problem
        The problems, in any order.

    Returns
    -------
    list of Problem
        A new, sorted list; problems without a row come first in their kind.
    """
    order = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(problems, key=lambda p: (order[p.kind], -1 if p.row is None else p.row))


def _coordinate_cells(
    table: pd.DataFrame, lon_column: str, lat_column: str, degrees: bool
) -> tuple[list[Problem], np.ndarray, np.ndarray]:
    """Parse the coordinate cells; report blank, text and metre values and blank them out."""
    problems = []
    values = {}
    for column in (lon_column, lat_column):
        raw = table[column]
        number = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        blank = raw.isna().to_numpy() | raw.astype(str).str.strip().eq("").to_numpy()
        text = ~blank & ~np.isfinite(number)
        for i in np.flatnonzero(text):
            problems.append(
                Problem("not_a_number", int(table.index[i]), str(column), str(raw.iloc[i]),
                        f"expected a number, got '{raw.iloc[i]}'")
            )
        values[column] = number
    x, y = values[lon_column], values[lat_column]
    blank_rows = ~np.isfinite(x) | ~np.isfinite(y)
    # Rows with a text cell are reported as not_a_number; the rest of the unusable ones are blank.
    for i in np.flatnonzero(blank_rows & ~_any_text(table, (lon_column, lat_column))):
        problems.append(
            Problem("null_geometry", int(table.index[i]), None, None, "blank coordinates: no point")
        )
    if degrees:
        # Swapped degrees are caught later on the points; only values no degree can take are metres.
        swapped = (np.abs(x) <= 90) & (np.abs(y) <= 180) & (np.abs(y) > 90)
        metres = np.isfinite(x) & np.isfinite(y) & ~swapped & ((np.abs(x) > 180) | (np.abs(y) > 90))
        for i in np.flatnonzero(metres):
            problems.append(
                Problem("projected_coordinates", int(table.index[i]), f"{lon_column}/{lat_column}",
                        f"{x[i]:g}, {y[i]:g}",
                        f"({x[i]:g}, {y[i]:g}) are not degrees; projected metres? "
                        "give the file's EPSG code with --crs")
            )
        x, y = np.where(metres, np.nan, x), np.where(metres, np.nan, y)
    return problems, x, y


def _any_text(table: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Rows where a coordinate cell holds non-numeric text (reported as not_a_number already)."""
    mask = np.zeros(len(table), dtype=bool)
    for column in columns:
        raw = table[column]
        number = pd.to_numeric(raw, errors="coerce")
        mask |= (raw.notna() & number.isna() & raw.astype(str).str.strip().ne("")).to_numpy()
    return mask


def _inside(
    minx: np.ndarray,
    miny: np.ndarray,
    maxx: np.ndarray,
    maxy: np.ndarray,
    region: tuple[float, float, float, float],
) -> np.ndarray:
    """Tell which bounding boxes lie wholly within ``region`` (west, south, east, north)."""
    west, south, east, north = region
    return (minx >= west) & (maxx <= east) & (miny >= south) & (maxy <= north)


def _geometry_problems(
    geometry: gpd.GeoSeries, rows: np.ndarray, region: tuple[float, float, float, float]
) -> list[Problem]:
    geometries = np.asarray(geometry.array)
    problems = []
    missing = shapely.is_missing(geometries)
    empty = ~missing & shapely.is_empty(geometries)
    problems += [Problem("null_geometry", int(rows[i]), None, None, "no geometry") for i in np.flatnonzero(missing)]
    problems += [Problem("empty_geometry", int(rows[i]), None, None, "empty geometry") for i in np.flatnonzero(empty)]
    present = np.flatnonzero(~missing & ~empty)
    if present.size == 0:
        return problems
    minx, miny, maxx, maxy = shapely.bounds(geometries[present]).T
    inside = _inside(minx, miny, maxx, maxy, region)
    swapped = ~inside & _inside(miny, minx, maxy, maxx, region)
    projected = ~inside & ~swapped & ((np.abs([minx, maxx]) > 180).any(0) | (np.abs([miny, maxy]) > 90).any(0))
    outside = ~inside & ~swapped & ~projected
    west, south, east, north = region
    for i in np.flatnonzero(swapped):
        problems.append(Problem("swapped_coordinates", int(rows[present[i]]), None, f"{minx[i]:g}, {miny[i]:g}",
                                f"({minx[i]:g}, {miny[i]:g}) looks like latitude, longitude: swap the columns"))
    for i in np.flatnonzero(projected):
        problems.append(Problem("projected_coordinates", int(rows[present[i]]), None, f"{minx[i]:g}, {miny[i]:g}",
                                f"({minx[i]:g}, {miny[i]:g}) are not degrees; give the file's EPSG code with --crs"))
    for i in np.flatnonzero(outside):
        problems.append(Problem("outside_region", int(rows[present[i]]), None, f"{minx[i]:g}, {miny[i]:g}",
                                f"({minx[i]:.5f}, {miny[i]:.5f}) lies outside the expected region "
                                f"{west:g}–{east:g}°E, {south:g}–{north:g}°N"))
    valid = shapely.is_valid(geometries[present])
    for i in np.flatnonzero(~valid):
        reason = shapely.is_valid_reason(geometries[present[i]])
        problems.append(Problem("invalid_geometry", int(rows[present[i]]), None, None,
                                f"invalid geometry ({reason}); repaired with make_valid"))
    return problems


def _blank(values: pd.Series) -> np.ndarray:
    return values.isna().to_numpy() | values.astype(str).str.strip().eq("").to_numpy()


def check_attributes(
    frame: pd.DataFrame,
    rows: Sequence[int],
    id_column: str | None = None,
    required: Collection[str] = (),
    numeric: Collection[str] = (),
    allowed: Mapping[str, Collection] | None = None,
    integer: Collection[str] = (),
    minimum: Mapping[str, float] | None = None,
) -> list[Problem]:
    """Check a frame's columns and cells (see :func:`validate` for the rules).

    Parameters
    ----------
    frame : pandas.DataFrame
        The data.
    rows : sequence of int
        The number the user knows each row by.
    id_column : str, optional
        Column whose values must be unique; default: the first column named
        one of :data:`ID_NAMES`, if any.
    required : collection of str
        Columns that must exist and have a value in every row.
    numeric : collection of str
        Columns whose non-blank values must be numbers.
    allowed : mapping of str to collection, optional
        Columns whose non-blank values must be one of the given values.
    integer : collection of str
        Numeric columns whose values must be whole numbers (counts).
    minimum : mapping of str to float, optional
        Numeric columns whose values must not be below the given one
        (0 for counts: 户数, 常住人口).

    Returns
    -------
    list of Problem
        Missing columns, blank required values, non-numeric values,
        fractions in whole-number columns, values below the minimum,
        values not allowed and duplicate ids, in no particular order.
    """
    rows = np.asarray(rows)
    allowed = allowed or {}
    problems = [
        Problem("missing_field", None, column, None, f"required column '{column}' is missing")
        for column in required
        if column not in frame.columns
    ]
    for column in required:
        if column in frame.columns:
            for i in np.flatnonzero(_blank(frame[column])):
                problems.append(Problem("missing_value", int(rows[i]), column, None, "required value is blank"))
    for column in numeric:
        if column not in frame.columns:
            continue
        raw = frame[column]
        # Infinity (1e400, -1e999) parses as a float but is no value anyone measured.
        number = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        bad = ~_blank(raw) & ~np.isfinite(number)
        for i in np.flatnonzero(bad):
            problems.append(Problem("not_numeric", int(rows[i]), column, str(raw.iloc[i]),
                                    f"expected a number, got '{raw.iloc[i]}'"))
    for column in integer:
        if column not in frame.columns:
            continue
        raw = frame[column]
        number = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        for i in np.flatnonzero(np.isfinite(number) & (number != np.round(number))):
            problems.append(Problem("not_integer", int(rows[i]), column, str(raw.iloc[i]),
                                    f"expected a whole number, got '{raw.iloc[i]}'"))
    for column, least in (minimum or {}).items():
        if column not in frame.columns:
            continue
        raw = frame[column]
        number = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        for i in np.flatnonzero(number < least):
            problems.append(Problem("below_minimum", int(rows[i]), column, str(raw.iloc[i]),
                                    f"'{raw.iloc[i]}' is impossible here: expected {least:g} or more"))
    for column, values in allowed.items():
        if column not in frame.columns:
            continue
        raw = frame[column]
        bad = ~_blank(raw) & ~raw.isin(list(values)).to_numpy()
        listed = " / ".join(str(v) for v in values)
        for i in np.flatnonzero(bad):
            problems.append(Problem("not_allowed", int(rows[i]), column, str(raw.iloc[i]),
                                    f"'{raw.iloc[i]}' is not one of {listed}"))
    id_column = id_column or _id_column(frame.columns)
    if id_column is not None and id_column in frame.columns:
        ids = frame[id_column]
        duplicated = ids.duplicated(keep=False).to_numpy() & ~_blank(ids)
        # One pass over the groups of equal ids, not a scan of the column per duplicate.
        for value, positions in ids[duplicated].groupby(ids[duplicated], sort=False).indices.items():
            members = np.flatnonzero(duplicated)[positions]
            for i in members:
                others = ", ".join(str(int(rows[j])) for j in members if j != i)
                problems.append(Problem("duplicate_id", int(rows[i]), id_column, str(value),
                                        f"id '{value}' is also used in row {others}"))
    return problems


def _id_column(columns: Sequence) -> str | None:
    by_key = {str(c).strip().lower(): c for c in reversed(list(columns))}
    return next((by_key[name] for name in ID_NAMES if name in by_key), None)
