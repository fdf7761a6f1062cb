"""The drainage model: named river cells, their watersheds, and points snapped to the right river."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from cqgis.config import Settings, settings as default_settings
from cqgis.layers import terrain
from cqgis.layers.river_names import ANCHORS_FILE, RIVERS_FILE, aliases, read_anchors, read_rivers
from cqgis.layers.sources import data_digest

#: Smallest upstream area of a stream, km²: what is traced, named, snapped to and drawn near Chongqing.
STREAM_MIN_KM2 = 50.0

#: Farthest an anchor place may lie from the stream it names.
SNAP_RADIUS_M = 6_000.0

#: How many of the largest streams near a river's first anchor are tried before giving up.
CANDIDATES = 8

#: Below its last anchor a river ends where a branch this many times its size joins it.
MOUTH_RATIO = 2.0

#: An anchor snaps to cells of at most this many times the river's published area.
AREA_SLACK = 1.3

#: Farthest a section may lie from the named river it is said to be on.
RIVER_SNAP_M = 10_000.0

#: Farthest a point may lie from the stream network when no river is named.
STREAM_SNAP_M = 2_000.0


@dataclass(frozen=True)
class Drainage:
    """Flow directions with the documented rivers and their leaf watersheds.

    Attributes
    ----------
    hydrology : terrain.Hydrology
        The conditioned flow directions.
    names : tuple of str
        River names; label ``i`` (1-based) in :attr:`river` and :attr:`basin` is ``names[i - 1]``.
    river : numpy.ndarray
        int16 flat array: the river a cell lies on (0 none).
    basin : numpy.ndarray
        int16 flat array: the river whose leaf watershed holds a cell (0 outside every one).
    mouths : numpy.ndarray
        Flat index of each river's last cell, in :attr:`names` order.
    unresolved : dict of str to str
        Documented rivers the DEM could not trace, with the reason.
    other_names : dict of str to str
        Other names of rivers (澎溪河 -> 小江), from ``rivers.csv``.
    """

    hydrology: terrain.Hydrology
    names: tuple[str, ...]
    river: np.ndarray
    basin: np.ndarray
    mouths: np.ndarray
    unresolved: dict
    other_names: dict

    def label(self, name: str) -> int:
        """Return the 1-based label of river ``name`` (aliases accepted), 0 if it is not traced."""
        name = self.other_names.get(name, name)
        return self.names.index(name) + 1 if name in self.names else 0

    def snap(self, lon: float, lat: float, river: str | None = None) -> int:
        """Return the cell a point drains through: on its named river when given, else the nearest stream.

        Parameters
        ----------
        lon, lat : float
            The point, WGS84.
        river : str, optional
            The river the point is documented to be on. When it is traced,
            the point snaps to its nearest cell of that river (within
            :data:`RIVER_SNAP_M`); otherwise to the nearest stream cell
            that belongs to no other named river (within :data:`STREAM_SNAP_M`),
            so a section on a creek beside the 长江 stays on the creek.

        Returns
        -------
        int
            Flat cell index; -1 when nothing is near enough.
        """
        hyd = self.hydrology
        here = int(hyd.index(lon, lat)[0])
        if here < 0:
            return -1
        own = self.label(river) if river else 0
        radius = RIVER_SNAP_M if own else STREAM_SNAP_M
        cells = _window(hyd, here, radius)
        area = np.nan_to_num(hyd.upstream_km2.ravel()[cells], nan=0.0)
        on = self.river[cells]
        ok = on == own if own else (area >= STREAM_MIN_KM2) & (on == 0)
        if not own and not ok.any():
            ok = area >= STREAM_MIN_KM2
        if not ok.any():
            return -1
        xy = hyd.center(cells[ok])
        lat0 = np.radians(lat)
        d = np.hypot((xy[:, 0] - lon) * np.cos(lat0), xy[:, 1] - lat)
        # Nearest first; among equally near cells the larger stream.
        best = np.lexsort((-area[ok], np.round(d, 6)))[0]
        return int(cells[ok][best])

    def cells(self, name: str) -> np.ndarray:
        """Return the cells of river ``name`` from its head to its mouth (empty when not traced).

        Upstream area grows at every step down a flow path, so sorting by it
        restores the downstream order.
        """
        cells = np.flatnonzero(self.river == self.label(name)) if self.label(name) else np.empty(0, dtype=np.intp)
        return cells[np.argsort(self.hydrology.upstream_km2.ravel()[cells], kind="stable")]

    def basin_name(self, cell: int) -> str:
        """Return the leaf watershed a cell lies in ('' outside all)."""
        label = int(self.basin[cell]) if cell >= 0 else 0
        return self.names[label - 1] if label else ""


def _window(hyd: terrain.Hydrology, index: int, radius_m: float) -> np.ndarray:
    """Flat indices of the cells within ``radius_m`` of cell ``index``."""
    rows, cols = hyd.shape
    row, col = divmod(int(index), cols)
    lat = hyd.transform.f + (row + 0.5) * hyd.transform.e
    dy = np.radians(abs(hyd.transform.e)) * terrain.EARTH_RADIUS_M
    dx = dy * np.cos(np.radians(lat))
    ky, kx = int(np.ceil(radius_m / dy)), int(np.ceil(radius_m / dx))
    r = np.arange(max(row - ky, 0), min(row + ky + 1, rows))
    c = np.arange(max(col - kx, 0), min(col + kx + 1, cols))
    rr, cc = np.meshgrid(r, c, indexing="ij")
    near = np.hypot((rr - row) * dy, (cc - col) * dx) <= radius_m
    return (rr * cols + cc)[near]


def _candidates(hyd: terrain.Hydrology, lon: float, lat: float, free: np.ndarray, bound: float) -> np.ndarray:
    """Free stream cells near (lon, lat) of at most ``bound`` km², largest upstream area first."""
    here = int(hyd.index(lon, lat)[0])
    if here < 0:
        return np.empty(0, dtype=np.intp)
    cells = _window(hyd, here, SNAP_RADIUS_M)
    area = np.nan_to_num(hyd.upstream_km2.ravel()[cells], nan=0.0)
    ok = free[cells] & (area >= STREAM_MIN_KM2) & (area <= bound)
    return cells[ok][np.argsort(-area[ok], kind="stable")][:CANDIDATES]


def _main_stem_above(hyd: terrain.Hydrology, start: int, free: np.ndarray) -> list[int]:
    """Cells above ``start`` along the larger upstream branch, upstream first, while streams stay free."""
    upstream_main = np.asarray(hyd.flow.idxs_us_main)
    area = hyd.upstream_km2.ravel()
    cells = []
    here = upstream_main[start]
    while here >= 0 and free[here] and area[here] >= STREAM_MIN_KM2:
        cells.append(int(here))
        here = upstream_main[here]
    return cells[::-1]


def _distance_m(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Great-circle distance (m) from each lon/lat in ``b`` to the nearest lon/lat in ``a``, approximately."""
    lat0 = np.radians(a[:, 1].mean())
    scale = np.radians(1) * terrain.EARTH_RADIUS_M
    ax, ay = a[:, 0] * np.cos(lat0) * scale, a[:, 1] * scale
    bx, by = b[:, 0] * np.cos(lat0) * scale, b[:, 1] * scale
    return np.sqrt(((bx[:, None] - ax[None, :]) ** 2 + (by[:, None] - ay[None, :]) ** 2).min(axis=1))


