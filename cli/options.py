"""Options and input handling shared by the subcommands: the user's data folder, header rows, layer-or-file inputs."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cqgis.cli.errors import OptionError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

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


def load_input(
    value: str | None, layer: str, data_dir: Path | None = None, header_row: int | None = None
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Return the data an analysis runs on: a layer, or a user's file standing in for it.

    Parameters
    ----------
    value : str or None
        None, ``default`` or a layer name: that layer (from ``data_dir``
        when the folder holds a file for it); otherwise a path to a user's
        file, loaded as ``layer`` and validated against its schema.
    layer : str
        The layer the input stands for.
    data_dir : Path, optional
        The user's data folder.
    header_row : int, optional
        Header row of a user's table, from 1; default: found.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The layer or file in EPSG:4326; a table layer (no geometry) is a
        DataFrame.

    Raises
    ------
    UnknownLayerError
        ``layer`` is not in the catalogue.
    LayerError
        The user's file breaks the layer's schema (rows and columns named).
    ReadError
        The user's file cannot be read.
    """
    from cqgis.config import settings
    from cqgis.layers import catalog

    config = settings(data_dir=data_dir)
    if value is None or value == "default":
        return catalog.load(layer, config)
    if value in catalog.names():
        return catalog.load(value, config)
    return catalog.load_file(layer, value, config, header_row=header_row)


def read_features(
    spec: str,
    crs: str | None = None,
    layer: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    header_row: int | None = None,
    credit: bool = False,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Return a file's features, or an embedded layer when ``spec`` names one and is no file.

    Parameters
    ----------
    spec : str
        A path to a vector file or point table, or a layer name of the catalogue.
    crs, layer, lon, lat : str, optional
        Passed to :func:`cqgis.geo.io.read` for a file.
    header_row : int, optional
        A table's header row, from 1, passed on likewise.
    credit : bool
        For an analysis that reports provenance: name a file in every
        ``source`` and count unknown precision as ``approximate``
        (:func:`cqgis.layers.user.credit`).

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The features in EPSG:4326, invalid geometries repaired as ``cqgis
        validate`` repairs them (said on stderr); an embedded table layer
        is a DataFrame.

    Raises
    ------
    ReadError
        The file is missing, of an unknown format or unreadable.
    CRSError
        Unknown ``crs``, or a vector file without a CRS and no ``crs``.
    """
    from cqgis.geo import io
    from cqgis.geo.validate import repair
    from cqgis.layers import catalog, user

    path = Path(spec)
    if not path.exists() and spec in catalog.LAYERS:
        return catalog.load(spec)
    frame, repaired = repair(io.read(path, crs=crs, layer=layer, lon=lon, lat=lat, header_row=header_row))
    if repaired.size:
        rows = ", ".join(str(row) for row in io.row_numbers(frame)[repaired][:10])
        more = " ..." if repaired.size > 10 else ""
        click.echo(f"{path.name}: {repaired.size} invalid geometries repaired with make_valid (rows {rows}{more})", err=True)
    return user.credit(frame, path) if credit else frame
