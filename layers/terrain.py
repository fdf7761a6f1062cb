"""Terrain: the 30″ DEM of the upper 长江, its hillshade, and D8 flow directions conditioned on the main rivers.

Data
----
``layers/data/dem_30s.tif`` is a window (90–112.5°E, 24–36°N, 2,700 × 1,440
cells of 1/120°) of the 30 arc-second DEM of China shipped in the PyPI
package ``meteva`` 1.9.6.2, copied cell for cell by ``tools/prepare_dem.py``
(which records the wheel's sha256). The package's metadata gives GPL3 as its
licence and does not document the DEM's origin; cqgis's code stays MIT and
the file carries both facts in its tags and in every derived feature's
``source``. The window holds the whole drainage area upstream of every
Chongqing section (the 长江 above the Three Gorges, 嘉陵江, 乌江, and the
汉江 and 沅江 reaches that 任河 and 酉水 join).

Conditioning
------------
On the raw DEM the 长江 does not pass 寸滩 and the 嘉陵江 is lost at 温塘峡:
their gorges through the parallel ridges of eastern Sichuan are narrower
than a cell, and the 金沙江 leaves its course at 石鼓 for the 澜沧江. So the
documented main-stem courses of the ``river_courses`` layer (WDB II lines
chosen by anchor places, oriented downstream; never unnamed lines, which
include canals joining basins) are burned in: along each course, in
downstream order, a cell's height becomes the running minimum of the DEM
along the course less :data:`BURN_DEPTH_M`, so the burned channel never
rises downstream. A tributary's burn stops where it reaches a cell its
receiving river has burned. Depressions are then filled (priority flood,
outlets at the window's edge) and D8 directions derived with ``pyflwdir``.
Upstream areas are summed from true cell areas (latitude-dependent).

What the 30″ grid cannot resolve: channels narrower than ~1 km where no
course is burned, divides in flat plains (the 成都 plain's canals), karst
drainage that crosses surface divides (乌江 headwaters), and reservoirs.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
from dataclasses import dataclass
from pathlib import Path
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import rasterio
import shapely
from affine import Affine
from rasterio.transform import rowcol

from cqgis.config import Settings, settings as default_settings
from cqgis.layers.sources import DATA_DIR, code_digest
from cqgis.layers.errors import LayerError

if TYPE_CHECKING:
    import geopandas as gpd

#: The DEM window under ``layers/data``.
DEM_FILE = "dem_30s.tif"

#: Depth the main-stem courses are burned below their running minimum height.
BURN_DEPTH_M = 50.0

#: Step along a course when rasterizing it, in degrees (a quarter of a cell).
BURN_STEP_DEG = 1 / 480

#: Heights at or below this are outside the DEM (the file's nodata).
NODATA = -999

#: Mean Earth radius used for cell areas, in metres.
EARTH_RADIUS_M = 6_371_008.8

_FLOW_PACKAGE = "pyflwdir"


def dem_source() -> str:
    """Return the provenance text of the DEM (package, file, licence note)."""
    with rasterio.open(DATA_DIR / DEM_FILE) as src:
        tags = src.tags()
    return f"30″ DEM：{tags.get('source', DEM_FILE)}；{tags.get('licence', '')}"


def read_dem(bounds: tuple[float, float, float, float] | None = None) -> tuple[np.ndarray, Affine]:
    """Return the DEM (int16 metres, :data:`NODATA` outside China) and its transform.

    Parameters
    ----------
    bounds : tuple of float, optional
        (west, south, east, north) to read, degrees; default the whole window.
        Clipped to the window; cells are never resampled.
    """
    from rasterio.windows import Window, from_bounds

    with rasterio.open(DATA_DIR / DEM_FILE) as src:
        if bounds is None:
            return src.read(1), src.transform
        raw = from_bounds(*bounds, src.transform)
        col, row = int(np.floor(raw.col_off)), int(np.floor(raw.row_off))
        window = Window(col, row, int(np.ceil(raw.col_off + raw.width)) - col, int(np.ceil(raw.row_off + raw.height)) - row)
        window = window.intersection(Window(0, 0, src.width, src.height))
        return src.read(1, window=window), src.window_transform(window)


def along_km(lonlat: np.ndarray) -> np.ndarray:
    """Return the distance along a path of lon/lat points from its first point, km (0 first).

    Each step is measured on the sphere with the cosine of its mean latitude:
    exact enough for steps of a cell or two.
    """
    lat = np.radians((lonlat[1:, 1] + lonlat[:-1, 1]) / 2)
    dx = np.radians(np.diff(lonlat[:, 0])) * np.cos(lat)
    dy = np.radians(np.diff(lonlat[:, 1]))
    return np.concatenate([[0.0], np.cumsum(np.hypot(dx, dy))]) * EARTH_RADIUS_M / 1000.0


def cell_area_km2(transform: Affine, shape: tuple[int, int]) -> np.ndarray:
    """Return the area of each row's cells on the sphere, in km² (one value per row).

    Parameters
    ----------
    transform : affine.Affine
        A north-up transform in degrees.
    shape : tuple of int
        (rows, columns) of the grid.

    Returns
    -------
    numpy.ndarray
        Shape (rows, 1), ready to broadcast over the grid.
    """
    top = transform.f + transform.e * np.arange(shape[0])
    bottom = top + transform.e
    band = np.abs(np.sin(np.radians(top)) - np.sin(np.radians(bottom)))
    return (EARTH_RADIUS_M**2 * np.radians(abs(transform.a)) * band / 1e6)[:, None]


def hillshade(elevation: np.ndarray, transform: Affine, azimuth: float = 315.0, altitude: float = 45.0) -> np.ndarray:
    """Return a hillshade (0–1) of a lon/lat elevation grid, with true metric cell sizes.

    Parameters
    ----------
    elevation : numpy.ndarray
        Heights in metres; NaN where unknown.
    transform : affine.Affine
        North-up transform in degrees.
    azimuth, altitude : float
        Direction and height of the light, in degrees.

    Returns
    -------
    numpy.ndarray
        float32 shading, 1 facing the light, NaN where the height is unknown.
    """
    rows = transform.f + transform.e * (np.arange(elevation.shape[0]) + 0.5)
    dy = np.radians(abs(transform.e)) * EARTH_RADIUS_M
    dx = np.radians(abs(transform.a)) * EARTH_RADIUS_M * np.cos(np.radians(rows))[:, None]
    dz_dy, dz_dx = np.gradient(elevation.astype(np.float64))
    # np.gradient's steps are cells; rows run north to south.
    slope_x, slope_y = dz_dx / dx, -dz_dy / dy
    slope = np.arctan(np.hypot(slope_x, slope_y))
    aspect = np.arctan2(-slope_x, -slope_y)
    sun_az, sun_alt = np.radians(azimuth), np.radians(altitude)
    shade = np.sin(sun_alt) * np.cos(slope) + np.cos(sun_alt) * np.sin(slope) * np.cos(sun_az - aspect)
    return np.clip(shade, 0, 1).astype(np.float32)


def course_cells(line: shapely.Geometry, transform: Affine, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Return the grid cells a line passes, in its order, each once and 8-connected.

    Parameters
    ----------
    line : shapely.Geometry
        A (Multi)LineString in the grid's lon/lat, first point upstream.
    transform : affine.Affine
        The grid's transform.
    shape : tuple of int
        (rows, columns) of the grid.

    Returns
    -------
    tuple of numpy.ndarray
        Rows and columns of the cells inside the grid.
    """
    xy = shapely.get_coordinates(shapely.segmentize(line, BURN_STEP_DEG))
    rows, cols = (np.asarray(v) for v in rowcol(transform, xy[:, 0], xy[:, 1]))
    inside = (rows >= 0) & (rows < shape[0]) & (cols >= 0) & (cols < shape[1])
    rows, cols = rows[inside], cols[inside]
    new = np.ones(rows.size, dtype=bool)
    new[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    return rows[new], cols[new]


def condition(elevation: np.ndarray, transform: Affine, courses: list[shapely.Geometry]) -> np.ndarray:
    """Burn river courses into a DEM so that each falls monotonically downstream.

    Parameters
    ----------
    elevation : numpy.ndarray
        Heights in metres, NaN outside the data.
    transform : affine.Affine
        The grid's transform.
    courses : list of shapely.Geometry
        Downstream-oriented lines, receiving rivers before their tributaries.

    Returns
    -------
    numpy.ndarray
        float32 heights with the courses burned in.
    """
    burned = elevation.astype(np.float32, copy=True)
    taken = np.zeros(elevation.shape, dtype=bool)
    for line in courses:
        rows, cols = course_cells(line, transform, elevation.shape)
        reached = np.flatnonzero(taken[rows, cols])
        if reached.size:
            # A tributary ends where it meets a river already burned.
            rows, cols = rows[: reached[0]], cols[: reached[0]]
        heights = burned[rows, cols]
        keep = ~np.isnan(heights)
        rows, cols, heights = rows[keep], cols[keep], heights[keep]
        burned[rows, cols] = np.minimum(heights, np.minimum.accumulate(heights) - BURN_DEPTH_M)
        taken[rows, cols] = True
    return burned


@dataclass(frozen=True)
class Hydrology:
    """D8 flow directions and upstream areas on the DEM grid.

    Attributes
    ----------
    d8 : numpy.ndarray
        uint8 ESRI D8 codes (1 E, 2 SE, 4 S ... 128 NE; 0 a pit or outlet, 255 nodata).
    upstream_km2 : numpy.ndarray
        float32 area draining through each cell, itself included, in km².
    transform : affine.Affine
        The grid's transform (lon/lat, WGS84).
    source : str
        Provenance of the directions.
    downstream : numpy.ndarray
        Flat index of each cell's downstream cell (itself at pits and outlets).
    order : numpy.ndarray
        Flat indices of the valid cells from outlets to sources (``pyflwdir``'s
        ``idxs_seq``).
    pits : numpy.ndarray
        Flat indices of the outlets and pits.

    The last three are kept with the cache so that a catchment needs neither
    a check of the directions nor a sort of the whole grid.
    """

    d8: np.ndarray
    upstream_km2: np.ndarray
    transform: Affine
    source: str
    downstream: np.ndarray
    order: np.ndarray
    pits: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the grid."""
        return self.d8.shape

    @cached_property
    def flow(self):
        """The ``pyflwdir.FlwdirRaster`` of these directions (built on first use)."""
        import pyflwdir

        return pyflwdir.FlwdirRaster(
            self.downstream.astype(np.intp), self.shape, "d8", idxs_pit=self.pits.astype(np.intp),
            idxs_seq=self.order.astype(np.intp), nnodes=int(self.order.size), transform=self.transform, latlon=True,
        )

    @cached_property
    def cell_km2(self) -> np.ndarray:
        """Cell areas in km², shape (rows, 1)."""
        return cell_area_km2(self.transform, self.shape)

    def index(self, lon: np.ndarray | float, lat: np.ndarray | float) -> np.ndarray:
        """Return the flat cell index of each point (-1 outside the grid)."""
        rows, cols = (np.atleast_1d(np.asarray(v)) for v in rowcol(self.transform, np.atleast_1d(lon), np.atleast_1d(lat)))
        inside = (rows >= 0) & (rows < self.shape[0]) & (cols >= 0) & (cols < self.shape[1])
        return np.where(inside, rows * self.shape[1] + cols, -1)

    def center(self, index: np.ndarray) -> np.ndarray:
        """Return the (lon, lat) of the centres of flat cell indices, shape (n, 2)."""
        rows, cols = np.divmod(np.asarray(index), self.shape[1])
        lon = self.transform.c + (cols + 0.5) * self.transform.a
        lat = self.transform.f + (rows + 0.5) * self.transform.e
        return np.column_stack([lon, lat])

    def path(self, start: int, stop: np.ndarray | None = None) -> np.ndarray:
        """Return the flat indices from ``start`` downstream to the outlet, or to the first cell in ``stop``.

        Parameters
        ----------
        start : int
            Flat index of the first cell.
        stop : numpy.ndarray of bool, optional
            Flat mask; the path ends at (and includes) the first cell where it is true.

        Returns
        -------
        numpy.ndarray
            Flat indices in downstream order.
        """
        down = self.downstream
        cells = [int(start)]
        # Paths are at most a few thousand cells: a plain walk is cheaper than a vectorized trace.
        while True:
            here = cells[-1]
            if stop is not None and stop[here] and len(cells) > 1:
                break
            nxt = int(down[here])
            if nxt == here:
                break
            cells.append(nxt)
        return np.asarray(cells)

    def upstream_mask(self, cells: np.ndarray) -> np.ndarray:
        """Return the boolean grid of every cell draining to any of ``cells`` (included)."""
        labels = self.flow.basins(idxs=np.asarray(cells, dtype=np.intp), ids=np.ones(len(cells), dtype=np.int32))
        return labels > 0


def cache_key(courses: gpd.GeoDataFrame) -> str:
    """Return the digest naming the flow directions' cache file: the code, the burned courses, the DEM and pyflwdir.

    Parameters
    ----------
    courses : geopandas.GeoDataFrame
        The ``river_courses`` layer the DEM is conditioned on.

    Returns
    -------
    str
        16 hex digits.
    """
    digest = hashlib.sha256()
    digest.update(code_digest())
    # The courses as built (the embedded data or the user's file), not the files they come from.
    digest.update("\n".join(courses["name"].astype(str)).encode())
    digest.update(b"".join(shapely.to_wkb(courses.geometry.to_numpy())))
    digest.update((DATA_DIR / DEM_FILE).read_bytes())
    digest.update(f"{_FLOW_PACKAGE} {importlib.metadata.version(_FLOW_PACKAGE)}".encode())
    return digest.hexdigest()[:16]


def _build(courses: gpd.GeoDataFrame) -> Hydrology:
    import pyflwdir

    dem, transform = read_dem()
    elevation = np.where(dem <= NODATA, np.nan, dem.astype(np.float32))
    burned = condition(elevation, transform, list(courses.geometry))
    flow = pyflwdir.from_dem(np.nan_to_num(burned, nan=-9999.0), nodata=-9999.0, transform=transform, latlon=True, outlets="edge")
    d8 = flow.to_array("d8").astype(np.uint8)
    upstream = flow.accuflux(np.broadcast_to(cell_area_km2(transform, dem.shape), dem.shape).astype(np.float64))
    upstream = np.where(d8 == 255, np.nan, upstream).astype(np.float32)
    source = (
        f"{dem_source()}；河道加深{BURN_DEPTH_M:g} m（{'、'.join(courses['name'])}，WDB II 主干，沿程单调下降）后填洼，"
        f"pyflwdir {importlib.metadata.version(_FLOW_PACKAGE)} D8 流向"
    )
    return Hydrology(
        d8=d8, upstream_km2=upstream, transform=transform, source=source,
        downstream=np.asarray(flow.idxs_ds, dtype=np.int32), order=np.asarray(flow.idxs_seq, dtype=np.int32),
        pits=np.asarray(flow.idxs_pit, dtype=np.int32),
    )


def hydrology(courses: gpd.GeoDataFrame, settings: Settings | None = None, rebuild: bool = False) -> Hydrology:
    """Return the conditioned flow directions and upstream areas, built once and cached.

    Parameters
    ----------
    courses : geopandas.GeoDataFrame
        The ``river_courses`` layer burned into the DEM.
    settings : Settings, optional
        Where the cache lives; default :func:`cqgis.config.settings`.
    rebuild : bool
        Build even when a current cache exists.

    Returns
    -------
    Hydrology
        Directions, upstream areas and provenance.

    Raises
    ------
    LayerError
        When the flow-routing package is missing.
    """
    settings = settings or default_settings()
    path = settings.cache_dir / "terrain" / f"hydrology-{cache_key(courses)}.npz"
    saved = None if rebuild else read_arrays(path)
    if saved is not None:
        return Hydrology(
            d8=saved["d8"],
            upstream_km2=saved["upstream_km2"],
            transform=Affine(*saved["transform"]),
            source=str(saved["source"]),
            downstream=saved["downstream"],
            order=saved["order"],
            pits=saved["pits"],
        )
    try:
        built = _build(courses)
    except ModuleNotFoundError as exc:
        msg = f"hydrology needs the {_FLOW_PACKAGE} package: {exc}"
        raise LayerError(msg) from exc
    write_arrays(
        path,
        d8=built.d8,
        upstream_km2=built.upstream_km2,
        transform=np.asarray(tuple(built.transform)[:6]),
        source=np.asarray(built.source),
        downstream=built.downstream,
        order=built.order,
        pits=built.pits,
    )
    return built


def read_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """Return the arrays of a cache file, or None when it is missing or unreadable (so it is rebuilt).

    Parameters
    ----------
    path : pathlib.Path
        An ``.npz`` file written by :func:`write_arrays`.

    Returns
    -------
    dict of str to numpy.ndarray or None
    """
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as saved:
            return {name: saved[name] for name in saved.files}
    except (OSError, ValueError, KeyError):
        return None


def write_arrays(path: Path, **arrays: np.ndarray) -> None:
    """Write arrays to a cache file atomically and remove the older files of its kind.

    Uncompressed: the flow grids read back in a few hundredths of a second.
    A file's kind is its name up to the last ``-`` (``hydrology-<key>.npz``).

    Parameters
    ----------
    path : pathlib.Path
        The ``.npz`` file.
    **arrays : numpy.ndarray
        The arrays by name.
    """
    from cqgis.geo.io import atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic(path) as temp:
        with open(temp, "wb") as handle:
            np.savez(handle, **arrays)
    kind = path.name.rsplit("-", 1)[0]
    for old in path.parent.glob(f"{kind}-*.npz"):
        if old != path:
            old.unlink(missing_ok=True)
