"""Options and input handling shared by the subcommands (as rasterio's ``rio/options.py``): data folder, reading, coverage, layer-or-file inputs.

Defaults shown in help are read from the library's constants; the values
are checked by the library functions that use them, not here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cqgis.cli.errors import OptionError
from cqgis.config import COVERAGE_RADIUS_M, COVERAGE_SCENARIOS

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

T = TypeVar("T")

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of your own files, one per layer, named after the layer "
    "(sections.xlsx, h2_stations.csv ...); each replaces that layer's embedded default.",
)


header_row_option = click.option(
    "--header-row",
    type=click.IntRange(min=1),
    metavar="N",
    help="Spreadsheet row (from 1) holding the column headers of the CSV/Excel tables read. "
    "Default: found, below any title rows (the first row filling the width with names).",
)

#: Reading a file: its layer or sheet, and a table's coordinate columns.
layer_option = click.option("--layer", help="Layer of a GeoPackage or of a zip of shapefiles, or sheet of an Excel workbook, to read.")
lon_option = click.option("--lon", help="Longitude column of a table (default: found by name: lon, lng, x, 经度 ...).")
lat_option = click.option("--lat", help="Latitude column of a table (default: found by name: lat, y, 纬度 ...).")

#: Year of monitoring times written without one, for reading a monitoring table.
year_option = click.option(
    "--year",
    type=int,
    help="Year of monitoring times written without one (the national automatic-station release shows "
    "MM-DD HH:MM), or of a class-only monthly report.",
)

#: Your sections table, for the analyses that read the ``sections`` layer.
sections_option = click.option(
    "--sections", "sections_path", metavar="LAYER_OR_FILE", help="Your sections table instead of the sections layer."
)


def output_option(help: str = "File to write; its extension picks the format.", required: bool = True) -> Callable:
    """Return the ``-o/--output`` option of a command that writes one file (the extension picks its format).

    Parameters
    ----------
    help : str
        What the file holds, for the command's help.
    required : bool
        Whether the command needs it (some only print without it).

    Returns
    -------
    callable
        A click decorator setting the parameter ``output`` (a Path).
    """
    return click.option(
        "-o", "--output", required=required, type=click.Path(dir_okay=False, path_type=Path), help=help,
        callback=in_existing_folder,
    )


def in_existing_folder(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Refuse an output file whose folder does not exist, before any work is done.

    The writers refuse it too, but only when they write, after a map or an
    analysis that may take a minute.

    Parameters
    ----------
    ctx, param : click.Context, click.Parameter
        As click passes them to a callback.
    value : Path or None
        The output file.

    Returns
    -------
    Path or None
        ``value``.

    Raises
    ------
    click.BadParameter
        When its folder does not exist.
    """
    if value is not None and not value.absolute().parent.is_dir():
        msg = f"folder {value.parent} does not exist"
        raise click.BadParameter(msg, ctx=ctx, param=param)
    return value


def radius_option(required: bool = False) -> Callable:
    """Return the ``--radius`` option of coverage: the hydrogen map's and ``analyze coverage``'s.

    Parameters
    ----------
    required : bool
        Whether the command needs it; otherwise the library's default
        (:data:`cqgis.config.COVERAGE_RADIUS_M`) applies and is shown.

    Returns
    -------
    callable
        A click decorator setting the parameter ``radius_m``.
    """
    default = "" if required else f" (default {COVERAGE_RADIUS_M:g})"
    return click.option(
        "--radius",
        "radius_m",
        type=float,
        required=required,
        metavar="METRES",
        help=f"Service radius of a station in metres, straight line{default}.",
    )


def crs_option(what: str = "INPUT's coordinates are") -> Callable:
    """Return the ``--crs`` option saying what the coordinates of the files read are.

    Parameters
    ----------
    what : str
        The subject of the help sentence (``the coordinates of the files given are``).

    Returns
    -------
    callable
        A click decorator setting the parameter ``source``.
    """
    return click.option(
        "--crs",
        "source",
        metavar="CRS",
        help=f"What {what}: wgs84, cgcs2000, gcj02 (Amap), bd09 or an EPSG code. "
        "Default: the file's own CRS (tables: wgs84); layer names need none.",
    )


