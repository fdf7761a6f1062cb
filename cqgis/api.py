"""Python API: the functions ``import cqgis`` exposes, loaded when first used so that the CLI starts fast.

Layers
    :func:`layer` loads any catalogue layer (or the user's file that
    replaces it) with its provenance columns; :func:`layer_names` lists them.
Analyses
    One function per ``cqgis analyze`` subcommand, in :mod:`cqgis.analyses`,
    each returning a (Geo)DataFrame (``catchment`` a
    :class:`~cqgis.analysis.catchment.Catchment` of DataFrames):
    ``attribute``, ``catchment`` (also ``upstream`` on the command line),
    ``compliance``, ``coverage``, ``cross_border``, ``green``,
    ``rural_sewage`` and ``priority_untreated``, ``water_quality``.
Maps
    ``map`` returns a theme's :class:`~cqgis.maps.themes.Map`: shown inline
    in Jupyter (its offline page in an iframe), ``.save()`` writes HTML, PNG,
    PDF, SVG, a styled GeoPackage or a QGIS project, as ``cqgis map`` does.
    ``build_map`` returns just its :class:`~cqgis.maps.style.MapSpec`;
    ``write_map`` writes a spec; ``render_map`` builds and writes.
    ``atlas`` draws every map of an atlas config, its index page and PDFs,
    as ``cqgis atlas`` does.
Files and settings
    ``read`` and ``write`` as in :mod:`cqgis.geo.io`; ``settings`` gives the
    layer cache and the user's data folder (``settings(data_dir=...)``),
    which every function above takes as ``settings=``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from cqgis.config import Settings
    from cqgis.maps.atlas import AtlasReport

#: Public name -> (module, attribute) it comes from.
EXPORTS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "layer": ("cqgis.api", "layer"),
    "layer_names": ("cqgis.api", "layer_names"),
    "attribute": ("cqgis.analyses", "attribute"),
    "catchment": ("cqgis.analyses", "catchment"),
    "compliance": ("cqgis.analyses", "compliance"),
    "coverage": ("cqgis.analyses", "coverage"),
    "cross_border": ("cqgis.analyses", "cross_border"),
    "green": ("cqgis.analyses", "green"),
    "rural_sewage": ("cqgis.analyses", "rural_sewage"),
    "priority_untreated": ("cqgis.analyses", "priority_untreated"),
    "water_quality": ("cqgis.analyses", "water_quality"),
    "map": ("cqgis.maps.themes", "make_map"),
    "Map": ("cqgis.maps.themes", "Map"),
    "build_map": ("cqgis.maps.themes", "build_spec"),
    "write_map": ("cqgis.maps.themes", "write"),
    "render_map": ("cqgis.maps.themes", "render"),
    "atlas": ("cqgis.api", "atlas"),
    "settings": ("cqgis.config", "settings"),
    "read": ("cqgis.geo.io", "read"),
    "write": ("cqgis.geo.io", "write"),
})


def resolve(name: str) -> object:
    """Return the object exported as ``name``, importing its module now.

    Parameters
    ----------
    name : str
        A key of :data:`EXPORTS`.

    Returns
    -------
    object
        The function.

    Raises
    ------
    AttributeError
        For a name cqgis does not export.
    """
    if name not in EXPORTS:
        msg = f"module 'cqgis' has no attribute {name!r}"
        raise AttributeError(msg)
    module, attribute = EXPORTS[name]
    return getattr(importlib.import_module(module), attribute)


def layer(name: str, settings: Settings | None = None) -> gpd.GeoDataFrame | pd.DataFrame:
    """Load a catalogue layer, as the maps and analyses use it.

    Parameters
    ----------
    name : str
        One of :func:`layer_names` (``"districts"``, ``"sections"`` ...).
    settings : Settings, optional
        Cache and the user's data folder; a file there named after the
        layer replaces the embedded data. Default: :func:`cqgis.config.settings`.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        The layer in EPSG:4326 (a DataFrame for a table layer). Every row
        has ``source`` (where it comes from) and ``precision`` (``exact``,
        ``approximate``, ``schematic`` or ``synthetic``: invented).

    Raises
    ------
    cqgis.layers.errors.UnknownLayerError
        For a name that is not in the catalogue (the message lists them).
    """
    from cqgis.layers import catalog

    return catalog.load(name, settings)


def layer_names() -> list[str]:
    """Return the names of every catalogue layer, in catalogue order.

    Returns
    -------
    list of str
        Names for :func:`layer`.
    """
    from cqgis.layers import catalog

    return catalog.names()


def atlas(
    config: str | os.PathLike,
    output: str | os.PathLike | None = None,
    *,
    workers: int = 1,
    force: bool = False,
    settings: Settings | None = None,
) -> AtlasReport:
    """Draw every map of an atlas config, its index page and one PDF per theme (``cqgis atlas``).

    Parameters
    ----------
    config : str or os.PathLike
        The atlas's YAML file (``maps:`` entries of theme, coverage, formats
        ...; see the README).
    output : str or os.PathLike, optional
        Output folder; default: the config's ``output``, relative to it.
    workers : int
        Maps drawn at once, each in its own process.
    force : bool
        Redraw maps whose inputs have not changed since the last run.
    settings : Settings, optional
        Cache and the user's data folder.

    Returns
    -------
    cqgis.maps.atlas.AtlasReport
        ``index`` (the index page), ``books`` (the PDFs), ``outcomes`` and
        ``failures`` (a failing map does not stop the others).

    Raises
    ------
    cqgis.maps.errors.MapOptionError
        A config that cannot be read or planned (line named).
    """
    from cqgis.maps import atlas as engine

    return engine.run_atlas(engine.read_config(config, output), workers=workers, force=force, settings=settings)
