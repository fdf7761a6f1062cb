"""`import cqgis`: the documented Python API, loaded lazily."""

import html
import re
import subprocess
import sys

import pytest

import cqgis
from cqgis.analysis import rural_sewage, water_quality
from cqgis.layers.errors import UnknownLayerError
from cqgis.maps import themes, web
from cqgis.maps.style import MapSpec


def test_import_stays_light():
    # The CLI imports the package for every command: GDAL and pandas must wait until used.
    code = "import sys, cqgis; print(sorted({'geopandas', 'pandas', 'pyogrio'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_layer_comes_with_provenance():
    districts = cqgis.layer("districts")
    assert len(districts) == 38 and districts.crs.to_epsg() == 4326
    assert districts["source"].notna().all()
    assert set(districts["precision"]) <= {"exact", "approximate", "schematic", "synthetic"}
    assert "districts" in cqgis.layer_names() and "measurements" in cqgis.layer_names()
    with pytest.raises(UnknownLayerError, match="unknown layer 'district'; layers: districts"):
        cqgis.layer("district")


def test_analyses_and_maps_are_the_functions_the_cli_runs():
    assert cqgis.treatment_rates is rural_sewage.treatment_rates
    assert cqgis.classify_water is water_quality.classify
    assert cqgis.render_map is themes.render
    target = rural_sewage.plan_target(cqgis.layer("targets"))
    rates = cqgis.treatment_rates(cqgis.layer("rural_sewage"), target)
    assert rates["district"].iloc[-1] == rural_sewage.CITY
    spec = cqgis.build_map("compliance")
    assert isinstance(spec, MapSpec) and spec.layers[0].name_zh == "区县达标情况"
    assert set(cqgis.__all__) >= {"layer", "build_map", "write_map", "coverage", "catchment"}
    assert "layer" in dir(cqgis)
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        cqgis.nothing  # noqa: B018


def test_a_map_shows_inline_in_jupyter_without_network():
    spec = cqgis.build_map("compliance")
    shown = spec._repr_html_()
    assert shown.startswith('<iframe srcdoc="') and 'sandbox="allow-scripts"' in shown
    page = html.unescape(shown.split('srcdoc="', 1)[1].split('" sandbox=', 1)[0])
    assert page == web.build_html(spec)
    assert spec.title in page and not re.search(r"<script[^>]+src=\"https?:", page)
