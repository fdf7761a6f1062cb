"""OGC SLD 1.1 styles made from a map layer's LayerSpec: the ``styleSLD`` QGIS keeps beside the QML, for clients that read SLD.

:func:`layer_sld` writes the same classes, colours, legend labels and
labels as :func:`cqgis.maps.qgis_style.layer_qml`, from the same spec, in
the form QGIS's own SLD export takes: one ``se:Rule`` per class (an
``ogc:Filter`` on the class column, ``se:ElseFilter`` for the features the
map draws as missing), and one rule with a ``se:TextSymbolizer`` for the
labels. Graduated classes are filtered on the numbers with the map's
left-closed bins (a value on an edge falls in the class above), so every
reader classes a feature as the map does. Sizes are in pixels, as SLD
measures them: the QML's points times 96/72.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Hashable, Mapping, Sequence

from cqgis.maps import qgis_style
from cqgis.maps.style import MISSING_COLOR, MISSING_LABEL, LayerSpec

_SLD = "http://www.opengis.net/sld"
_SE = "http://www.opengis.net/se"
_OGC = "http://www.opengis.net/ogc"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA = "http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd"
for _prefix, _uri in (("", _SLD), ("se", _SE), ("ogc", _OGC), ("xsi", _XSI)):
    ET.register_namespace(_prefix, _uri)

#: Pixels per point, as SLD readers (QGIS, GeoServer) take a pixel: 1/96 inch.
PIXELS_PER_POINT = 96 / 72
_SYMBOLIZERS = {"polygon": "PolygonSymbolizer", "line": "LineSymbolizer", "point": "PointSymbolizer"}


def layer_sld(layer: LayerSpec, name: str) -> str:
    """Return the style of a map layer as an SLD 1.1 document.

    Parameters
    ----------
    layer : LayerSpec
        The map layer; its frame is the data the style is stored with.
    name : str
        The layer's name where it is stored (the ``NamedLayer``).

    Returns
    -------
    str
        A ``StyledLayerDescriptor`` document, UTF-8 XML.
    """
    root, features = _document(name)
    kind = qgis_style.renderer_type(layer)
    if kind == "singleSymbol":
        _rule(features, layer.name_zh, layer.color, layer)
    elif kind == "categorizedSymbol":
        _categories(features, layer)
    else:
        _ranges(features, layer)
    if layer.label_column is not None:
        _labels(ET.SubElement(features, f"{{{_SE}}}Rule"), layer)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def parts_sld(parts: Sequence[tuple[LayerSpec, str | None]], name: str) -> str:
    """Return the SLD of :func:`cqgis.maps.qgis_style.parts_qml`: a rule per part, from the same map layers.

    Parameters
    ----------
    parts : sequence of (LayerSpec, str or None)
        Single-symbol map layers, each with the column whose non-blank
        features it draws; None for the last, drawing every other feature.
    name : str
        The layer's name where it is stored.

    Returns
    -------
    str
        A ``StyledLayerDescriptor`` document.
    """
    root, features = _document(name)
    for layer, column in parts:
        rule = _rule(features, layer.name_zh, layer.color, layer)
        if column is None:
            rule.insert(len(rule) - 1, ET.Element(f"{{{_SE}}}ElseFilter"))
        else:
            # Missing or blank: a missing value fails the comparison, so it falls to the last rule too.
            _filter(rule, _compare("PropertyIsNotEqualTo", column, ""))
    labelled = next((layer for layer, _ in parts if layer.label_column is not None), None)
    if labelled is not None:
        _labels(ET.SubElement(features, f"{{{_SE}}}Rule"), labelled)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def _document(name: str) -> tuple[ET.Element, ET.Element]:
    """The document and its FeatureTypeStyle, which takes the rules."""
    root = ET.Element(f"{{{_SLD}}}StyledLayerDescriptor", {"version": "1.1.0", f"{{{_XSI}}}schemaLocation": _SCHEMA})
    named = ET.SubElement(root, f"{{{_SLD}}}NamedLayer")
    ET.SubElement(named, f"{{{_SE}}}Name").text = name
    user_style = ET.SubElement(named, f"{{{_SLD}}}UserStyle")
    ET.SubElement(user_style, f"{{{_SE}}}Name").text = name
    return root, ET.SubElement(user_style, f"{{{_SE}}}FeatureTypeStyle")


def _categories(parent: ET.Element, layer: LayerSpec) -> None:
    colors: Mapping[Hashable, str] = layer.colors or {}
    for value, color in colors.items():
        rule = _rule(parent, str(value), color, layer)
        _filter(rule, _compare("PropertyIsEqualTo", str(layer.color_column), qgis_style.category_value(value)))
    if (layer.feature_colors() == MISSING_COLOR).any():
        # What the map draws as missing: every feature no other rule takes.
        rule = _rule(parent, MISSING_LABEL, MISSING_COLOR, layer)
        rule.insert(len(rule) - 1, ET.Element(f"{{{_SE}}}ElseFilter"))


def _ranges(parent: ET.Element, layer: LayerSpec) -> None:
    bins = layer.bins
    # Exact edges: a rounded one would move a value on the edge to the other class.
    edges = [str(int(edge)) if float(edge).is_integer() else repr(float(edge)) for edge in bins.edges]
    for number, (label, color) in enumerate(qgis_style.classes(layer)):
        tests = []
        if number > 0:
            tests.append(_compare("PropertyIsGreaterThanOrEqualTo", bins.column, edges[number - 1]))
        if number < len(edges):
            tests.append(_compare("PropertyIsLessThan", bins.column, edges[number]))
        rule = _rule(parent, label, color, layer)
        if len(tests) == 1:
            _filter(rule, tests[0])
        else:
            both = ET.Element(f"{{{_OGC}}}And")
            both.extend(tests)
            _filter(rule, both)


def _rule(parent: ET.Element, title: str, color: str, layer: LayerSpec) -> ET.Element:
    """Add a rule named ``title`` drawing in ``color`` as the map draws the layer; return it for its filter."""
    rule = ET.SubElement(parent, f"{{{_SE}}}Rule")
    ET.SubElement(rule, f"{{{_SE}}}Name").text = title
    ET.SubElement(ET.SubElement(rule, f"{{{_SE}}}Description"), f"{{{_SE}}}Title").text = title
    # The symbolizer goes after the filter, as SE orders a rule's children.
    symbolizer = ET.Element(f"{{{_SE}}}{_SYMBOLIZERS[layer.kind]}")
    width = qgis_style.number(layer.weight * PIXELS_PER_POINT)
    if layer.kind == "line":
        _parameters(ET.SubElement(symbolizer, f"{{{_SE}}}Stroke"), stroke=color, **{"stroke-width": width})
    else:
        target = symbolizer
        if layer.kind == "point":
            graphic = ET.SubElement(symbolizer, f"{{{_SE}}}Graphic")
            target = ET.SubElement(graphic, f"{{{_SE}}}Mark")
            ET.SubElement(target, f"{{{_SE}}}WellKnownName").text = "circle"
        _parameters(
            ET.SubElement(target, f"{{{_SE}}}Fill"), fill=color, **{"fill-opacity": qgis_style.number(layer.fill_opacity)}
        )
        _parameters(ET.SubElement(target, f"{{{_SE}}}Stroke"), stroke=layer.edge_color, **{"stroke-width": width})
        if layer.kind == "point":
            # The spec's radius is in pixels of the web map.
            ET.SubElement(graphic, f"{{{_SE}}}Size").text = qgis_style.number(2 * layer.radius)
    rule.append(symbolizer)
    return rule


def _filter(rule: ET.Element, test: ET.Element) -> None:
    element = ET.Element(f"{{{_OGC}}}Filter")
    element.append(test)
    # Filters come before symbolizers in a rule.
    rule.insert(len(rule) - 1, element)


def _compare(operator: str, column: str, value: str) -> ET.Element:
    test = ET.Element(f"{{{_OGC}}}{operator}")
    ET.SubElement(test, f"{{{_OGC}}}PropertyName").text = column
    ET.SubElement(test, f"{{{_OGC}}}Literal").text = value
    return test


def _labels(rule: ET.Element, layer: LayerSpec) -> None:
    text = ET.SubElement(rule, f"{{{_SE}}}TextSymbolizer")
    label = ET.SubElement(text, f"{{{_SE}}}Label")
    ET.SubElement(label, f"{{{_OGC}}}PropertyName").text = str(layer.label_column)
    _parameters(
        ET.SubElement(text, f"{{{_SE}}}Font"),
        **{"font-family": qgis_style.LABEL_FONT, "font-size": qgis_style.number(qgis_style.LABEL_SIZE * PIXELS_PER_POINT)},
    )
    halo = ET.SubElement(text, f"{{{_SE}}}Halo")
    ET.SubElement(halo, f"{{{_SE}}}Radius").text = qgis_style.number(qgis_style.LABEL_HALO * PIXELS_PER_POINT)
    _parameters(ET.SubElement(halo, f"{{{_SE}}}Fill"), fill="#ffffff")
    _parameters(ET.SubElement(text, f"{{{_SE}}}Fill"), fill=qgis_style.LABEL_COLOR)


def _parameters(parent: ET.Element, **values: str) -> None:
    for key, value in values.items():
        ET.SubElement(parent, f"{{{_SE}}}SvgParameter", name=key).text = value
