"""Users' files as layers: map their headers to a layer's fields, validate row by row, conform.

A user's file (anything :func:`cqgis.geo.io.read` reads) replaces the
embedded default of one layer; the two are never mixed. Headers are matched
to the layer's fields in this order: the explicit mapping (``--map 断面名称=name``
or a YAML file of ``header: field`` pairs), then the field's own name, then
its built-in aliases (``断面名称``, ``经度`` ...), all ignoring case and
surrounding spaces. Columns that match no field are dropped.

Every row's ``source`` names the file (``用户文件 名称.xlsx``, followed by
the row's own source when the file has a ``source`` column), and a row
without a ``precision`` (no column, or a blank cell) is ``approximate``:
nothing in it says its positions are exact; add a ``precision`` column to
say otherwise (see :func:`credit`). Fields the layer derives
(a district from a spatial join) are computed by the layer's ``complete``
function when it has one.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import pandas as pd
import yaml

from cqgis.errors import UsageError
from cqgis.geo import io
from cqgis.geo import validate as validation
from cqgis.layers.schema import Schema

#: Keys of a layer's ``columns.yaml`` section that give its file's coordinate system.
CRS_KEYS = ("crs", "坐标系")

#: Precision given to a user's features when the file does not say.
DEFAULT_PRECISION = "approximate"


def file_label(path: str | os.PathLike) -> str:
    """Return how a result's ``source`` names a user's file: ``用户文件 名称.xlsx`` (the name, never the folder)."""
    return f"用户文件 {Path(path).name}"


def credit(
    frame: pd.DataFrame,
    path: str | os.PathLike,
    source_column: str = "source",
    precision_column: str = "precision",
) -> pd.DataFrame:
    """Return a user's table with its file named in every ``source`` and unknown precision made ``approximate``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The rows read from the file.
    path : str or os.PathLike
        The file (only its name is used: sources never hold a computer's paths).
    source_column, precision_column : str
        The columns holding them, when the file spells them otherwise (来源, 精度).

    Returns
    -------
    pandas.DataFrame
        A copy: ``source`` is the file's label, followed by the row's own
        source after '：' when it gives one; a blank or missing ``precision``
        is :data:`DEFAULT_PRECISION`.
    """
    label = file_label(path)

    def sources(given: pd.Series) -> pd.Series:
        given = given.astype("string").str.strip()
        return (label + "：" + given).where(given.fillna("").ne(""), label)

    def precisions(given: pd.Series) -> pd.Series:
        return given.astype("string").str.strip().replace("", pd.NA).fillna(DEFAULT_PRECISION)

    columns = {}
    for column, rewrite in ((source_column, sources), (precision_column, precisions)):
        given = frame[column] if column in frame else pd.Series(pd.NA, index=frame.index)
        # Each distinct cell is rewritten once and the rows share its text:
        # a million rows of one source as separate strings took 150 MB.
        codes, distinct = pd.factorize(given, use_na_sentinel=False)
        rewritten = rewrite(pd.Series(distinct, dtype=object)).to_numpy(dtype=object)
        columns[column] = pd.Series(rewritten[codes], index=frame.index, dtype=object)
    return frame.assign(**columns)


def parse_pairs(pairs: Sequence[str]) -> dict[str, str]:
    """Parse ``HEADER=field`` pairs given on the command line.

    Parameters
    ----------
    pairs : sequence of str
        The ``--map`` values, e.g. ``断面名称=name``.

    Returns
    -------
    dict of str to str
        Header -> field name, both stripped of surrounding spaces.

    Raises
    ------
    UsageError
        When a pair has no ``=`` or an empty side.
    """
    mapping = {}
    for pair in pairs:
        header, sep, target = pair.partition("=")
        if not sep or not header.strip() or not target.strip():
            msg = f"--map expects HEADER=field, e.g. 断面名称=name; got '{pair}'"
            raise UsageError(msg)
        mapping[header.strip()] = target.strip()
    return mapping


def read_mapping(path: str | os.PathLike, layer: str | None = None) -> dict[str, str]:
    """Read a YAML mapping of ``header: field`` pairs.

    The file holds either the pairs themselves or, when ``layer`` is given,
    a section per layer (``sections: {断面名称: name}``); a file with layer
    sections but none for ``layer`` gives an empty mapping.

    Parameters
    ----------
    path : str or os.PathLike
        The YAML file.
    layer : str, optional
        Layer whose section to read when the file has one per layer.

    Returns
    -------
    dict of str to str
        Header -> field name, both stripped of surrounding spaces.

    Raises
    ------
    UsageError
        When the file is missing, is not YAML, or is not a mapping of strings;
        the message gives the line.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        msg = f"cannot read column mapping {path}: {exc.strerror}"
        raise UsageError(msg) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        msg = f"column mapping {path.name}{where}: not valid YAML ({getattr(exc, 'problem', exc)})"
        raise UsageError(msg) from exc
    data = data or {}
    if layer is not None and isinstance(data, dict) and any(isinstance(v, dict) for v in data.values()):
        data = data.get(layer) or {}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        msg = f"column mapping {path.name}: expected 'header: field' pairs, e.g. 断面名称: name"
        raise UsageError(msg)
    return {str(k).strip(): v.strip() for k, v in data.items()}


def split_crs(mapping: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """Take the reserved ``crs`` (or ``坐标系``) entry out of a layer's column mapping.

    A data folder's ``columns.yaml`` says what a file's coordinates are with
    it (``crs: gcj02`` for coordinates copied from Amap), since the file
    itself cannot.

    Parameters
    ----------
    mapping : mapping of str to str
        A layer's entries of ``columns.yaml``.

    Returns
    -------
    (dict, str or None)
        The header mapping proper, and the coordinate system if given.
    """
    pairs = dict(mapping)
    found = [pairs.pop(key) for key in CRS_KEYS if key in pairs]
    return pairs, (found[0] if found else None)


def header_mapping(
    schema: Schema, columns: Sequence, explicit: Mapping[str, str] | None = None
) -> dict:
    """Return {file header: field name} for the headers that match a field of ``schema``.

    Parameters
    ----------
    schema : Schema
        The layer's schema.
    columns : sequence
        The file's headers.
    explicit : mapping of str to str, optional
        Header -> field pairs the user gave; they win over names and aliases.

    Returns
    -------
    dict
        File header (as spelled in the file) -> field name.

    Raises
    ------
    UsageError
        When the explicit mapping names a header the file lacks or a field
        the layer lacks.
    """
    explicit = dict(explicit or {})
    fields = set(schema.columns)
    unknown_fields = sorted(set(explicit.values()) - fields)
    if unknown_fields:
        msg = (
            f"layer '{schema.name}' has no field {', '.join(unknown_fields)}; "
            f"its fields: {', '.join(schema.columns)}"
        )
        raise UsageError(msg)
    by_key = {str(c).strip().lower(): c for c in reversed(list(columns))}
    missing = [h for h in explicit if h.strip().lower() not in by_key]
    if missing:
        msg = f"--map names header {', '.join(missing)}, which the file does not have; its headers: {', '.join(map(str, columns))}"
        raise UsageError(msg)
    mapping = {by_key[h.strip().lower()]: f for h, f in explicit.items()}
    for f in schema.fields:
        if f.name in mapping.values():
            continue
        for name in (f.name, *f.aliases):
            header = by_key.get(name.strip().lower())
            if header is not None and header not in mapping:
                mapping[header] = f.name
                break
    return mapping


def load(
    path: str | os.PathLike,
    layer: ModuleType,
    *,
    mapping: Mapping[str, str] | None = None,
    deps: Mapping[str, gpd.GeoDataFrame] | None = None,
    crs: str | None = None,
    sheet: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    header_row: int | None = None,
) -> validation.Report:
    """Read a user's file as ``layer`` and validate it against the layer's schema.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    layer : module
        The layer module (``cqgis.layers.sections`` ...), with ``SCHEMA`` and
        optionally ``complete(frame, deps)``.
    mapping : mapping of str to str, optional
        Explicit {header: field} pairs; they win over names and aliases.
    deps : mapping, optional
        Built layers ``complete`` needs (``districts``); without them derived
        fields stay empty and are not checked.
    crs, sheet, lon, lat : str, optional
        As for :func:`cqgis.geo.validate.validate_file`.
    header_row : int, optional
        A table's header row, from 1; default: found.

    Returns
    -------
    cqgis.geo.validate.Report
        Every problem, by row; when there is none, ``frame`` is the layer
        conformed to its schema. A layer with ``RAW_USER_TABLE`` gets the
        table as read, its cells as text, for its own reader to check.
    """
    schema: Schema = layer.SCHEMA
    if getattr(layer, "RAW_USER_TABLE", False):
        # The layer's own reader parses and checks these tables (see the layer's docstring).
        report = _table_report(path, sheet, text=True, header_row=header_row)
        report.frame = _numbered(credit(report.frame, path), report.row_numbers)
        return report
    table_like = schema.geometry_type is None
    if table_like:
        report = _table_report(path, sheet, header_row=header_row)
    else:
        report = validation.validate_file(path, crs=crs, layer=sheet, lon=lon, lat=lat, header_row=header_row)
    read = [str(column) for column in report.frame.columns if column != "geometry"]
    headers = header_mapping(schema, report.frame.columns, mapping)
    frame = report.frame.rename(columns=headers)
    frame = frame[[c for c in frame.columns if c in schema.columns or c == "geometry"]]
    frame = credit(normalise_values(schema, frame), path)
    if not table_like:
        frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=report.frame.crs)
    rules = schema.rules()
    found = validation.check_attributes(frame, report.row_numbers, **rules)
    report.problems = validation.ordered(
        report.problems
        + [_with_headers(problem, schema, read) for problem in found]
        + schema.value_problems(frame, report.row_numbers)
    )
    if not table_like and not report.problems:
        report.problems = _geometry_type_problems(schema, frame, report.row_numbers)
    if report.problems:
        report.frame = frame
        return report
    complete = getattr(layer, "complete", None)
    if complete is not None and deps is not None:
        frame = complete(frame, deps)
    # Analyses on the layer can still name rows as the user's spreadsheet does.
    report.frame = _numbered(schema.conform(frame), report.row_numbers)
    return report


def _numbered(frame: pd.DataFrame, rows: Sequence[int]) -> pd.DataFrame:
    """Return ``frame`` indexed by the user's row numbers (see :func:`cqgis.geo.io.row_numbers`)."""
    return frame.set_axis(pd.Index(rows, name=io.ROW_INDEX))


def normalise_values(schema: Schema, frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` with users' usual spellings replaced by the schema's values.

    Cells are stripped of surrounding spaces; a field's ``value_aliases``
    are applied; numeric fields lose a trailing ``%`` and thousands
    separators (``42%`` -> ``42``, ``1,200`` -> ``1200``).

    Parameters
    ----------
    schema : Schema
        The layer's schema.
    frame : pandas.DataFrame
        A user's data with the schema's column names.

    Returns
    -------
    pandas.DataFrame
        A copy with normalised cells.
    """
    frame = frame.copy()
    for f in schema.fields:
        if f.name not in frame.columns:
            continue
        values = frame[f.name]
        text = values.map(lambda v: v.strip() if isinstance(v, str) else v)
        if f.value_aliases:
            text = text.map(lambda v: f.value_aliases.get(v, v) if isinstance(v, str) else v)
        if f.dtype in ("int", "float"):
            text = text.map(lambda v: v.replace(",", "").removesuffix("%").strip() if isinstance(v, str) else v)
        frame[f.name] = text
    return frame


def _table_report(
    path: str | os.PathLike, sheet: str | None, text: bool = False, header_row: int | None = None
) -> validation.Report:
    """Read a table layer's file (no coordinates) into a report with spreadsheet row numbers."""
    table = io.read_rows(path, sheet=sheet, text=text, header_row=header_row)
    return validation.Report(
        name=Path(path).name,
        rows=len(table),
        frame=table.reset_index(drop=True),
        row_numbers=table.index.to_numpy(),
    )


def _with_headers(problem: validation.Problem, schema: Schema, read: Sequence[str]) -> validation.Problem:
    """Say, for a missing column, which headers would do and which headers the file has."""
    if problem.kind != "missing_field":
        return problem
    field = schema.field(problem.column)
    names = "、".join((field.name, *field.aliases))
    message = (
        f"required column '{field.name}' is missing: head a column {names}, or map one with "
        f"--map HEADER={field.name}; headers read: {', '.join(read)}"
    )
    return validation.Problem(problem.kind, problem.row, problem.column, problem.value, message)


def _geometry_type_problems(
    schema: Schema, frame: gpd.GeoDataFrame, rows: Sequence[int]
) -> list[validation.Problem]:
    kinds = frame.geometry.geom_type.fillna("")
    wanted = {schema.geometry_type, f"Multi{schema.geometry_type}", ""}
    return [
        validation.Problem(
            "wrong_geometry_type", int(rows[i]), None, kind, f"expected a {schema.geometry_type}, got a {kind}"
        )
        for i, kind in enumerate(kinds)
        if kind not in wanted
    ]
