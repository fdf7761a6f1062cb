"""The drainage model: named river cells, their watersheds, and points snapped to the right river."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cqgis.config import Settings, settings as default_settings
from cqgis.layers import catalog, terrain
from cqgis.layers.river_names import aliases, read_rivers
from cqgis.layers.rivers import STREAM_MIN_KM2, _window, trace_named

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

    def basin_name(self, cell: int) -> str:
        """Return the leaf watershed a cell lies in ('' outside all)."""
        label = int(self.basin[cell]) if cell >= 0 else 0
        return self.names[label - 1] if label else ""


def _build(settings: Settings) -> Drainage:
    hyd = terrain.hydrology(settings)
    traced, unresolved = trace_named(hyd)
    names = tuple(traced)
    river = np.zeros(hyd.d8.size, dtype=np.int16)
    for i, cells in enumerate(traced.values(), start=1):
        river[cells] = i
    mouths = np.array([cells[-1] for cells in traced.values()], dtype=np.intp)
    basin = hyd.flow.basins(idxs=mouths, ids=np.arange(1, len(names) + 1, dtype=np.int32)).ravel().astype(np.int16)
    return Drainage(hydrology=hyd, names=names, river=river, basin=basin, mouths=mouths, unresolved=unresolved, other_names=aliases())


def model(settings: Settings | None = None) -> Drainage:
    """Return the drainage model, cached beside the flow directions.

    Parameters
    ----------
    settings : Settings, optional
        Where the cache lives.

    Returns
    -------
    Drainage
        The model; building it the first time takes the flow routing's time.
    """
    from cqgis.geo.io import atomic

    settings = settings or default_settings()
    key = catalog.cache_key("rivers")
    path = settings.cache_dir / "terrain" / f"drainage-{key}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as saved:
                return Drainage(
                    hydrology=terrain.hydrology(settings),
                    names=tuple(saved["names"].tolist()),
                    river=saved["river"],
                    basin=saved["basin"],
                    mouths=saved["mouths"],
                    unresolved=dict(zip(saved["unresolved_names"].tolist(), saved["unresolved_why"].tolist())),
                    other_names=aliases(),
                )
        except (OSError, ValueError, KeyError):
            pass  # an unreadable cache is rebuilt
    built = _build(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic(path) as temp:
        with open(temp, "wb") as handle:
            np.savez_compressed(
                handle,
                names=np.asarray(built.names),
                river=built.river,
                basin=built.basin,
                mouths=built.mouths,
                unresolved_names=np.asarray(list(built.unresolved), dtype=str),
                unresolved_why=np.asarray(list(built.unresolved.values()), dtype=str),
            )
    for old in path.parent.glob("drainage-*.npz"):
        if old != path:
            old.unlink(missing_ok=True)
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
