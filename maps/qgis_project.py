"""QGIS projects (.qgz) of a map: its GeoPackage's layers, styled and ordered as on the map, by relative path."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

from cqgis.geo.io import atomic
from cqgis.maps import qgis_style
from cqgis.maps.style import MapSpec

#: CRS of the project and of every layer cqgis writes.
PROJECT_CRS = "EPSG:4326"
# QGIS geometry names of the layer kinds, as a project's <maplayer> states them.
_GEOMETRIES = {"point": "Point", "line": "Line", "polygon": "Polygon"}
# A .qgz's entries have a fixed time, so that the same map gives the same bytes.
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)


def write_project(spec: MapSpec, path: str | os.PathLike, data: str | os.PathLike) -> Path:
    """Write a QGIS project showing the layers of ``spec`` stored in the GeoPackage ``data``.

    Parameters
    ----------
    spec : MapSpec
        The map; its layers are stored in ``data`` under their ``name_zh``
        (as :func:`cqgis.maps.themes.write` writes them).
    path : str or os.PathLike
        The ``.qgz`` to write, atomically.
    data : str or os.PathLike
        The GeoPackage, referred to by its path relative to the project,
        so that the two can be moved together.

    Returns
    -------
    pathlib.Path
        The project.
    """
    path = Path(path)
    source = Path(os.path.relpath(Path(data).resolve(), path.resolve().parent)).as_posix()
    root = ET.Element("qgis", projectname=spec.title, version=qgis_style.QGIS_VERSION)
    ET.SubElement(root, "title").text = spec.title
    _crs(ET.SubElement(root, "projectCrs"))
    tree = ET.SubElement(root, "layer-tree-group")
    layers = ET.SubElement(root, "projectlayers")
    # QGIS keeps a layer id only when it is longer than 10 characters.
    ids = [f"cqgis_layer_{number:03d}" for number in range(len(spec.layers))]
    # The first layer of a spec is drawn at the bottom; QGIS draws the top of its tree last.
    for ident, layer in reversed(list(zip(ids, spec.layers))):
        uri = f"./{source}|layername={layer.name_zh}"
        ET.SubElement(
            tree, "layer-tree-layer", id=ident, name=layer.name_zh, source=uri, providerKey="ogr",
            checked="Qt::Checked" if layer.visible else "Qt::Unchecked", expanded="1",
        )
        style = ET.fromstring(qgis_style.layer_qml(layer).split("\n", 1)[1])
        element = ET.SubElement(
            layers, "maplayer", type="vector", geometry=_GEOMETRIES[layer.kind],
            labelsEnabled=style.get("labelsEnabled", "0"),
        )
        ET.SubElement(element, "id").text = ident
        ET.SubElement(element, "datasource").text = uri
        ET.SubElement(element, "layername").text = layer.name_zh
        _crs(ET.SubElement(element, "srs"))
        ET.SubElement(element, "provider", encoding="UTF-8").text = "ogr"
        element.extend(child for child in style if child.tag != "layerGeometryType")
    properties = ET.SubElement(root, "properties")
    ET.SubElement(ET.SubElement(properties, "Paths"), "Absolute", type="bool").text = "false"
    # QGIS reads projectCrs only when this is set.
    ET.SubElement(ET.SubElement(properties, "SpatialRefSys"), "ProjectionsEnabled", type="int").text = "1"
    ET.indent(root)
    document = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")
    with atomic(path) as temp, zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as archive:
        entry = zipfile.ZipInfo(path.with_suffix(".qgs").name, date_time=_ZIP_TIME)
        archive.writestr(entry, document, compress_type=zipfile.ZIP_DEFLATED)
    return path


def _crs(parent: ET.Element) -> None:
    import pyproj

    system = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    ET.SubElement(system, "wkt").text = pyproj.CRS(PROJECT_CRS).to_wkt()
    ET.SubElement(system, "authid").text = PROJECT_CRS