def _mouth(hyd: terrain.Hydrology, path: np.ndarray, last: int) -> np.ndarray:
    """Cut ``path`` where, below position ``last``, a branch :data:`MOUTH_RATIO` times larger joins it."""
    upstream_main = np.asarray(hyd.flow.idxs_us_main)
    area = hyd.upstream_km2.ravel()
    ours, then = path[last:-1], path[last + 1 :]
    joined = upstream_main[then]
    larger = (joined != ours) & (area[np.maximum(joined, 0)] >= MOUTH_RATIO * area[ours])
    below = np.flatnonzero(larger)
    return path[: last + 1 + below[0]] if below.size else path


def _trace(hyd: terrain.Hydrology, first: int, places: np.ndarray, free: np.ndarray, from_source: bool) -> tuple[np.ndarray, np.ndarray]:
    """One river's cells from its first anchor's cell, and each anchor's distance (m) from them."""
    path = hyd.path(first, stop=~free)
    if not free[path[-1]]:
        path = path[:-1]  # that cell is the receiving river's
    last = int(np.argmin(_distance_m(places[-1:], hyd.center(path))))
    path = _mouth(hyd, path, last)
    if from_source:
        path = np.concatenate([np.asarray(_main_stem_above(hyd, first, free), dtype=path.dtype), path])
    return path, _distance_m(hyd.center(path), places)


