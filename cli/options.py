"""Options and input handling shared by the subcommands: the user's data folder, layer-or-file inputs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder of your own files, one per layer, named after the layer "
    "(sections.xlsx, h2_stations.csv ...); each replaces that layer's embedded default.",
)


def load_input(value: str | None, layer: str, data_dir: Path | None = None) -> gpd.GeoDataFrame | pd.DataFrame:
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
    return catalog.load_file(layer, value, config)


def read_features(
    spec: str,
    crs: str | None = None,
    layer: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    credit: bool = False,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Return a file's features, or an embedded layer when ``spec`` names one and is no file.

    Parameters
    ----------
    spec : str
        A path to a vector file or point table, or a layer name of the catalogue.
    crs, layer, lon, lat : str, optional
        Passed to :func:`cqgis.geo.io.read` for a file.
    credit : bool
        For an analysis that reports provenance: name a file in every
        ``source`` and count unknown precision as ``approximate``
        (:func:`cqgis.layers.user.credit`).

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The features in EPSG:4326; an embedded table layer is a DataFrame.

    Raises
    ------
    ReadError
        The file is missing, of an unknown format or unreadable.
    CRSError
        Unknown ``crs``, or a vector file without a CRS and no ``crs``.
    """
    from cqgis.geo import io
    from cqgis.layers import catalog, user

    path = Path(spec)
    if path.exists() or spec not in catalog.LAYERS:
        frame = io.read(path, crs=crs, layer=layer, lon=lon, lat=lat)
        return user.credit(frame, path) if credit else frame
    return catalog.load(spec)
