"""Open a GeoPackage in the real QGIS (PyQGIS, headless) and print what it sees as JSON.

Run with the system Python that has Debian's ``python3-qgis``, not the
project's virtual environment::

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_probe.py FILE.gpkg [LAYER_TO_RENDER]
    QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_probe.py PROJECT.qgz

Prints ``{"layers": {name: {...}}, "messages": [...], "render": {...}}``:
per layer its validity, feature count, renderer type, its classes
(legend label and colour), the colour QGIS draws each feature in (None:
not drawn), whether labels are on and from which field; the same for the
stored SLD loaded into a fresh layer (``sld``), and the rules of QGIS's own
SLD export of the styled layer (``qgis_sld_rules``); every message QGIS and GDAL logged while loading; and, when a
layer is named, the share of non-white pixels of a 400 × 400 image of it.
For a project: whether it was read, its CRS and its layers in tree order
(each with the groups holding it and whether it is drawn).
"""

import json
import sys


def main(path, render_layer=None):
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    # Every QGIS object is made and dropped inside inspect(): layers still
    # alive when QGIS exits crash the interpreter.
    result = inspect_project(path) if path.endswith(".qgz") else inspect(path, render_layer)
    print(json.dumps(result, ensure_ascii=False))
    sys.stdout.flush()
    app.exitQgis()


def inspect(path, render_layer=None):
    from qgis.core import (
        QgsApplication, QgsMapRendererSequentialJob, QgsMapSettings, QgsProviderRegistry, QgsVectorLayer,
    )
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    messages = []
    QgsApplication.messageLog().messageReceived.connect(lambda text, tag, level: messages.append(f"{tag}: {text}"))
    metadata = QgsProviderRegistry.instance().providerMetadata("ogr")
    names = [sub.name() for sub in metadata.querySublayers(path)]
    layers = {}
    report = {}
    for name in names:
        layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
        layers[name] = layer
        renderer = layer.renderer()
        entry = {"valid": layer.isValid(), "features": layer.featureCount()}
        if renderer is not None:
            kind = renderer.type()
            entry["renderer"] = kind
            if kind == "categorizedSymbol":
                items = [(c.label(), c.symbol().color().name()) for c in renderer.categories()]
                entry["attribute"] = renderer.classAttribute()
            elif kind == "graduatedSymbol":
                items = [(r.label(), r.symbol().color().name()) for r in renderer.ranges()]
                entry["attribute"] = renderer.classAttribute()
                entry["bounds"] = [[r.lowerValue(), r.upperValue()] for r in renderer.ranges()]
            elif kind == "RuleRenderer":
                items = [(rule.label(), rule.symbol().color().name()) for rule in renderer.rootRule().children()]
            else:
                items = [("", renderer.symbol().color().name())]
            entry["classes"] = [list(item) for item in items]
            entry["colors"] = _colors(layer)
            if layer.geometryType() == 1:
                entry["widths"] = _widths(layer)
        entry["labels"] = layer.labelsEnabled() and layer.labeling() is not None
        if entry["labels"]:
            entry["label_field"] = layer.labeling().settings().fieldName
        entry["sld"] = read_sld(path, name)
        entry["qgis_sld_rules"] = qgis_sld_rules(layer)
        report[name] = entry
    result = {"layers": report, "messages": messages, "styles": metadata is not None}
    if render_layer is not None:
        layer = layers[render_layer]
        settings = QgsMapSettings()
        settings.setLayers([layer])
        settings.setDestinationCrs(layer.crs())
        settings.setExtent(layer.extent())
        settings.setOutputSize(QSize(400, 400))
        settings.setBackgroundColor(QColor(255, 255, 255))
        job = QgsMapRendererSequentialJob(settings)
        job.start()
        job.waitForFinished()
        image = job.renderedImage()
        white = QColor(255, 255, 255).rgb()
        inked = sum(
            image.pixel(x, y) != white for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
        )
        result["render"] = {"inked_share": inked / ((image.width() // 2) * (image.height() // 2))}
    return result


def _drawn(layer):
    """The first symbol the layer's renderer draws each feature with (None: not drawn)."""
    from qgis.core import QgsRenderContext

    renderer = layer.renderer()
    context = QgsRenderContext()
    renderer.startRender(context, layer.fields())
    # Copies: the renderer's own symbols go when it stops rendering.
    symbols = [renderer.symbolsForFeature(feature, context) for feature in layer.getFeatures()]
    found = [found[0].clone() if found else None for found in symbols]
    renderer.stopRender(context)
    return found


def _colors(layer):
    """The colour each feature is drawn in (None: not drawn)."""
    return [None if symbol is None else symbol.color().name() for symbol in _drawn(layer)]


def _widths(layer):
    """The width (in its unit) each feature of a line layer is drawn with (None: not drawn)."""
    return [None if symbol is None else symbol.width() for symbol in _drawn(layer)]


def read_sld(path, name):
    """Load the layer's stored styleSLD into a fresh layer: its renderer, feature colours and labels in QGIS."""
    import sqlite3
    import tempfile

    from qgis.core import QgsVectorLayer

    with sqlite3.connect(path) as db:
        found = db.execute(
            "SELECT styleSLD FROM layer_styles WHERE f_table_name = ? AND useAsDefault", (name,)
        ).fetchone()
    if not found or not found[0]:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".sld", encoding="utf-8", delete=False) as file:
        file.write(found[0])
    options = QgsVectorLayer.LayerOptions()
    options.loadDefaultStyle = False
    layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr", options)
    message, loaded = layer.loadSldStyle(file.name)
    result = {"loaded": loaded, "message": message, "renderer": layer.renderer().type(), "colors": _colors(layer)}
    result["labels"] = layer.labelsEnabled() and layer.labeling() is not None
    if result["labels"]:
        result["label_field"] = layer.labeling().settings().fieldName
    return result


def qgis_sld_rules(layer):
    """QGIS's own SLD export of the layer as styled: (rule title, colour) per rule that draws, in order."""
    import tempfile
    import xml.etree.ElementTree as ET

    target = tempfile.mktemp(suffix=".sld")
    layer.saveSldStyle(target)
    se = "{http://www.opengis.net/se}"
    rules = []
    for rule in ET.parse(target).getroot().iter(f"{se}Rule"):
        colours = [p.text for p in rule.iter(f"{se}SvgParameter") if p.get("name") in ("fill", "stroke")]
        if rule.find(f"{se}TextSymbolizer") is None and colours:
            rules.append([rule.findtext(f"{se}Name") or "", colours[0]])
    return rules


def inspect_project(path):
    """Read a QGIS project: its CRS and its layers in layer-tree order (top first)."""
    from qgis.core import QgsProject

    project = QgsProject.instance()
    read = project.read(path)
    layers = [
        {
            "name": node.name(),
            "valid": node.layer() is not None and node.layer().isValid(),
            "source": node.layer().source() if node.layer() else None,
            "renderer": node.layer().renderer().type() if node.layer() and node.layer().renderer() else None,
            "labels": bool(node.layer() and node.layer().labelsEnabled()),
            "groups": _groups(node),
            "visible": node.isVisible(),
        }
        for node in project.layerTreeRoot().findLayers()
    ]
    result = {"read": read, "crs": project.crs().authid(), "layers": layers, "loaded": len(project.mapLayers())}
    project.clear()
    return result


def _groups(node):
    """Names of the groups holding a layer-tree node, outermost first."""
    names = []
    parent = node.parent()
    while parent is not None and parent.parent() is not None:
        names.insert(0, parent.name())
        parent = parent.parent()
    return names


if __name__ == "__main__":
    main(*sys.argv[1:])
