"""QGIS styles of catalogue layers exported as GeoPackages: drawn as the map layer that shows them, else in one colour."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType

import geopandas as gpd

from cqgis.layers import catalog
from cqgis.maps import qgis_style, theme_base, theme_overview
from cqgis.maps.style import LayerSpec

#: Catalogue layer -> the map layer drawing the whole layer as it is stored
#: (layers whose map classes come from an analysis are not listed).
MAP_LAYERS: Mapping[str, Callable[[gpd.GeoDataFrame], LayerSpec]] = MappingProxyType({
    "districts": theme_overview.region_layer,
    "basins": theme_overview.basins_layer,
    "functional_zones": theme_overview.zones_layer,
    "border": theme_overview.border_layer,
    "rivers": theme_base.named_rivers_layer,
})
# Layer kinds of the catalogue's geometry types.
_KINDS = {"Point": "point", "LineString": "line", "Polygon": "polygon"}


def catalog_style(name: str, frame: gpd.GeoDataFrame) -> str | None:
    """Return the QGIS style (QML) of catalogue layer ``name`` written with the data ``frame``.

    Parameters
    ----------
    name : str
        Catalogue layer name.
    frame : geopandas.GeoDataFrame
        The layer as written, in EPSG:4326.

    Returns
    -------
    str or None
        The style of the map layer in :data:`MAP_LAYERS`, or a single
        symbol in the maps' default colour titled with the layer's Chinese
        title; None for a table without geometry.
    """
    factory = MAP_LAYERS.get(name)
    if factory is not None:
        return qgis_style.layer_qml(factory(frame))
    geometry_type = catalog.schema(name).geometry_type
    if geometry_type is None:
        return None
    return qgis_style.layer_qml(LayerSpec(catalog.schema(name).title_zh, frame, _KINDS[geometry_type]))
