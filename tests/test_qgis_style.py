"""QML made from map layer specs: renderer kinds, classes, labels and the left-closed bins (no QGIS needed)."""

import xml.etree.ElementTree as ET

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from cqgis.maps import qgis_style
from cqgis.maps.errors import MapError
from cqgis.maps.export_styles import catalog_style, plain_style
from cqgis.maps.style import MISSING_COLOR, MISSING_LABEL, Bins, LayerSpec


def _points(**columns):
    count = len(next(iter(columns.values())))
    geometry = [shapely.Point(106 + i / 10, 29.5) for i in range(count)]
    return gpd.GeoDataFrame(columns, geometry=geometry, crs="EPSG:4326")


def _parse(qml: str) -> ET.Element:
    assert qml.startswith("<!DOCTYPE qgis")
    return ET.fromstring(qml.split("\n", 1)[1])


def test_bins_are_left_closed_and_keep_missing_values():
    bins = Bins("rate", (30.0, 40.0), ("低", "中", "达标"))
    classes = bins.classify(pd.Series([0, 29.9, 30, 39.99, 40, 100, None, "x"]))
    assert classes.tolist() == ["低", "低", "中", "中", "达标", "达标", None, None]
    with pytest.raises(MapError, match="strictly ascending"):
        Bins("rate", (40.0, 30.0), ("a", "b", "c"))
    with pytest.raises(MapError, match="3 labels need 2"):
        Bins("rate", (40.0,), ("a", "b", "c"))


def test_graduated_ranges_put_a_value_on_an_edge_in_the_class_above():
    bins = Bins("rate", (30.0, 40.0), ("<30%", "30%–40%", "≥40%"))
    frame = _points(rate=[12.0, 40.0, 55.0])
    layer = LayerSpec(
        "治理率", frame.assign(rate_class=bins.classify(frame["rate"])), "point", color_column="rate_class",
        colors={"<30%": "#111111", "30%–40%": "#222222", "≥40%": "#333333"}, bins=bins,
    )
    root = _parse(qgis_style.layer_qml(layer))
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "graduatedSymbol" and renderer.get("attr") == "rate"
    ranges = [(float(r.get("lower")), float(r.get("upper")), r.get("label")) for r in renderer.iter("range")]
    assert [label for *_, label in ranges] == ["<30%", "30%–40%", "≥40%"]
    assert ranges[0][0] == 0.0 and ranges[-1][1] == 55.0
    # QGIS takes the first range with lower <= value <= upper: 40 must not fit the middle one.
    assert ranges[1][1] < 40.0 < ranges[1][1] + 1e-9 and ranges[2][0] == 40.0
    fills = [option.get("value") for option in renderer.iter("Option") if option.get("name") == "color"]
    alpha = round(layer.fill_opacity * 255)
    assert fills == [f"17,17,17,{alpha}", f"34,34,34,{alpha}", f"51,51,51,{alpha}"]


def test_categories_follow_the_legend_with_the_maps_missing_class_and_labels():
    frame = _points(kind=["甲", "乙", None], name=["一", "二", "三"])
    layer = LayerSpec(
        "类别", frame, "point", color_column="kind", colors={"甲": "#ff0000", "乙": "#00ff00"},
        label_column="name", radius=4.0, weight=2.0,
    )
    root = _parse(qgis_style.layer_qml(layer))
    assert root.get("labelsEnabled") == "1"
    categories = [(c.get("value"), c.get("label")) for c in root.iter("category")]
    # The empty value is QGIS's catch-all, drawn as the map draws a missing category.
    assert categories == [("甲", "甲"), ("乙", "乙"), ("", MISSING_LABEL)]
    assert qgis_style.classes(layer)[-1] == (MISSING_LABEL, MISSING_COLOR)
    marker = root.find("renderer-v2/symbols/symbol/layer")
    options = {option.get("name"): option.get("value") for option in marker.iter("Option") if option.get("name")}
    assert marker.get("class") == "SimpleMarker" and options["size"] == "8" and options["outline_width"] == "2"
    assert root.find("labeling/settings/text-style").get("fieldName") == "name"
    assert root.find("layerGeometryType").text == "0"


def test_single_symbol_lines_without_labels():
    frame = gpd.GeoDataFrame(geometry=[shapely.LineString([(106, 29), (107, 30)])], crs="EPSG:4326")
    root = _parse(qgis_style.layer_qml(LayerSpec("线", frame, "line", color="#3182bd", weight=1.6)))
    assert root.find("renderer-v2").get("type") == "singleSymbol" and root.get("labelsEnabled") == "0"
    assert root.find("labeling") is None
    options = {o.get("name"): o.get("value") for o in root.iter("Option") if o.get("name")}
    assert options["line_color"] == "49,130,189,255" and options["line_width"] == "1.6"


def test_exports_use_the_map_layer_that_draws_them(districts):
    root = _parse(catalog_style("districts", districts).qml)
    assert root.find("renderer-v2").get("attr") == "region"
    assert len(list(root.iter("category"))) == districts["region"].nunique()
    assert plain_style("x", districts.to_crs(3857)) is None
    assert _parse(plain_style("x", districts).qml).find("renderer-v2").get("type") == "singleSymbol"