def status_option(passed: bool = True) -> Callable:
    """Return the ``--status`` option: which facilities coverage counts, by their status.

    Parameters
    ----------
    passed : bool
        Whether the command always passes a scenario (the library's
        default, the first of :data:`cqgis.config.COVERAGE_SCENARIOS`, is
        then the option's); otherwise None when not given.

    Returns
    -------
    callable
        A click decorator setting the parameter ``scenario``.
    """
    first = next(iter(COVERAGE_SCENARIOS))
    return click.option(
        "--status",
        "scenario",
        type=click.Choice(list(COVERAGE_SCENARIOS)),
        default=first if passed else None,
        show_default=passed,
        help="Which stations count, by their status column: 现状 operating only, 含在建 also under construction, "
        "含规划 also planned; those without a real position (precision schematic) never count"
        + ("." if passed else f" (default {first})."),
    )


def is_csv(path: Path) -> bool:
    """Whether ``path`` is a CSV or text table, the kind read in blocks of rows.

    Parameters
    ----------
    path : Path
        A file name.

    Returns
    -------
    bool
        True for ``.csv`` and ``.txt``.
    """
    from cqgis.geo.io import FORMATS

    fmt = FORMATS.get(path.suffix.lower())
    return fmt is not None and fmt.kind == "csv"


def refuse_input_as_output(outputs: Sequence[Path | None], inputs: Sequence[str | os.PathLike | None]) -> None:
    """Refuse an output that is one of the inputs: writing it would destroy the data being read.

    Parameters
    ----------
    outputs : sequence of Path or None
        The files the command writes; None for one not asked for.
    inputs : sequence of str, path or None
        The files it reads (layer names and None are skipped: they are no files).

    Raises
    ------
    OptionError
        When an output and an existing input are the same file.
    """
    existing = [Path(spec) for spec in inputs if spec is not None and Path(spec).is_file()]
    for output in outputs:
        if output is None or not output.exists():
            continue
        for source in existing:
            if output.samefile(source):
                msg = f"-o {output}: that is the input file {source}; write the output to another file"
                raise OptionError(msg)


def noted(call: Callable[..., T], *args: Any, **kwargs: Any) -> tuple[T, list[str]]:
    """Call an analysis of :mod:`cqgis.analyses` and print its notes, as the commands report them.

    Parameters
    ----------
    call : callable
        The analysis.
    *args, **kwargs
        Its arguments.

    Returns
    -------
    result : object
        What ``call`` returns.
    notes : list of str
        Each :class:`~cqgis.analysis.errors.AnalysisNote` it gave, printed
        on stdout (and kept for the output's notes sheet).
    """
    import warnings

    from cqgis.analysis.errors import AnalysisNote

    with warnings.catch_warnings(record=True) as caught:
        # Only the analysis's own notes are caught; any other warning goes on as it would.
        warnings.simplefilter("always", AnalysisNote)
        result = call(*args, **kwargs)
    notes = []
    for warning in caught:
        if issubclass(warning.category, AnalysisNote):
            notes.append(str(warning.message))
        else:
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    for note in notes:
        click.echo(note)
    return result, notes


def read_features(
    spec: str,
    crs: str | None = None,
    layer: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    header_row: int | None = None,
    credit: bool = False,
    data_dir: Path | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Return the features of a file or layer named (:func:`cqgis.layers.catalog.load_features`), saying on stderr which rows were repaired.

    Parameters
    ----------
    spec : str
        A path to a vector file or point table, or a layer name of the catalogue.
    crs, layer, lon, lat : str, optional
        Passed to :func:`cqgis.geo.io.read` for a file.
    header_row : int, optional
        A table's header row, from 1, passed on likewise.
    credit : bool
        Name a file in every ``source`` and count unknown precision as ``approximate``.
    data_dir : Path, optional
        The user's data folder: a layer named is read from it when it holds
        a file for that layer.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The features in EPSG:4326, invalid geometries repaired.
    """
    from cqgis.config import settings
    from cqgis.layers import catalog

    frame, repaired = catalog.load_features(
        spec, settings(data_dir=data_dir), crs=crs, layer=layer, lon=lon, lat=lat, header_row=header_row, credit=credit
    )
    if repaired:
        rows = ", ".join(str(row) for row in repaired[:10])
        more = " ..." if len(repaired) > 10 else ""
        click.echo(f"{Path(spec).name}: {len(repaired)} invalid geometries repaired with make_valid (rows {rows}{more})", err=True)
    return frame
