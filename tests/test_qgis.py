"""GeoPackages cqgis writes, opened in the real QGIS (Debian's python3-qgis, headless) and in sqlite."""

import json
import os
import sqlite3
import subprocess
import zipfile
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from cqgis.analysis import rural_sewage
from cqgis.cli import main
from cqgis.config import settings
from cqgis.geo import io
from cqgis.maps import qgis_project, qgis_style, themes
from cqgis.maps.errors import MapError
from cqgis.maps.style import MISSING_COLOR
from cqgis.maps import theme_base
from cqgis.maps.theme_base import ALERT_COLOR, Layers
from cqgis.maps.theme_overview import REGION_COLORS
from cqgis.maps.theme_rural_sewage import RATE_COLORS, SETTLEMENT_COLORS, rate_labels, rates_layer

SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("qgis_probe.py")


def _qgis_missing() -> str | None:
    """Why PyQGIS cannot run here, or None when it can."""
    if not os.path.exists(SYSTEM_PYTHON):
        return f"{SYSTEM_PYTHON} does not exist"
    found = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, text=True)
    if found.returncode:
        return f"{SYSTEM_PYTHON} cannot import qgis (apt-get install qgis python3-qgis; .ci/run does)"
    return None


needs_qgis = pytest.mark.skipif(_qgis_missing() is not None, reason=str(_qgis_missing()))


def probe(path: Path, render: str | None = None, runtime: Path | None = None) -> tuple[dict, str]:
    """Open ``path`` in QGIS in a subprocess; return its report and what GDAL/QGIS wrote to stderr."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if runtime is not None:
        runtime.mkdir(mode=0o700, exist_ok=True)
        env["XDG_RUNTIME_DIR"] = str(runtime)
    # The system Python, not the virtual environment's: PyQGIS is built for it.
    env.pop("PYTHONPATH", None)
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        [SYSTEM_PYTHON, str(PROBE), str(path), *([render] if render else [])],
        capture_output=True, text=True, env=env, timeout=300, check=True,
    )
    return json.loads(done.stdout), done.stderr


def our_sld_rules(path: Path, name: str) -> list[list[str]]:
    """(rule title, colour) of every drawing rule of the SLD cqgis stored for a layer."""
    import xml.etree.ElementTree as ET

    with closing(sqlite3.connect(path)) as db:
        sld = db.execute("SELECT styleSLD FROM layer_styles WHERE f_table_name = ?", (name,)).fetchone()[0]
    se = "{http://www.opengis.net/se}"
    rules = []
    for rule in ET.fromstring(sld.encode("utf-8")).iter(f"{se}Rule"):
        colours = [p.text for p in rule.iter(f"{se}SvgParameter") if p.get("name") in ("fill", "stroke")]
        if rule.find(f"{se}TextSymbolizer") is None:
            rules.append([rule.findtext(f"{se}Name"), colours[0]])
    return rules


def check_sld(path: Path, name: str, seen: dict) -> None:
    """The stored SLD reads in QGIS as the QML draws (same colour per feature, same labels) and has QGIS's own rules."""
    sld = seen["sld"]
    assert sld["loaded"], sld["message"]
    assert sld["colors"] == seen["colors"], name
    assert sld["labels"] == seen["labels"] and sld.get("label_field") == seen.get("label_field"), name
    ours, theirs = our_sld_rules(path, name), seen["qgis_sld_rules"]
    if seen["renderer"] == "singleSymbol":
        # QGIS titles its one rule "Single symbol"; ours carries the legend's Chinese title.
        ours, theirs = [colour for _, colour in ours], [colour for _, colour in theirs]
    assert ours == theirs, name


@pytest.fixture(scope="module")
def sewage(tmp_path_factory):
    folder = tmp_path_factory.mktemp("qgis")
    spec = themes.build_spec("rural-sewage")
    path = themes.write(spec, folder / "农村污水.gpkg")
    return spec, path, folder


def test_theme_geopackage_is_version_1_2_with_a_default_style_per_layer(sewage):
    spec, path, _ = sewage
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA application_id").fetchone()[0] == int.from_bytes(b"GPKG", "big")
        assert db.execute("PRAGMA user_version").fetchone()[0] == 10200
        rows = db.execute("SELECT f_table_name, styleQML, useAsDefault FROM layer_styles").fetchall()
    assert sorted(name for name, _, _ in rows) == sorted(layer.name_zh for layer in spec.layers)
    assert all(default == 1 and qml.lstrip().startswith("<!DOCTYPE qgis") for _, qml, default in rows)


