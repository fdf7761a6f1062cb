"""The layer catalogue: every layer by name, built on first use and cached as GeoParquet.

A layer is a module in :mod:`cqgis.layers` with

``SCHEMA``
    its :class:`~cqgis.layers.schema.Schema`;
``SOURCE_PACKAGES``
    the installed distributions its data comes from (their versions key the cache);
``DEPENDS``
    names of the layers its build needs;
``DATA_FILES``
    (optional) files under ``layers/data`` it reads (their bytes key the cache);
``build(deps)``
    returning the layer from a mapping of the built dependencies.

The cache file's name holds a digest of the cqgis version, the source of
every module layers are built with (the ``geo`` and ``layers`` packages and
the configuration, since a change in a shared helper changes layers), its data files, the versions of its source packages and the digests
of its dependencies, so any change to any of them rebuilds it; nothing needs
invalidating by hand.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import multiprocessing
import os
from collections.abc import Iterable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from cqgis.config import Settings, settings as default_settings
from cqgis.errors import UsageError
from cqgis.layers import drainage
from cqgis.layers.errors import LayerError, UnknownLayerError
from cqgis.layers.schema import Schema
from cqgis.layers.sources import COLUMNS_FILE, code_digest, data_digest
from cqgis.version import __version__

if TYPE_CHECKING:
    from cqgis.geo.validate import Report

#: Layer name -> the module that defines it, in the order `cqgis layers list` shows.
LAYERS = {
    "districts": "cqgis.layers.districts",
    "neighbors": "cqgis.layers.neighbors",
    "counties": "cqgis.layers.counties",
    "border": "cqgis.layers.border",
    "functional_zones": "cqgis.layers.functional_zones",
    "river_courses": "cqgis.layers.courses",
    "rivers": "cqgis.layers.rivers",
    "basins": "cqgis.layers.basins",
    "sections": "cqgis.layers.sections",
    "measurements": "cqgis.layers.measurements",
    "h2_zones": "cqgis.layers.h2_zones",
    "h2_stations": "cqgis.layers.h2_stations",
    "parks": "cqgis.layers.parks",
    "green_factories": "cqgis.layers.green_factories",
    "rural_settlements": "cqgis.layers.rural_settlements",
    "rural_sewage": "cqgis.layers.rural_sewage",
    "targets": "cqgis.layers.targets",
    "indicators": "cqgis.layers.indicators",
}


def names() -> list[str]:
    """Return the names of every layer, in catalogue order."""
    return list(LAYERS)


def module(name: str) -> ModuleType:
    """Return the module that defines layer ``name``.

    Raises
    ------
    UnknownLayerError
        When the catalogue has no such layer.
    """
    if name not in LAYERS:
        msg = f"unknown layer '{name}'; layers: {', '.join(LAYERS)}"
        raise UnknownLayerError(msg)
    return importlib.import_module(LAYERS[name])


def schema(name: str) -> Schema:
    """Return the schema of layer ``name``."""
    return module(name).SCHEMA


def cache_key(name: str) -> str:
    """Return the digest that names layer ``name``'s cache file."""
    digest = hashlib.sha256()
    digest.update(f"cqgis {__version__}\n".encode())
    # The code is read once per key: the dependencies' part below leaves it out.
    digest.update(code_digest())
    digest.update(_sources_digest(name))
    return digest.hexdigest()[:16]


def _sources_digest(name: str) -> bytes:
    """Digest of what layer ``name`` and its dependencies are built from, besides the code."""
    layer = module(name)
    digest = hashlib.sha256()
    digest.update(data_digest(getattr(layer, "DATA_FILES", ())))
    for package in layer.SOURCE_PACKAGES:
        digest.update(f"{package} {importlib.metadata.version(package)}\n".encode())
    for dependency in layer.DEPENDS:
        digest.update(dependency.encode() + _sources_digest(dependency))
    return digest.digest()


def cache_path(name: str, settings: Settings | None = None) -> Path:
    """Return where layer ``name`` is cached for the current sources."""
    settings = settings or default_settings()
    return settings.cache_dir / "layers" / f"{name}-{cache_key(name)}.parquet"


