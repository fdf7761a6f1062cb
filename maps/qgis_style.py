"""QGIS styles (QML) made from a map layer's LayerSpec, so a GeoPackage opens in QGIS drawn as on the map.

:func:`layer_qml` turns one :class:`~cqgis.maps.style.LayerSpec` into a
QML document QGIS 3.22 and later read as the layer's style: the same
colours, classes, legend labels (Chinese), outline widths, symbol sizes and
map labels as the web and static maps, read from the same spec. The
renderer is

* ``graduatedSymbol`` on the numbers when the spec's classes were cut from
  a numeric column (:attr:`LayerSpec.bins`),
* ``categorizedSymbol`` on ``color_column`` for other classed layers,
* ``singleSymbol`` otherwise.

Widths are in points (the static map's unit), point radii in pixels as
the spec gives them; labels use the static map's
size and halo with :data:`LABEL_FONT`, which QGIS replaces by another
installed font when it is missing.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from cqgis.maps.style import MISSING_COLOR, MISSING_LABEL, Bins, LayerSpec

#: Version written in the QML header: the oldest QGIS these styles are tested with.
QGIS_VERSION = "3.22.16-Białowieża"
#: Font family of map labels (the first of :data:`cqgis.maps.fonts.SYSTEM_FAMILIES`).
LABEL_FONT = "Noto Sans CJK SC"
#: Label text size in points and colour, as on the static map.
LABEL_SIZE = 7.0
LABEL_COLOR = "#222222"
#: White halo around labels, in points.
LABEL_HALO = 0.8

#: GDAL geometry type of each layer kind, for layers with no geometry to take it from.
GDAL_TYPES = {"polygon": "Polygon", "line": "LineString", "point": "Point"}

# QGIS names of what each layer kind draws: symbol type, symbol layer class,
# geometry type code of the layer, and where labels go (QgsPalLayerSettings
# placements: 4 horizontal inside polygons, 3 curved along lines, 0 around points).
_SYMBOL_TYPES = {"polygon": "fill", "line": "line", "point": "marker"}
_SYMBOL_LAYERS = {"polygon": "SimpleFill", "line": "SimpleLine", "point": "SimpleMarker"}
_GEOMETRY_TYPES = {"point": 0, "line": 1, "polygon": 2}
_PLACEMENTS = {"polygon": 4, "line": 3, "point": 0}


def renderer_type(layer: LayerSpec) -> str:
    """Return the QGIS renderer a layer's style uses.

    Parameters
    ----------
    layer : LayerSpec
        The map layer.

    Returns
    -------
    str
        ``graduatedSymbol``, ``categorizedSymbol`` or ``singleSymbol``.
    """
    if layer.color_column is None:
        return "singleSymbol"
    return "categorizedSymbol" if layer.bins is None else "graduatedSymbol"


def classes(layer: LayerSpec) -> list[tuple[str, str]]:
    """Return the (legend label, colour) of every class the style draws, in legend order.

    Parameters
    ----------
    layer : LayerSpec
        The map layer.

    Returns
    -------
    list of (str, str)
        The layer's legend rows (:meth:`LayerSpec.legend_entries`); a
        graduated style lists its classes lowest first, as QGIS keeps
        ranges, and has no row for missing values, which QGIS cannot class,
        so those features are not drawn there.
    """
    if layer.bins is None:
        return [(entry.label, entry.color) for entry in layer.legend_entries()]
    colors = dict(layer.colors or {})
    return [(label, colors.get(label, MISSING_COLOR)) for label in layer.bins.labels]


def layer_qml(layer: LayerSpec) -> str:
    """Return the QGIS style of a map layer as a QML document.

    Parameters
    ----------
    layer : LayerSpec
        The map layer; its frame is the data the style is stored with.

    Returns
    -------
    str
        A ``<qgis>`` document with the renderer and, when the layer has a
        ``label_column``, its labels.
    """
    root = ET.Element(
        "qgis",
        version=QGIS_VERSION,
        styleCategories="Symbology|Labeling",
        labelsEnabled="1" if layer.label_column is not None else "0",
    )
    kind = renderer_type(layer)
    renderer = ET.SubElement(
        root, "renderer-v2", type=kind, symbollevels="0", forceraster="0", enableorderby="0"
    )
    if kind == "singleSymbol":
        colors = [layer.color]
    elif kind == "categorizedSymbol":
        colors = _categories(ET.SubElement(renderer, "categories"), layer)
        renderer.set("attr", str(layer.color_column))
    else:
        colors = _ranges(ET.SubElement(renderer, "ranges"), layer)
        renderer.set("attr", layer.bins.column)
        renderer.set("graduatedMethod", "GraduatedColor")
    symbols = ET.SubElement(renderer, "symbols")
    for number, color in enumerate(colors):
        _symbol(symbols, str(number), color, layer)
    if layer.label_column is not None:
        _labeling(root, layer)
    ET.SubElement(root, "layerGeometryType").text = str(_GEOMETRY_TYPES[layer.kind])
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


def parts_qml(parts: Sequence[tuple[LayerSpec, str | None]]) -> str:
    """Return one QML style drawing the features of one layer as several map layers draw them (a rule per part).

    For data the maps split into layers drawn differently, such as the
    ``rivers`` layer: named rivers wide and labelled, other streams thin.

    Parameters
    ----------
    parts : sequence of (LayerSpec, str or None)
        Single-symbol map layers of one kind, each with the column whose
        non-blank features it draws; None for the last part, which draws
        every other feature. Labels are those of the first part that has them.

    Returns
    -------
    str
        A ``<qgis>`` document with a rule-based renderer.
    """
    labelled = next((layer for layer, _ in parts if layer.label_column is not None), None)
    root = ET.Element(
        "qgis", version=QGIS_VERSION, styleCategories="Symbology|Labeling",
        labelsEnabled="1" if labelled is not None else "0",
    )
    renderer = ET.SubElement(root, "renderer-v2", type="RuleRenderer", symbollevels="0", forceraster="0", enableorderby="0")
    rules = ET.SubElement(renderer, "rules", key="{cqgis-root}")
    symbols = ET.SubElement(renderer, "symbols")
    for number, (layer, column) in enumerate(parts):
        test = "ELSE" if column is None else f"coalesce(\"{column}\", '') <> ''"
        ET.SubElement(rules, "rule", key=f"{{cqgis-rule-{number}}}", symbol=str(number), label=layer.name_zh, filter=test)
        _symbol(symbols, str(number), layer.color, layer)
    if labelled is not None:
        _labeling(root, labelled)
    ET.SubElement(root, "layerGeometryType").text = str(_GEOMETRY_TYPES[parts[0][0].kind])
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


def _categories(parent: ET.Element, layer: LayerSpec) -> list[str]:
    """Add a category per colour of the layer (and the catch-all 无数据 row the map shows); return the colours."""
    colors: Mapping[Hashable, str] = layer.colors or {}
    rows = [(category_value(value), str(value), color) for value, color in colors.items()]
    if (layer.feature_colors() == MISSING_COLOR).any():
        # An empty value is QGIS's "all other values": what the map draws as missing.
        rows.append(("", MISSING_LABEL, MISSING_COLOR))
    for number, (value, label, _) in enumerate(rows):
        ET.SubElement(parent, "category", render="true", symbol=str(number), value=value, label=label)
    return [color for *_, color in rows]


def category_value(value: Hashable) -> str:
    """Write a category value as QGIS compares it: the field value's text.

    Parameters
    ----------
    value : hashable
        A value of the layer's class column.

    Returns
    -------
    str
        ``true``/``false`` for booleans, whole floats without ``.0``, else ``str``.
    """
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _ranges(parent: ET.Element, layer: LayerSpec) -> list[str]:
    """Add a range per class of ``layer.bins``; return the colours, lowest class first."""
    bins: Bins = layer.bins
    numbers = pd.to_numeric(layer.frame[bins.column], errors="coerce").to_numpy(dtype=float)
    finite = numbers[np.isfinite(numbers)]
    # The classed quantities (counts, rates, shares) start at 0; data beyond
    # either end widens the outer ranges, so every value is drawn.
    floor = 0.0 if bins.edges[0] > 0 else bins.edges[0] - 1.0
    lowest = finite.min(initial=floor)
    highest = finite.max(initial=bins.edges[-1])
    bounds = [float(lowest), *map(float, bins.edges), float(highest)]
    for number, label in enumerate(bins.labels):
        lower, upper = bounds[number], bounds[number + 1]
        if number < len(bins.labels) - 1:
            # QGIS puts a value equal to an edge in the lower range; the map's
            # bins are left-closed, so the lower range stops just below the edge.
            upper = math.nextafter(upper, -math.inf)
        ET.SubElement(
            parent, "range", render="true", symbol=str(number), label=label,
            lower=repr(lower), upper=repr(upper),
        )
    return [color for _, color in classes(layer)]


def _symbol(parent: ET.Element, name: str, color: str, layer: LayerSpec) -> None:
    symbol = ET.SubElement(
        parent, "symbol", type=_SYMBOL_TYPES[layer.kind], name=name, alpha="1",
        clip_to_extent="1", force_rhr="0",
    )
    symbol_layer = ET.SubElement(
        symbol, "layer", attrib={"class": _SYMBOL_LAYERS[layer.kind], "enabled": "1", "locked": "0", "pass": "0"}
    )
    if layer.kind == "line":
        props = {
            "line_color": _rgba(color), "line_width": number(layer.weight), "line_width_unit": "Point",
            "line_style": "solid", "capstyle": "round", "joinstyle": "round",
        }
    else:
        props = {
            "color": _rgba(color, layer.fill_opacity),
            "outline_color": _rgba(layer.edge_color),
            "outline_width": number(layer.weight),
            "outline_width_unit": "Point",
            "outline_style": "solid",
            "style": "solid",
        }
        if layer.kind == "point":
            # The spec's radius is in pixels of the web map.
            props |= {"name": "circle", "size": number(2 * layer.radius), "size_unit": "Pixel"}
    options = ET.SubElement(symbol_layer, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(options, "Option", type="QString", name=key, value=value)


def _labeling(root: ET.Element, layer: LayerSpec) -> None:
    settings = ET.SubElement(ET.SubElement(root, "labeling", type="simple"), "settings", calloutType="simple")
    style = ET.SubElement(
        settings, "text-style", fieldName=str(layer.label_column), isExpression="0",
        fontFamily=LABEL_FONT, fontSize=number(LABEL_SIZE), fontSizeUnit="Point",
        textColor=_rgba(LABEL_COLOR), textOpacity="1", fontWeight="50", fontItalic="0",
        namedStyle="Regular", multilineHeight="1", previewBkgrdColor="255,255,255,255",
    )
    ET.SubElement(
        style, "text-buffer", bufferDraw="1", bufferSize=number(LABEL_HALO), bufferSizeUnits="Point",
        bufferColor="255,255,255,255", bufferOpacity="1", bufferNoFill="1", bufferJoinStyle="128",
    )
    ET.SubElement(settings, "placement", placement=str(_PLACEMENTS[layer.kind]), dist="0", distUnits="Point")
    ET.SubElement(settings, "rendering", drawLabels="1", obstacle="1", displayAll="0", upsidedownLabels="0")


def _rgba(color: str, opacity: float = 1.0) -> str:
    """``#rrggbb`` and an opacity as QGIS writes colours: ``r,g,b,a`` in 0–255."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"{red},{green},{blue},{round(opacity * 255)}"


def number(value: float) -> str:
    """Write a size or bound as QGIS writes it: the shortest form, no trailing zeros.

    Parameters
    ----------
    value : float
        The number.

    Returns
    -------
    str
        ``format(value, "g")``.
    """
    return f"{value:g}"