@needs_qgis
def test_qgis_draws_every_feature_in_the_maps_colour(sewage):
    spec, path, folder = sewage
    graduated = spec.layers[0]
    report, stderr = probe(path, render=graduated.name_zh, runtime=folder / "xdg")
    # GDAL's warning about GeoPackage 1.4, raised by the default version on QGIS 3.22.
    assert "partially supported" not in stderr
    layers = report["layers"]
    assert list(layers) == [layer.name_zh for layer in spec.layers]
    target = rural_sewage.plan_target(Layers(settings())["targets"])
    rates = layers[graduated.name_zh]
    assert rates["valid"] and rates["renderer"] == "graduatedSymbol" and rates["attribute"] == "rate_count"
    assert rates["classes"] == [list(pair) for pair in zip(rate_labels(target), RATE_COLORS)]
    assert rates["labels"] and rates["label_field"] == "short_name"
    settlements = layers["农村集聚点"]
    assert settlements["renderer"] == "categorizedSymbol" and settlements["attribute"] == "status"
    assert settlements["classes"] == [list(pair) for pair in SETTLEMENT_COLORS.items()]
    priority = next(entry for name, entry in layers.items() if name.startswith("重点未治理"))
    assert priority["renderer"] == "singleSymbol" and priority["classes"] == [["", ALERT_COLOR]]
    for layer in spec.layers:
        expected = list(layer.feature_colors())
        if layer.bins is not None:
            # QGIS cannot class a missing number: such districts are not drawn there.
            expected = [None if color == MISSING_COLOR else color for color in expected]
        assert layers[layer.name_zh]["colors"] == expected, layer.name_zh
        check_sld(path, layer.name_zh, layers[layer.name_zh])
    # A district exactly at the target is 达标 in QGIS too (the map's classes are left-closed).
    lowest_met = rates["bounds"][-1][0]
    assert lowest_met == target and rates["bounds"][-2][1] < target
    assert report["render"]["inked_share"] > 0.05


@needs_qgis
def test_qgis_reads_categories_labels_and_the_missing_class_of_the_water_map(tmp_path):
    spec = themes.build_spec("water")
    path = themes.write(spec, tmp_path / "水.gpkg")
    report, stderr = probe(path, runtime=tmp_path / "xdg")
    assert "partially supported" not in stderr
    layers = report["layers"]
    classes = layers["断面水质类别"]
    assert classes["renderer"] == "categorizedSymbol" and classes["attribute"] == "class_label"
    assert [label for label, _ in classes["classes"]] == [
        entry.label for entry in next(l for l in spec.layers if l.name_zh == "断面水质类别").legend_entries()
    ]
    assert layers["区县"]["labels"] and layers["区县"]["label_field"] == "short_name"
    assert layers["河流"]["renderer"] == "singleSymbol" and layers["河流"]["label_field"] == "name"
    assert any(layer.frame.empty for layer in spec.layers)
    for layer in spec.layers:
        # Empty layers too: typed from the spec, they take their style.
        assert layers[layer.name_zh]["renderer"] == qgis_style.renderer_type(layer), layer.name_zh
        assert layers[layer.name_zh]["colors"] == list(layer.feature_colors()), layer.name_zh
        check_sld(path, layer.name_zh, layers[layer.name_zh])



@needs_qgis
def test_layer_exports_and_analysis_outputs_open_styled_in_qgis(tmp_path):
    layers_file, sewage_file = tmp_path / "图层.gpkg", tmp_path / "污水.gpkg"
    runner = CliRunner()
    for name in ("districts", "sections"):
        done = runner.invoke(main.cli, ["layers", "export", name, "-o", str(layers_file)])
        assert done.exit_code == 0, done.output
    done = runner.invoke(main.cli, ["analyze", "rural-sewage", "-o", str(sewage_file)])
    assert done.exit_code == 0, done.output
    exported, stderr = probe(layers_file, render="districts", runtime=tmp_path / "xdg")
    assert "partially supported" not in stderr
    districts = exported["layers"]["districts"]
    assert districts["renderer"] == "categorizedSymbol" and districts["attribute"] == "region"
    assert districts["classes"] == [list(pair) for pair in REGION_COLORS.items()]
    assert districts["colors"] == [REGION_COLORS[region] for region in io.read(layers_file, layer="districts")["region"]]
    assert districts["label_field"] == "short_name"
    check_sld(layers_file, "districts", districts)
    assert exported["layers"]["sections"]["renderer"] == "singleSymbol"
    assert exported["render"]["inked_share"] > 0.2
    outputs, _ = probe(sewage_file, runtime=tmp_path / "xdg")
    rates = outputs["layers"]["rates"]
    assert rates["renderer"] == "graduatedSymbol" and len(rates["classes"]) == 3
    written = io.read(sewage_file, layer="rates")
    expected = rates_layer(written, written["target"].iloc[0]).feature_colors()
    assert rates["colors"] == [None if color == MISSING_COLOR else color for color in expected]
    assert outputs["layers"]["priority_untreated"]["renderer"] == "singleSymbol"


