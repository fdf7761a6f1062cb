"""QGIS projects (.qgz): the layers of cqgis's GeoPackages, styled as stored there, grouped and referred to by relative path."""

from __future__ import annotations

import os
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from cqgis.geo.gpkg_styles import STYLE_TABLE
from cqgis.geo.io import atomic
from cqgis.maps import qgis_style
from cqgis.maps.errors import MapError

#: CRS of the project and of every layer cqgis writes.
PROJECT_CRS = "EPSG:4326"
# QGIS geometry names of a style's layerGeometryType, as a project's <maplayer> states them.
_GEOMETRIES = {"0": "Point", "1": "Line", "2": "Polygon"}
# A .qgz's entries have a fixed time, so that the same maps give the same bytes.
_ZIP_TIME = (2000, 1, 1, 0, 0, 0)
_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"


@dataclass(frozen=True)
class Group:
    """A group of QGIS's layer tree: GeoPackages (their layers) and subgroups.

    Parameters
    ----------
    name : str
        Shown in the layer tree (Chinese, as on the atlas's index page).
    children : sequence of Group or path
        In tree order, top first. A path is a GeoPackage written by cqgis:
        its layers go in as they are styled there, the last layer of the
        map at the top.
    checked : bool
        Whether the group is drawn when the project opens.
    """

    name: str
    children: Sequence[Group | str | os.PathLike]
    checked: bool = True


def write_project(path: str | os.PathLike, title: str, tree: Sequence[Group | str | os.PathLike]) -> Path:
    """Write a QGIS project showing the layers of GeoPackages, grouped as ``tree`` says.

    Each layer keeps the default style its GeoPackage stores
    (:mod:`cqgis.geo.gpkg_styles`), so the project draws it as the map
    does. Sources are relative to the project: the project and its data
    can be moved together. Every source must exist: QGIS then opens the
    project without asking for missing layers.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.qgz`` to write, atomically.
    title : str
        The project's title.
    tree : sequence of Group or path
        The top level of the layer tree, top first.

    Returns
    -------
    pathlib.Path
        The project.

    Raises
    ------
    MapError
        When a GeoPackage of the tree is missing or holds no styled layer.
    """
    path = Path(path)
    root = ET.Element("qgis", projectname=title, version=qgis_style.QGIS_VERSION)
    ET.SubElement(root, "title").text = title
    _crs(ET.SubElement(root, "projectCrs"))
    layers = ET.SubElement(root, "projectlayers")
    numbers = iter(range(1_000_000))
    _add_children(ET.SubElement(root, "layer-tree-group"), tree, path.resolve().parent, layers, numbers)
    properties = ET.SubElement(root, "properties")
    ET.SubElement(ET.SubElement(properties, "Paths"), "Absolute", type="bool").text = "false"
    # QGIS reads projectCrs only when this is set.
    ET.SubElement(ET.SubElement(properties, "SpatialRefSys"), "ProjectionsEnabled", type="int").text = "1"
    ET.indent(root)
    document = _DOCTYPE + ET.tostring(root, encoding="unicode")
    with atomic(path) as temp, zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as archive:
        entry = zipfile.ZipInfo(path.with_suffix(".qgs").name, date_time=_ZIP_TIME)
        archive.writestr(entry, document, compress_type=zipfile.ZIP_DEFLATED)
    return path


def _add_children(
    parent: ET.Element, children: Sequence[Group | str | os.PathLike], base: Path, layers: ET.Element, numbers: Iterator[int]
) -> None:
    for child in children:
        if isinstance(child, Group):
            group = ET.SubElement(
                parent, "layer-tree-group", name=child.name, expanded="0",
                checked="Qt::Checked" if child.checked else "Qt::Unchecked",
            )
            _add_children(group, child.children, base, layers, numbers)
            continue
        source = Path(os.path.relpath(Path(child).resolve(), base)).as_posix()
        # The first layer of a map is drawn at the bottom; QGIS draws the top of its tree last.
        for name, qml in reversed(stored_styles(child)):
            # QGIS keeps a layer id only when it is longer than 10 characters.
            ident = f"cqgis_layer_{next(numbers):04d}"
            uri = f"./{source}|layername={name}"
            ET.SubElement(
                parent, "layer-tree-layer", id=ident, name=name, source=uri, providerKey="ogr",
                checked="Qt::Checked", expanded="1",
            )
            style = ET.fromstring(qml.split("\n", 1)[1])
            element = ET.SubElement(
                layers, "maplayer", type="vector", geometry=_GEOMETRIES[style.findtext("layerGeometryType", "2")],
                labelsEnabled=style.get("labelsEnabled", "0"),
            )
            ET.SubElement(element, "id").text = ident
            ET.SubElement(element, "datasource").text = uri
            ET.SubElement(element, "layername").text = name
            _crs(ET.SubElement(element, "srs"))
            ET.SubElement(element, "provider", encoding="UTF-8").text = "ogr"
            element.extend(item for item in style if item.tag != "layerGeometryType")


def stored_styles(path: str | os.PathLike) -> list[tuple[str, str]]:
    """Return the layers of a GeoPackage in the order they were written, with their default QGIS style.

    Parameters
    ----------
    path : str or os.PathLike
        A GeoPackage written by cqgis.

    Returns
    -------
    list of (str, str)
        (layer name, QML), the first layer written (drawn at the bottom) first.

    Raises
    ------
    MapError
        When the file is missing, is no GeoPackage or has no styled feature layer.
    """
    path = Path(path)
    if not path.is_file():
        msg = f"cannot add {path.name} to a QGIS project: no such GeoPackage ({path})"
        raise MapError(msg)
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            styled = db.execute("SELECT 1 FROM gpkg_contents WHERE table_name = ?", (STYLE_TABLE,)).fetchone()
            # gpkg_contents lists tables in the order they were created: the map's layer order.
            rows = db.execute(
                f"SELECT c.table_name, s.styleQML FROM gpkg_contents c JOIN {STYLE_TABLE} s "
                "ON s.f_table_name = c.table_name AND s.useAsDefault WHERE c.data_type = 'features' ORDER BY c.rowid"
            ).fetchall() if styled else []
    except sqlite3.DatabaseError as exc:
        msg = f"cannot add {path.name} to a QGIS project: not a GeoPackage ({exc})"
        raise MapError(msg) from exc
    if not rows:
        msg = f"cannot add {path.name} to a QGIS project: it holds no layer with a QGIS style"
        raise MapError(msg)
    return rows


def _crs(parent: ET.Element) -> None:
    import pyproj

    system = ET.SubElement(parent, "spatialrefsys", nativeFormat="Wkt")
    ET.SubElement(system, "wkt").text = pyproj.CRS(PROJECT_CRS).to_wkt()
    ET.SubElement(system, "authid").text = PROJECT_CRS