def load(name: str, settings: Settings | None = None, rebuild: bool = False) -> gpd.GeoDataFrame:
    """Return layer ``name``, from the cache when it is current, else built and cached.

    Parameters
    ----------
    name : str
        Layer name, one of :func:`names`.
    settings : Settings, optional
        Where the cache lives; default: :func:`cqgis.config.settings`.
    rebuild : bool
        Build the layer (not its dependencies) even when a current cache exists.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The layer in EPSG:4326 (a DataFrame for a table layer).
    """
    settings = settings or default_settings()
    user_file = find_user_file(name, settings)
    if user_file is not None:
        return load_file(name, user_file, settings)
    # A layer built on a user's file is theirs alone: built each time, never
    # cached, so it can neither leak into runs without their data nor go stale.
    shared = not _depends_on_user_files(name, settings)
    path = cache_path(name, settings)
    if shared and path.exists() and not rebuild:
        cached = _read_cached(name, path)
        if cached is not None:
            return cached
    layer = module(name)
    deps = {dependency: load(dependency, settings) for dependency in layer.DEPENDS}
    frame = layer.SCHEMA.conform(layer.build(deps))
    if shared:
        _write_cache(frame, path)
    return frame


def _depends_on_user_files(name: str, settings: Settings) -> bool:
    """Whether any layer ``name`` is built from, directly or not, comes from the user's data folder."""
    return any(
        find_user_file(dependency, settings) is not None or _depends_on_user_files(dependency, settings)
        for dependency in module(name).DEPENDS
    )


def find_user_file(name: str, settings: Settings) -> Path | None:
    """Return the user's file for layer ``name`` in ``settings.data_dir``, if there is one.

    Raises
    ------
    UsageError
        When the folder holds several files for the layer.
    """
    from cqgis.geo.io import READ_EXTENSIONS

    if settings.data_dir is None:
        return None
    found = sorted(
        p for p in Path(settings.data_dir).glob(f"{name}.*") if p.suffix.lower() in READ_EXTENSIONS
    )
    if len(found) > 1:
        msg = f"{settings.data_dir} holds several files for layer '{name}': {', '.join(p.name for p in found)}; keep one"
        raise UsageError(msg)
    return found[0] if found else None


def user_files(settings: Settings) -> list[Path]:
    """Return the files of the user's data folder that layers are read from: each layer's, then the header mapping.

    Parameters
    ----------
    settings : Settings
        Gives the data folder; none, no files.

    Returns
    -------
    list of pathlib.Path
        Existing files, layers in catalogue order.
    """
    found = [path for name in names() if (path := find_user_file(name, settings)) is not None]
    columns = _columns_file(settings)
    return [*found, *([columns] if columns is not None else [])]


def _columns_file(settings: Settings) -> Path | None:
    """Return the data folder's header mapping (:data:`COLUMNS_FILE`), if it has one."""
    if settings.data_dir is None:
        return None
    path = Path(settings.data_dir) / COLUMNS_FILE
    return path if path.is_file() else None


#: Problems a user file's LayerError lists on its one line.
_SHOWN_PROBLEMS = 10


def check_file(
    name: str,
    path: str | os.PathLike,
    settings: Settings | None = None,
    mapping: dict | None = None,
    crs: str | None = None,
    sheet: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    header_row: int | None = None,
) -> Report:
    """Read a user's file as layer ``name`` and check it against the layer's schema: the one path from a file to a layer.

    Parameters
    ----------
    name : str
        The layer the file stands in for.
    path : str or os.PathLike
        Any file :func:`cqgis.geo.io.read` reads.
    settings : Settings, optional
        Where dependencies come from; its data folder's ``columns.yaml``
        maps headers (and may name the CRS) unless ``mapping`` is given.
    mapping : dict, optional
        Explicit {header: field} pairs.
    crs, sheet, lon, lat : str, optional
        What the coordinates are, the sheet or layer, the coordinate
        columns; default: the mapping's CRS, else found.
    header_row : int, optional
        A table's header row, from 1; default: found below any title rows.

    Returns
    -------
    cqgis.geo.validate.Report
        The file as the layer (``frame``) and every problem by row and column.
    """
    from cqgis.layers import user

    settings = settings or default_settings()
    layer = module(name)
    columns = _columns_file(settings)
    if mapping is None and columns is not None:
        mapping, file_crs = user.split_crs(user.read_mapping(columns, layer=name))
        crs = crs or file_crs
    # Derived fields need the dependencies, which may themselves be user files.
    deps = {dependency: load(dependency, settings) for dependency in layer.DEPENDS}
    return user.load(
        path, layer, mapping=mapping, deps=deps, crs=crs, sheet=sheet, lon=lon, lat=lat, header_row=header_row
    )