@needs_qgis
def test_exported_rivers_draw_named_rivers_wide_and_streams_thin_as_the_maps(tmp_path):
    path = tmp_path / "河网.gpkg"
    done = CliRunner().invoke(main.cli, ["layers", "export", "rivers", "-o", str(path)])
    assert done.exit_code == 0, done.output
    report, stderr = probe(path, render="rivers", runtime=tmp_path / "xdg")
    assert "partially supported" not in stderr
    rivers = report["layers"]["rivers"]
    named, streams = theme_base.named_rivers_layer(io.read(path)), theme_base.streams_layer(io.read(path))
    assert rivers["renderer"] == "RuleRenderer"
    assert rivers["classes"] == [[named.name_zh, named.color], [streams.name_zh, streams.color]]
    names = io.read(path, layer="rivers")["name"].fillna("")
    assert (names != "").sum() and (names == "").sum()
    assert rivers["widths"] == [named.weight if name else streams.weight for name in names]
    assert rivers["labels"] and rivers["label_field"] == "name"
    check_sld(path, "rivers", rivers)
    assert report["render"]["inked_share"] > 0.01


@needs_qgis
def test_map_project_opens_in_qgis_after_moving_its_folder(tmp_path):
    spec = themes.build_spec("rural-sewage", district="潼南区")
    written = tmp_path / "written"
    written.mkdir()
    themes.write(spec, written / "潼南.qgz")
    assert sorted(path.name for path in written.iterdir()) == ["潼南.gpkg", "潼南.qgz"]
    # Paths are relative: the project still finds its data after the folder moves.
    moved = written.rename(tmp_path / "moved")
    report, stderr = probe(moved / "潼南.qgz", runtime=tmp_path / "xdg")
    assert report["read"] and report["crs"] == "EPSG:4326"
    assert report["loaded"] == len(spec.layers)
    layers = report["layers"]
    # The top of QGIS's layer tree is drawn last, as the last layer of the map.
    assert [layer["name"] for layer in layers] == [layer.name_zh for layer in reversed(spec.layers)]
    assert all(layer["valid"] and layer["source"].startswith(str(moved / "潼南.gpkg")) for layer in layers)
    assert [layer["renderer"] for layer in layers] == [qgis_style.renderer_type(l) for l in reversed(spec.layers)]
    assert [layer["labels"] for layer in layers] == [l.label_column is not None for l in reversed(spec.layers)]
    assert "partially supported" not in stderr


@needs_qgis
def test_grouped_project_of_several_maps_opens_with_every_layer_in_its_group(tmp_path):
    atlas = tmp_path / "atlas"
    (atlas / "maps").mkdir(parents=True)
    specs = {
        area: themes.build_spec("rural-sewage", district=area) for area in ("潼南区", "万州区")
    }
    files = {area: themes.write(spec, atlas / "maps" / f"{area}.gpkg") for area, spec in specs.items()}
    tree = [
        qgis_project.Group("农村生活污水治理", [
            qgis_project.Group("区县", [
                qgis_project.Group(area, [path], checked=area == "潼南区") for area, path in files.items()
            ]),
        ]),
    ]
    project = qgis_project.write_project(atlas / "图集.qgz", "图集", tree)
    report, stderr = probe(project, runtime=tmp_path / "xdg")
    assert report["read"] and report["crs"] == "EPSG:4326"
    layers = report["layers"]
    expected = [
        (["农村生活污水治理", "区县", area], layer.name_zh) for area, spec in specs.items() for layer in reversed(spec.layers)
    ]
    assert [(layer["groups"], layer["name"]) for layer in layers] == expected
    assert report["loaded"] == len(expected) and all(layer["valid"] for layer in layers)
    assert all(layer["source"].startswith(str(atlas / "maps")) for layer in layers)
    # Only the first area is drawn when the project opens: the areas would cover each other.
    assert {layer["visible"] for layer in layers if "潼南区" in layer["groups"]} == {True}
    assert {layer["visible"] for layer in layers if "万州区" in layer["groups"]} == {False}
    assert [layer["renderer"] for layer in layers[: len(specs["潼南区"].layers)]] == [
        qgis_style.renderer_type(layer) for layer in reversed(specs["潼南区"].layers)
    ]
    assert "partially supported" not in stderr