def trace_named(hyd: terrain.Hydrology) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Return the cells of every documented river the DEM supports, and why the others are left unnamed.

    Parameters
    ----------
    hyd : terrain.Hydrology
        The conditioned flow directions.

    Returns
    -------
    traced : dict of str to numpy.ndarray
        River name -> flat cell indices from its head to its mouth (the last
        cell before the river it flows into), receivers first.
    unresolved : dict of str to str
        River name -> the reason it could not be traced (an anchor off the
        network, or off every path the DEM gives from the first anchor).
    """
    rivers = read_rivers()
    anchors = read_anchors()
    free = np.ones(hyd.d8.size, dtype=bool)
    traced: dict[str, np.ndarray] = {}
    unresolved: dict[str, str] = {}
    for river, row in rivers.iterrows():
        mine = anchors[anchors["river"] == river]
        if mine.empty:
            continue
        places = mine[["lon", "lat"]].to_numpy()
        published = row["published_area_km2"]
        bound = AREA_SLACK * published if pd.notna(published) else np.inf
        best = None
        for first in _candidates(hyd, places[0, 0], places[0, 1], free, bound):
            path, gap = _trace(hyd, int(first), places, free, row["from_source"])
            if best is None or gap.max() < best[1].max():
                best = (path, gap)
            if gap.max() <= SNAP_RADIUS_M:
                break
        if best is None:
            unresolved[river] = f"{mine['place'].iat[0]} 周边 {SNAP_RADIUS_M / 1000:g} km 内无河网"
            continue
        path, gap = best
        if gap.max() > SNAP_RADIUS_M:
            off = "、".join(f"{p}（{g / 1000:.1f} km）" for p, g in zip(mine["place"], gap) if g > SNAP_RADIUS_M)
            unresolved[river] = f"DEM 流路不经过 {off}"
            continue
        free[path] = False
        traced[river] = path
    return traced, unresolved


def _build(courses: gpd.GeoDataFrame, settings: Settings) -> Drainage:
    hyd = terrain.hydrology(courses, settings)
    traced, unresolved = trace_named(hyd)
    names = tuple(traced)
    river = np.zeros(hyd.d8.size, dtype=np.int16)
    for i, cells in enumerate(traced.values(), start=1):
        river[cells] = i
    mouths = np.array([cells[-1] for cells in traced.values()], dtype=np.intp)
    basin = hyd.flow.basins(idxs=mouths, ids=np.arange(1, len(names) + 1, dtype=np.int32)).ravel().astype(np.int16)
    return Drainage(hydrology=hyd, names=names, river=river, basin=basin, mouths=mouths, unresolved=unresolved, other_names=aliases())


def model(courses: gpd.GeoDataFrame, settings: Settings | None = None) -> Drainage:
    """Return the drainage model, cached beside the flow directions.

    Parameters
    ----------
    courses : geopandas.GeoDataFrame
        The ``river_courses`` layer the flow directions are conditioned on.
    settings : Settings, optional
        Where the cache lives.

    Returns
    -------
    Drainage
        The model; building it the first time takes the flow routing's time.
    """
    settings = settings or default_settings()
    # The tracing reads the river tables besides the flow directions (whose key covers the code).
    key = hashlib.sha256(terrain.cache_key(courses).encode() + data_digest((RIVERS_FILE, ANCHORS_FILE))).hexdigest()[:16]
    path = settings.cache_dir / "terrain" / f"drainage-{key}.npz"
    saved = terrain.read_arrays(path)
    if saved is not None:
        return Drainage(
            hydrology=terrain.hydrology(courses, settings),
            names=tuple(saved["names"].tolist()),
            river=saved["river"],
            basin=saved["basin"],
            mouths=saved["mouths"],
            unresolved=dict(zip(saved["unresolved_names"].tolist(), saved["unresolved_why"].tolist())),
            other_names=aliases(),
        )
    built = _build(courses, settings)
    terrain.write_arrays(
        path,
        names=np.asarray(built.names),
        river=built.river,
        basin=built.basin,
        mouths=built.mouths,
        unresolved_names=np.asarray(list(built.unresolved), dtype=str),
        unresolved_why=np.asarray(list(built.unresolved.values()), dtype=str),
    )
    return built


def systems() -> dict[str, str]:
    """Return each river's major system (长江干流, 嘉陵江, 乌江, 汉江, 沅江 ...).

    A river belongs to the first of :data:`MAJOR_TRIBUTARIES` its water
    reaches, else to 长江干流 when it reaches the 长江, else to the river it
    ends in (汉江, 沅江, which leave the DEM window).
    """
    table = read_rivers()
    found = {}
    for river in table.index:
        chain = [river]
        while table.at[chain[-1], "flows_into"] in table.index:
            chain.append(table.at[chain[-1], "flows_into"])
        major = [r for r in chain if r in MAJOR_TRIBUTARIES]
        found[river] = major[0] if major else ("长江干流" if chain[-1] == "长江" else chain[-1])
    return found


#: 长江 tributaries whose basins the office treats as systems of their own.
MAJOR_TRIBUTARIES = ("嘉陵江", "乌江")


def area_by_label(drainage: Drainage, mask: np.ndarray | None = None) -> pd.Series:
    """Return the area (km²) of each leaf watershed, optionally within a flat boolean mask."""
    hyd = drainage.hydrology
    cell = np.broadcast_to(hyd.cell_km2, hyd.shape).ravel()
    labels = drainage.basin if mask is None else np.where(mask, drainage.basin, 0)
    sums = np.bincount(labels.astype(np.int64), weights=cell, minlength=len(drainage.names) + 1)
    return pd.Series(sums[1:], index=list(drainage.names))