def load_file(
    name: str, path: str | os.PathLike, settings: Settings | None = None, **options: Any
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Load a user's file as layer ``name``, refusing it when it breaks the layer's schema.

    Parameters
    ----------
    name : str
        The layer the file stands in for.
    path : str or os.PathLike
        Any file :func:`cqgis.geo.io.read` reads.
    settings : Settings, optional
        As for :func:`check_file`.
    **options
        ``mapping``, ``crs``, ``sheet``, ``lon``, ``lat``, ``header_row``,
        as for :func:`check_file`.

    Raises
    ------
    LayerError
        When the file breaks the layer's schema; the message lists the
        problems by row and column.
    """
    report = check_file(name, path, settings, **options)
    if not report.ok:
        shown = "; ".join(str(problem) for problem in report.problems[:_SHOWN_PROBLEMS])
        more = len(report.problems) - _SHOWN_PROBLEMS
        tail = f"; and {more} more (cqgis validate {Path(path).name} --as {name} lists them all)" if more > 0 else ""
        msg = f"layer '{name}' from {report.name}: {len(report.problems)} problems: {shown}{tail}"
        raise LayerError(msg)
    return report.frame


def layer_named(spec: str | os.PathLike) -> str | None:
    """Return the layer an input names, or None when it is a file: the one "layer name or file" rule.

    A catalogue layer name is the layer unless a file of that very name
    exists (what is on disk is what the user points at).

    Parameters
    ----------
    spec : str or os.PathLike
        What the user gave.

    Returns
    -------
    str or None
        The layer name, or None for a path.
    """
    text = str(spec)
    return text if text in LAYERS and not Path(text).is_file() else None


def load_input(
    value: str | os.PathLike | None, layer: str, settings: Settings | None = None, header_row: int | None = None
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Return the data an analysis runs on: a layer, or a user's file standing in for ``layer``.

    Parameters
    ----------
    value : str, os.PathLike or None
        None or ``default``: layer ``layer``; a layer name (see
        :func:`layer_named`): that layer; otherwise a user's file, checked
        as ``layer`` (:func:`load_file`).
    layer : str
        The layer the input stands for.
    settings : Settings, optional
        Cache and the user's data folder, whose files replace the layers named.
    header_row : int, optional
        Header row of a user's table, from 1; default: found.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        In EPSG:4326; a table layer is a DataFrame.

    Raises
    ------
    UnknownLayerError
        ``layer`` is not in the catalogue.
    LayerError
        The user's file breaks the layer's schema (rows and columns named).
    """
    if value is None or value == "default":
        return load(layer, settings)
    named = layer_named(value)
    if named is not None:
        return load(named, settings)
    return load_file(layer, value, settings, header_row=header_row)


def load_features(
    spec: str | os.PathLike,
    settings: Settings | None = None,
    *,
    crs: str | None = None,
    layer: str | None = None,
    lon: str | None = None,
    lat: str | None = None,
    header_row: int | None = None,
    credit: bool = False,
) -> tuple[gpd.GeoDataFrame | pd.DataFrame, list[int]]:
    """Return the features of a layer named or of any file, not held to a layer's schema, and the rows repaired.

    Parameters
    ----------
    spec : str or os.PathLike
        A layer name (see :func:`layer_named`) or a vector file or point table.
    settings : Settings, optional
        Cache and the user's data folder, whose files replace the layers named.
    crs, layer, lon, lat : str, optional
        Passed to :func:`cqgis.geo.io.read` for a file.
    header_row : int, optional
        A table's header row, from 1; default: found.
    credit : bool
        For an analysis that reports provenance: name the file in every
        ``source`` and count unknown precision as ``approximate``.

    Returns
    -------
    frame : geopandas.GeoDataFrame or pandas.DataFrame
        The features in EPSG:4326, invalid geometries repaired as ``cqgis
        validate`` repairs them (overlays fail on self-intersecting polygons);
        an embedded table layer is a DataFrame.
    repaired : list of int
        The file's row numbers whose geometry was repaired (none for a layer).

    Raises
    ------
    cqgis.geo.errors.ReadError
        The file is missing, of an unknown format or unreadable.
    cqgis.geo.errors.CRSError
        Unknown ``crs``, or a vector file without a CRS and no ``crs``.
    """
    from cqgis.geo import io
    from cqgis.geo.validate import repair
    from cqgis.layers import user

    named = layer_named(spec)
    if named is not None:
        return load(named, settings), []
    frame, repaired = repair(io.read(spec, crs=crs, layer=layer, lon=lon, lat=lat, header_row=header_row))
    rows = [int(row) for row in io.row_numbers(frame)[repaired]]
    return (user.credit(frame, spec) if credit else frame), rows


def drainage_model(settings: Settings | None = None) -> drainage.Drainage:
    """Return the drainage model of the catalogue's ``river_courses`` layer (the user's, when their folder has one).

    Parameters
    ----------
    settings : Settings, optional
        Cache and the user's data folder; default: :func:`cqgis.config.settings`.

    Returns
    -------
    cqgis.layers.drainage.Drainage
        The model, from its cache when current.
    """
    return drainage.model(load("river_courses", settings), settings)


def prepare(settings: Settings | None = None, workers: int = 1, layers: Iterable[str] | None = None) -> list[str]:
    """Build and cache the layers whose cache is missing, ``workers`` at a time, each once its dependencies are cached.

    Layers built on the user's files are left out (they are never cached).
    Independent layers are built side by side: the drainage model behind
    ``rivers`` while ``counties`` and ``border`` are built, say.

    Parameters
    ----------
    settings : Settings, optional
        Cache and the user's data folder; default: :func:`cqgis.config.settings`.
    workers : int
        Processes building layers; 1 builds them here, in catalogue order.
    layers : iterable of str, optional
        The layers wanted, with what they are built from; default: all.

    Returns
    -------
    list of str
        The layers built, in the order they were started.

    Raises
    ------
    UnknownLayerError
        A name of ``layers`` is not in the catalogue.
    """
    settings = settings or default_settings()
    wanted = set(names()) if layers is None else set().union(*({n} | _sources(n) for n in layers))
    todo = [
        name for name in names()
        if name in wanted
        and find_user_file(name, settings) is None
        and not _depends_on_user_files(name, settings)
        and not cache_path(name, settings).exists()
    ]
    if workers <= 1 or len(todo) <= 1:
        for name in todo:
            load(name, settings)
        return todo
    # Spawned, not forked: this process may hold library threads, and a fork
    # server started here would preload only this module for later users.
    context = multiprocessing.get_context("spawn")
    waited_on = {name: len(_dependents(name)) for name in todo}
    started, waiting, running = [], list(todo), {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        while waiting or running:
            blocked = set(waiting) | set(running.values())
            # One layer per free worker, those that more layers wait on first (the
            # chain behind ``sections`` is the longest), so that a layer becoming
            # ready later is not queued behind ones that nothing waits on.
            ready = [n for n in waiting if blocked.isdisjoint(module(n).DEPENDS)]
            for name in sorted(ready, key=lambda n: -waited_on[n])[: workers - len(running)]:
                waiting.remove(name)
                started.append(name)
                running[pool.submit(_cache_layer, name, settings)] = name
            if not running:
                msg = f"layers that depend on each other cannot be built: {', '.join(waiting)}"
                raise LayerError(msg)
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                del running[future]
                future.result()
    return started


def _sources(name: str) -> set[str]:
    """Return every layer ``name`` is built from, directly or not."""
    direct = set(module(name).DEPENDS)
    return direct.union(*(_sources(other) for other in direct))


def _dependents(name: str) -> set[str]:
    """Return every layer built from ``name``, directly or not."""
    direct = {other for other in names() if name in module(other).DEPENDS}
    return direct.union(*(_dependents(other) for other in direct))


def _cache_layer(name: str, settings: Settings) -> None:
    """Load (so build and cache) a layer in a worker, sending nothing back."""
    load(name, settings)


def build_all(settings: Settings | None = None, names_: Iterable[str] | None = None) -> dict:
    """Rebuild the given layers (default: all) and return them by name."""
    return {name: load(name, settings, rebuild=True) for name in (names_ or names())}


def _read_cached(name: str, path: Path) -> gpd.GeoDataFrame | pd.DataFrame | None:
    """Read a cached layer; None when the file is unreadable, so that it is rebuilt."""
    reader = pd.read_parquet if schema(name).geometry_type is None else gpd.read_parquet
    try:
        return reader(path)
    except (OSError, ValueError):
        # pyarrow's errors derive from these: a truncated or foreign cache file.
        return None


def _write_cache(frame: pd.DataFrame, path: Path) -> None:
    from cqgis.geo.io import atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic(path) as temp:
        frame.to_parquet(temp)
    # Older caches of this layer are stale once a new one is written.
    stem = path.name.rsplit("-", 1)[0]
    for old in path.parent.glob(f"{stem}-*.parquet"):
        if old != path:
            old.unlink(missing_ok=True)