ATLAS_CONFIG = """title: 测试图集
output: out
maps:
  - theme: overview
    coverage: city
    formats: [png, qgz]
  - theme: water
    coverage: district
    filter: "name in ['永川区', '江津区']"
    sort: adcode
    formats: [png, gpkg]
  - theme: water
    coverage: city
    formats: [html, png]
"""


@pytest.fixture(scope="module")
def atlas_run(tmp_path_factory):
    from cqgis.maps import atlas

    folder = tmp_path_factory.mktemp("atlas")
    (folder / "图集.yaml").write_text(ATLAS_CONFIG, encoding="utf-8")
    report = atlas.run_atlas(atlas.read_config(folder / "图集.yaml"))
    assert not report.failures
    return report, folder / "out"


def test_atlas_writes_a_project_per_theme_and_one_for_all_linked_from_the_index(atlas_run):
    report, out = atlas_run
    # The city water map has no GeoPackage: it is in no project.
    assert [path.name for path in report.projects] == ["atlas-overview.qgz", "atlas-water.qgz", "atlas.qgz"]
    index = report.index.read_text(encoding="utf-8")
    assert all(f'href="{path.name}"' in index for path in report.projects)
    with zipfile.ZipFile(out / "atlas.qgz") as archive:
        document = archive.read("atlas.qgs").decode("utf-8")
    assert str(out) not in document and "layername=" in document


@needs_qgis
def test_atlas_project_opens_in_qgis_grouped_as_the_index(atlas_run, tmp_path):
    report, out = atlas_run
    whole, stderr = probe(out / "atlas.qgz", runtime=tmp_path / "xdg")
    assert whole["read"] and whole["crs"] == "EPSG:4326" and "partially supported" not in stderr
    layers = whole["layers"]
    assert all(layer["valid"] for layer in layers) and whole["loaded"] == len(layers)
    groups = []
    for layer in layers:
        if layer["groups"] not in groups:
            groups.append(layer["groups"])
    # Theme, coverage kind, area: as the index page lists them.
    # Districts by adcode: 江津区 500116 before 永川区 500118.
    assert groups == [["一区两群总览", "全市", "重庆市"], ["水环境质量", "区县", "江津区"], ["水环境质量", "区县", "永川区"]]
    # Only the first map is drawn when the project opens.
    assert {layer["visible"] for layer in layers if layer["groups"][0] == "一区两群总览"} == {True}
    assert {layer["visible"] for layer in layers if layer["groups"][0] == "水环境质量"} == {False}
    water, _ = probe(out / "atlas-water.qgz", runtime=tmp_path / "xdg")
    assert [layer["groups"] for layer in water["layers"]][0] == ["区县", "江津区"]
    assert {tuple(layer["groups"]): layer["visible"] for layer in water["layers"]} == {
        ("区县", "江津区"): True, ("区县", "永川区"): False,
    }
    assert all(layer["valid"] for layer in water["layers"])


def test_project_refuses_a_missing_geopackage(tmp_path):
    with pytest.raises(MapError, match="no such GeoPackage"):
        qgis_project.write_project(tmp_path / "x.qgz", "x", [qgis_project.Group("组", [tmp_path / "无.gpkg"])])
    assert not (tmp_path / "x.qgz").exists()


def test_map_project_is_deterministic_and_relative(tmp_path):
    spec = themes.build_spec("compliance")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = (themes.write(spec, tmp_path / name / "达标.qgz") for name in ("a", "b"))
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        document = archive.read("达标.qgs").decode("utf-8")
    assert "<datasource>./达标.gpkg|layername=区县达标情况</datasource>" in document
    assert str(tmp_path) not in document


@needs_qgis
@pytest.mark.parametrize("theme", ["hydrogen", "parks"])
def test_graduated_themes_draw_each_feature_in_the_maps_colour(tmp_path, theme):
    spec = themes.build_spec(theme)
    path = themes.write(spec, tmp_path / f"{theme}.gpkg")
    report, _ = probe(path, runtime=tmp_path / "xdg")
    graduated = [layer for layer in spec.layers if layer.bins is not None]
    assert graduated
    for layer in spec.layers:
        seen = report["layers"][layer.name_zh]
        assert seen["renderer"] == qgis_style.renderer_type(layer)
        assert [color for _, color in seen["classes"]] == [color for _, color in qgis_style.classes(layer)]
        expected = list(layer.feature_colors())
        if layer.bins is not None:
            assert [label for label, _ in seen["classes"]] == list(layer.bins.labels)
            expected = [None if color == MISSING_COLOR else color for color in expected]
        assert seen["colors"] == expected, layer.name_zh
        check_sld(path, layer.name_zh, seen)
