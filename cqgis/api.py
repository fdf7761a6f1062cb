"""Python API: the functions ``import cqgis`` exposes, loaded when first used so that the CLI starts fast.

Layers
    :func:`layer` loads any catalogue layer (or the user's file that
    replaces it) with its provenance columns; :func:`layer_names` lists them.
Analyses
    Each returns a (Geo)DataFrame: ``attribute``, ``catchment``,
    ``evaluate_targets``, ``coverage``, ``treatment_rates``,
    ``priority_untreated``, ``classify_water``, ``cross_border_sections``,
    ``green_counts``.
Maps
    ``build_map`` returns a theme's :class:`~cqgis.maps.style.MapSpec`;
    ``write_map`` writes it as HTML, PNG, PDF, SVG or a styled GeoPackage;
    ``render_map`` does both.
Files
    ``read`` and ``write`` as in :mod:`cqgis.geo.io`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from cqgis.config import Settings

#: Public name -> (module, attribute) it comes from.
EXPORTS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "layer": ("cqgis.api", "layer"),
    "layer_names": ("cqgis.api", "layer_names"),
    "attribute": ("cqgis.analysis.attribution", "attribute"),
    "catchment": ("cqgis.analysis.catchment", "catchment"),
    "evaluate_targets": ("cqgis.analysis.compliance", "evaluate"),
    "coverage": ("cqgis.analysis.coverage", "coverage"),
    "treatment_rates": ("cqgis.analysis.rural_sewage", "treatment_rates"),
    "priority_untreated": ("cqgis.analysis.rural_sewage", "priority_untreated"),
    "classify_water": ("cqgis.analysis.water_quality", "classify"),
    "cross_border_sections": ("cqgis.analysis.cross_border", "cross_border_sections"),
    "green_counts": ("cqgis.analysis.green_manufacturing", "district_counts"),
    "build_map": ("cqgis.maps.themes", "build_spec"),
    "write_map": ("cqgis.maps.themes", "write"),
    "render_map": ("cqgis.maps.themes", "render"),
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
