"""File formats cqgis reads and writes, chosen by extension, and the checks every reader makes on a path."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from cqgis.errors import one_line
from cqgis.geo.errors import ReadError

if TYPE_CHECKING:
    pass


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


SHAPEFILE_DRIVER = "ESRI Shapefile"
_GEOJSON = FileFormat("GeoJSON", "gdal", "GeoJSON")
_GEOPARQUET = FileFormat("GeoParquet", "parquet")
#: Every extension cqgis knows, lower case, mapped to its format. Shapefiles
#: are not written: several files cannot be replaced atomically.
FORMATS: Mapping[str, FileFormat] = MappingProxyType({
    ".gpkg": FileFormat("GeoPackage", "gdal", "GPKG", multilayer=True),
    ".shp": FileFormat("Shapefile", "gdal", SHAPEFILE_DRIVER, writable=False),
    ".zip": FileFormat("zipped Shapefile", "zipped", SHAPEFILE_DRIVER, writable=False),
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
_GDAL_CANNOT_OPEN = "Failed to open dataset"
_UNCLOSED_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


def existing_file(path: str | os.PathLike) -> Path:
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


def read_format(path: Path) -> FileFormat:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        kind = f"{path.suffix!r} files" if path.suffix else "files without an extension"
        msg = (
            f"cannot read {path.name}: cqgis does not read {kind}; "
            f"it reads {', '.join(READ_EXTENSIONS)}"
        )
        raise ReadError(msg)
    return fmt


def vector_format(path: Path) -> FileFormat:
    fmt = read_format(path)
    if fmt.is_table:
        msg = f"{path.name} is a {fmt.label} table, not a vector file: read it with read_table"
        raise ReadError(msg)
    return fmt


@contextmanager
def reading(path: Path, *failures: type[BaseException]) -> Iterator[None]:
    """Turn a library's complaint about a malformed file into a ReadError naming the file."""
    try:
        yield
    except failures as exc:
        reason = one_line(exc, with_type=False)
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
