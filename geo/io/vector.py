"""Reading vector files (GeoPackage, Shapefile also zipped, GeoJSON, FlatGeobuf, GeoParquet) into WGS84 GeoDataFrames."""

from __future__ import annotations

import glob
import os
import zipfile
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from cqgis.errors import one_line
from cqgis.geo.errors import CRSError, ReadError
from cqgis.geo.io.encoding import sidecar_encoding
from cqgis.geo.io.formats import (
    SHAPEFILE_DRIVER,
    FileFormat,
    existing_file,
    reading,
    vector_format,
)
from cqgis.geo.io.rows import ROW_INDEX

if TYPE_CHECKING:
    import fiona.model
    import geopandas as gpd
    import pyproj


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

    path = existing_file(path)
    fmt = vector_format(path)
    if fmt.kind == "parquet":
        with reading(path, ValueError, OSError):
            frame = gpd.read_parquet(path)
    else:
        source, name, encoding = _gdal_source(path, fmt, layer)
        with reading(path, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
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

    path = existing_file(path)
    fmt = vector_format(path)
    if fmt.kind == "parquet":
        return [path.stem]
    if fmt.kind == "zipped":
        with _open_zip(path) as archive:
            return list(_zip_shapefiles(path, archive.namelist()))
    from cqgis.geo.gpkg_styles import STYLE_TABLE

    with reading(path, fiona.errors.DriverError):
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

    path = existing_file(path)
    fmt = vector_format(path)
    if fmt.kind == "parquet":
        msg = f"{path.name}: GeoParquet is not streamed feature by feature; read it with read_vector"
        raise ReadError(msg)
    source, name, encoding = _gdal_source(path, fmt, layer)

    def stream() -> Iterator[fiona.model.Feature]:
        with reading(path, fiona.errors.DriverError), fiona.open(
            source, layer=name, encoding=encoding
        ) as features:
            yield from features

    return stream()


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
            encoding = sidecar_encoding(sidecars, f"{path.name}: {PurePosixPath(member).name}")
        return f"/vsizip/{path.resolve()}/{member}", None, encoding
    encoding = None
    if fmt.driver == SHAPEFILE_DRIVER:
        sidecars = {
            sibling.suffix.lower(): partial(sibling.open, "rb")
            for sibling in path.parent.glob(glob.escape(path.stem) + ".*")
        }
        encoding = sidecar_encoding(sidecars, path.name)
    name = _choose_layer(path, list_layers(path), layer)
    return str(path), name, encoding


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        msg = f"cannot read {path}: not a valid zip file ({one_line(exc, with_type=False)})"
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
