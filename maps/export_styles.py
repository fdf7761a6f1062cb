"""GeoPackages that open styled in QGIS: map layers with their styles, and other data drawn as the map layer that shows it, else in one colour."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

import geopandas as gpd
import shapely

from cqgis.geo import io
from cqgis.geo.gpkg_styles import LayerStyle
from cqgis.layers import catalog
from cqgis.maps import qgis_style, sld_style, theme_base, theme_overview
from cqgis.maps.style import GEOMETRY_TYPES, LayerSpec

#: Catalogue layer -> the map layer drawing the whole layer as it is stored
#: (layers whose map classes come from an analysis are not listed).
MAP_LAYERS: Mapping[str, Callable[[gpd.GeoDataFrame], LayerSpec]] = MappingProxyType({
    "districts": theme_overview.region_layer,
    "basins": theme_overview.basins_layer,
    "functional_zones": theme_overview.zones_layer,
    "border": theme_overview.border_layer,
})
#: Catalogue layer -> the map layers drawing parts of it, each with the
#: column whose non-blank features it draws (None: every other feature).
SPLIT_LAYERS: Mapping[str, Callable[[gpd.GeoDataFrame], list[tuple[LayerSpec, str | None]]]] = MappingProxyType({
    # Named reaches wide and labelled, the other streams thin, as on every map.
    "rivers": lambda frame: [(theme_base.named_rivers_layer(frame), "name"), (theme_base.streams_layer(frame), None)],
})


def layer_style(layer: LayerSpec, name: str) -> LayerStyle:
    """Return a map layer's style as stored in a GeoPackage: QML for QGIS and the same as SLD.

    Parameters
    ----------
    layer : LayerSpec
        The map layer; its frame is the data written.
    name : str
        The layer's name in the GeoPackage.

    Returns
    -------
    LayerStyle
        Both documents, made from ``layer``.
    """
    return LayerStyle(qgis_style.layer_qml(layer), sld_style.layer_sld(layer, name))


def write_styled(layers: Mapping[str, LayerSpec], path: str | os.PathLike) -> Path:
    """Write map layers into one new GeoPackage, each with its QGIS style as the default.

    Parameters
    ----------
    layers : mapping of str to LayerSpec
        GeoPackage layer name -> map layer; its frame is written.
    path : str or os.PathLike
        The ``.gpkg``, replaced as a whole (see :func:`cqgis.geo.io.write_layers`).

    Returns
    -------
    pathlib.Path
        The GeoPackage.
    """
    # A layer with nothing to draw takes its type from the spec, or QGIS opens it as a table.
    empty = {name: qgis_style.GDAL_TYPES[layer.kind] for name, layer in layers.items() if layer.drawable().empty}
    return io.write_layers(
        {name: layer.frame for name, layer in layers.items()}, path,
        styles={name: layer_style(layer, name) for name, layer in layers.items()}, geometry_types=empty,
    )


def catalog_style(name: str, frame: gpd.GeoDataFrame) -> LayerStyle | None:
    """Return the QGIS style of catalogue layer ``name`` written with the data ``frame``.

    Parameters
    ----------
    name : str
        Catalogue layer name.
    frame : geopandas.GeoDataFrame
        The layer as written, in EPSG:4326.

    Returns
    -------
    LayerStyle or None
        The style of the map layer in :data:`MAP_LAYERS` (of the map
        layers in :data:`SPLIT_LAYERS`), or a single
        symbol in the maps' default colour titled with the layer's Chinese
        title; None for a table without geometry.
    """
    factory = MAP_LAYERS.get(name)
    if factory is not None:
        return layer_style(factory(frame), name)
    if name in SPLIT_LAYERS:
        parts = SPLIT_LAYERS[name](frame)
        return LayerStyle(qgis_style.parts_qml(parts), sld_style.parts_sld(parts, name))
    return plain_style(catalog.schema(name).title_zh, frame, name)


def plain_style(title: str, frame: gpd.GeoDataFrame, name: str | None = None) -> LayerStyle | None:
    """Return a single-symbol QGIS style in the maps' default colour for data no map draws.

    Parameters
    ----------
    title : str
        Chinese name of the layer (its legend entry).
    frame : geopandas.GeoDataFrame
        The data as written.
    name : str, optional
        Its layer name in the file; default ``title``.

    Returns
    -------
    LayerStyle or None
        The style; None when the frame is not in EPSG:4326, has no
        geometry, or mixes points, lines and polygons (no single symbol
        draws it).
    """
    if not isinstance(frame, gpd.GeoDataFrame) or frame.crs is None or frame.crs.to_epsg() != 4326:
        return None
    types = set(frame.geom_type.dropna())
    kinds = [kind for kind, accepted in GEOMETRY_TYPES.items() if types and types <= accepted]
    if not kinds or shapely.is_empty(frame.geometry.array).all():
        return None
    return layer_style(LayerSpec(title, frame, kinds[0]), name or title)
