"""Tests for the atlas: config checking with line numbers, coverage, rendering in 1/2 processes and on Dask, index, PDFs, reruns."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image
from shapely.geometry import Point

from cqgis.cli.main import MainGroup
from cqgis.geo.io import atomic
from cqgis.maps import atlas, export_styles
from cqgis.maps.atlas.workers import run_jobs
from cqgis.maps.errors import MapError, MapOptionError
from cqgis.maps.style import LayerSpec
from cqgis.maps.theme_names import THEMES

CONFIG = """\
title: 测试图集
output: out
maps:
  - theme: water
    coverage: district
    formats: [html, png, gpkg]
    filename: "{theme}/{district}.{ext}"
    filter: "region == '主城都市区' and area_km2 < 300"
    sort: -area_km2
  - theme: water
    coverage: river
    formats: [html]
    filter: "name in ['琼江', '铜钵河']"
  - theme: hydrogen
    coverage: basin
    formats: [pdf, png]
    filter: "name in ['嘉陵江', '涪江', '琼江']"
    sort: name
  - theme: overview
    coverage: city
    formats: [png, svg]
"""
#: Items CONFIG makes: 4 small central districts, 2 rivers, 3 basins, the city.
N_ITEMS = 10
FAILING_AREA = "江北区"


def fake_render(item: atlas.AtlasItem) -> list[Path]:
    """Write small deterministic files for every output of ``item``, atomically."""
    for fmt, path in zip(item.formats, item.paths):
        if fmt == "gpkg":
            # A real styled GeoPackage, one point: the atlas's QGIS projects read its styles.
            point = gpd.GeoDataFrame({"name": [item.area_name]}, geometry=[Point(106.5, 29.5)], crs="EPSG:4326")
            export_styles.write_styled({item.area_name: LayerSpec(item.area_name, point, "point")}, path)
            continue
        with atomic(path) as temp:
            if fmt == "png":
                shade = hashlib.sha256(item.ident.encode()).digest()[0]
                Image.new("RGB", (64, 48), (shade, 120, 200)).save(temp, format="PNG")
            else:
                temp.write_text(f"{fmt} {item.ident}\n", encoding="utf-8")
    return list(item.paths)


fake_render.version = "fake-1"


def failing_render(item: atlas.AtlasItem) -> list[Path]:
    """Like :func:`fake_render`, but fail for :data:`FAILING_AREA`."""
    if item.area_name == FAILING_AREA:
        msg = "示例错误：该区县缺少数据"
        raise MapError(msg)
    return fake_render(item)


failing_render.version = "fake-1"


@pytest.fixture
def stable_inputs(monkeypatch):
    """Fix the digest of layers and code: other work on the tree must not change keys between two runs compared byte for byte."""
    monkeypatch.setattr(atlas.build, "inputs_digest", lambda settings, renderer: f"inputs {atlas.renderer_version(renderer)}")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "atlas.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def cqgis_atlas(*args: str):
    """Run ``cqgis atlas ARGS`` through the top-level group, as registered in cli/main.py."""
    group = MainGroup(name="cqgis", lazy_commands={"atlas": "cqgis.cli.atlas:atlas"})
    return CliRunner().invoke(group, ["atlas", *args])


def files(root: Path) -> dict[str, bytes]:
    """Return every file under ``root`` by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value and not value.startswith("#"):
                self.targets.append(value)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b", pdf))


# ----------------------------------------------------------------- config


def test_unknown_key_is_reported_with_its_line(tmp_path):
    path = tmp_path / "atlas.yaml"
    path.write_text(CONFIG.replace("    formats: [pdf, png]", "    fromats: [pdf, png]"), encoding="utf-8")
    with pytest.raises(MapOptionError, match=r"atlas\.yaml line 16: unknown key 'fromats' \(did you mean formats\?\)"):
        atlas.read_config(path)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("theme: hydrogen", "theme: hydrogn", r"line 14: unknown theme 'hydrogn' \(did you mean hydrogen\?\)"),
        ("coverage: river", "coverage: rivers", r"line 11: unknown coverage 'rivers'"),
        ("formats: [html]", "formats: [html, jpg]", r"line 12: unknown format 'jpg'"),
        ("formats: [html]", "formats: []", r"line 12: 'formats' must list at least one"),
        ("name in ['琼江', '铜钵河']", "__import__('os').system('true')", r"line 13: filter .* is not allowed"),
        ("name in ['琼江', '铜钵河']", "name in", r"line 13: filter .* is not a valid expression"),
        ('"{theme}/{district}.{ext}"', '"{theme}/x.{ext}"', r"line 7: filename .* needs \{area\}"),
        ('"{theme}/{district}.{ext}"', '"{theme}/{basin}.{ext}"', r"line 7: filename .* uses \{basin\}"),
        ('"{theme}/{district}.{ext}"', '"{theme}/{area}"', r"line 7: filename .* needs \{ext\}"),
        ("sort: -area_km2", "sort: area km2", r"line 9: 'sort' must be a column name"),
        ("output: out", "output: [out", r"line \d+: not valid YAML"),
        ("  - theme: overview", "  - theme: overview\n    theme: water", r"line 20: key 'theme' is given twice"),
    ],
)
def test_bad_values_are_reported_with_their_line(tmp_path, old, new, expected):
    path = tmp_path / "atlas.yaml"
    assert old in CONFIG
    path.write_text(CONFIG.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(MapOptionError, match=expected):
        atlas.read_config(path)


def test_unknown_filter_and_sort_columns_are_reported_with_their_line(tmp_path):
    path = tmp_path / "atlas.yaml"
    path.write_text(CONFIG.replace("region ==", "regoin =="), encoding="utf-8")
    with pytest.raises(MapOptionError, match=r"line 8: filter .* unknown column 'regoin'"):
        atlas.plan(atlas.read_config(path))
    path.write_text(CONFIG.replace("sort: name", "sort: -size"), encoding="utf-8")
    with pytest.raises(MapOptionError, match=r"line 18: cannot sort by unknown column 'size'"):
        atlas.plan(atlas.read_config(path))


def test_filter_evaluates_conditions_without_eval():
    frame = pd.DataFrame({
        "name": pd.array(["甲", "乙", None], dtype="string"),
        "area_km2": [1.0, 5.0, 10.0],
        "region": ["x", "y", "x"],
    })

    def mask(text):
        return atlas.Filter(text, "t").mask(frame).tolist()

    assert mask("region == 'x'") == [True, False, True]
    assert mask("1 < area_km2 <= 5") == [False, True, False]
    assert mask("area_km2 > 2 and not region in ['y']") == [False, False, True]
    assert mask("name == '甲' or area_km2 >= 10") == [True, False, True]
    assert mask("name != '甲'") == [False, True, False]
    assert mask("area_km2 > -1.5") == [True, True, True]
    for bad in ("name", "area_km2 > 'x'", "open('f')", "-area_km2 > 1", "name == ['甲']", "[x for x in y]"):
        with pytest.raises(MapOptionError, match="filter"):
            atlas.Filter(bad, "t").mask(frame)


def test_coverage_of_real_layers():
    assert len(atlas.coverage("district")) == 38
    assert atlas.coverage("city")["name"].tolist() == [atlas.CITY_NAME]
    rivers = set(atlas.coverage("river")["name"])
    # The plan's joint-governance rivers cross the border on the flow directions too.
    assert {"琼江", "铜钵河", "大清流河"} <= rivers
    assert "乌江" not in rivers  # it enters from Guizhou, not across the Sichuan border


def test_items_carry_the_callers_cache_and_data_folders(config_file, tmp_path, monkeypatch):
    """Workers load layers from the caller's cache, not the default one (issue 14)."""
    from cqgis.config import Settings, settings as default_settings

    monkeypatch.chdir(tmp_path)
    chosen = Settings(cache_dir=default_settings().cache_dir, data_dir=Path("data"))
    (tmp_path / "data").mkdir()
    items = atlas.plan(atlas.read_config(config_file), chosen)
    assert {item.settings for item in items} == {
        Settings(cache_dir=chosen.cache_dir.absolute(), data_dir=tmp_path / "data")
    }


def test_plan_filters_sorts_and_names_outputs(config_file):
    items = atlas.plan(atlas.read_config(config_file))
    assert len(items) == N_ITEMS
    water = [item for item in items if item.theme == "water" and item.coverage_kind == "district"]
    assert [item.area_name for item in water] == ["南岸区", "江北区", "大渡口区", "渝中区"]
    assert water[0].outputs == ("water/南岸区.html", "water/南岸区.png", "water/南岸区.gpkg")
    assert water[0].focus == ("district", "南岸区")
    river = next(item for item in items if item.coverage_kind == "river")
    assert river.formats == ("html", "png")
    assert river.page.startswith(atlas.PAGES_DIR + "/")
    assert river.listed == (("html", river.outputs[0]),)
    basins = [item.area_name for item in items if item.coverage_kind == "basin"]
    assert basins == sorted(basins)
    city = items[-1]
    assert city.focus is None and city.area_name == "重庆市"


def test_two_maps_writing_one_file_are_refused(tmp_path):
    path = tmp_path / "atlas.yaml"
    path.write_text(
        "maps:\n  - theme: water\n    coverage: city\n    filename: 'a.{ext}'\n"
        "  - theme: parks\n    coverage: city\n    filename: 'a.{ext}'\n",
        encoding="utf-8",
    )
    with pytest.raises(MapOptionError, match="would both write a.html"):
        atlas.plan(atlas.read_config(path))


# ------------------------------------------------------------------- runs


def test_atlas_end_to_end(config_file):
    config = atlas.read_config(config_file)
    report = atlas.run_atlas(config, renderer=fake_render)
    root = config_file.parent / "out"
    assert report.count(atlas.BUILT) == N_ITEMS and not report.failures
    for outcome in report.outcomes:
        assert all(path.is_file() for path in outcome.item.paths)
    assert {p.name for p in report.books} == {"atlas-water.pdf", "atlas-hydrogen.pdf", "atlas-overview.pdf"}
    water = (root / "atlas-water.pdf").read_bytes()
    assert water.startswith(b"%PDF") and page_count(water) == 1 + 6
    assert b"CreationDate" not in water
    assert page_count((root / "atlas-overview.pdf").read_bytes()) == 2
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", "-layout", str(root / "atlas-water.pdf"), "-"], capture_output=True, text=True, check=True
        ).stdout.split("\f")
        # The contents list every map with its page; each map's page is headed by its area and numbered.
        contents = [" ".join(line.split()) for line in text[0].splitlines()]
        assert contents[:2] == [f"测试图集 · {THEMES['water']}", "目录"] and "区县 · 南岸区 2" in contents
        assert text[1].split()[:3] == ["区县", "·", "南岸区"] and text[1].split()[-1] == "2"

    index = (root / "index.html").read_text(encoding="utf-8")
    assert "<title>测试图集</title>" in index and THEMES["water"] in index and "跨界河流" in index
    assert "http:" not in index and "https:" not in index and "<script" not in index
    links = _Links()
    links.feed(index)
    targets = {unquote(target) for target in links.targets}
    for target in targets:
        assert (root / target).is_file(), target
    for outcome in report.outcomes:
        assert {output for _, output in outcome.item.listed} <= targets
    assert "water/渝中区.gpkg" in targets and "atlas-hydrogen.pdf" in targets
    # Only the water maps have GeoPackages: their theme's QGIS project and the whole atlas's, linked.
    assert [path.name for path in report.projects] == ["atlas-water.qgz", "atlas.qgz"]
    assert {"atlas-water.qgz", "atlas.qgz"} <= targets
    # An item without PNG shows the PNG drawn for its PDF page.
    assert any(target.startswith(atlas.PAGES_DIR) for target in targets)
    assert not list(root.rglob("*.tmp*"))


def broken_gpkg_render(item: atlas.AtlasItem) -> list[Path]:
    """Like :func:`fake_render`, but the GeoPackages are no databases."""
    paths = fake_render(item)
    for fmt, path in zip(item.formats, item.paths):
        if fmt == "gpkg":
            path.write_text("not a GeoPackage", encoding="utf-8")
    return paths


broken_gpkg_render.version = "fake-broken-1"


def test_unreadable_geopackage_fails_its_projects_only(config_file):
    report = atlas.run_atlas(atlas.read_config(config_file), renderer=broken_gpkg_render)
    assert report.count(atlas.BUILT) == N_ITEMS and report.projects == ()
    assert [what for what, _ in report.failures] == ["atlas-water.qgz", "atlas.qgz"]
    assert all("not a GeoPackage" in reason for _, reason in report.failures)
    root = config_file.parent / "out"
    assert not (root / "atlas.qgz").exists() and not list(root.glob("*.tmp*"))
    assert "QGIS 工程" not in (root / "index.html").read_text(encoding="utf-8")


def test_failing_map_is_reported_and_the_others_written(config_file, stable_inputs):
    report = atlas.run_atlas(atlas.read_config(config_file), renderer=failing_render)
    assert report.failures == [("water/district/江北区", "示例错误：该区县缺少数据")]
    assert report.count(atlas.BUILT) == N_ITEMS - 1
    root = config_file.parent / "out"
    assert not (root / "water" / "江北区.html").exists()
    assert (root / "water" / "渝中区.html").is_file()
    assert page_count((root / "atlas-water.pdf").read_bytes()) == 1 + 5
    assert "生成失败：示例错误：该区县缺少数据" in (root / "index.html").read_text(encoding="utf-8")
    manifest = json.loads((root / atlas.MANIFEST).read_text(encoding="utf-8"))
    assert "water/district/江北区" not in manifest["items"]
    # The rerun retries only the failed map.
    rerun = atlas.run_atlas(atlas.read_config(config_file), renderer=fake_render)
    assert rerun.count(atlas.SKIPPED) == N_ITEMS - 1
    assert [o.item.area_name for o in rerun.outcomes if o.status == atlas.BUILT] == [FAILING_AREA]


def test_cli_lists_failures_and_exits_non_zero(config_file, monkeypatch):
    monkeypatch.setattr(atlas.workers, "DEFAULT_RENDERER", f"{__name__}:failing_render")
    result = cqgis_atlas(str(config_file))
    assert result.exit_code == 1
    assert f"[{N_ITEMS}/{N_ITEMS}]" in result.output
    assert "FAILED water/district/江北区: 示例错误：该区县缺少数据" in result.output
    assert f"{N_ITEMS} maps: {N_ITEMS - 1} drawn, 0 up to date, 1 failed" in result.output


def test_cli_refuses_workers_with_scheduler(config_file):
    result = cqgis_atlas(str(config_file), "-j", "2", "--scheduler", "tcp://127.0.0.1:1")
    assert result.exit_code == 2 and "exclude each other" in result.output


def test_cli_reports_config_errors_on_one_line(tmp_path):
    path = tmp_path / "atlas.yaml"
    path.write_text(CONFIG.replace("sort: name", "sort: name\n    colour: red"), encoding="utf-8")
    result = cqgis_atlas(str(path))
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Error: atlas.yaml line 19: unknown key 'colour'; keys: theme, coverage, formats, filename, filter, sort"
    )


def test_rerun_skips_unchanged_maps(config_file, stable_inputs):
    config = atlas.read_config(config_file)
    atlas.run_atlas(config, renderer=fake_render)
    root = config.output
    before = files(root)
    again = atlas.run_atlas(config, renderer=fake_render)
    assert again.count(atlas.SKIPPED) == N_ITEMS
    assert files(root) == before
    (root / "water" / "渝中区.png").unlink()
    assert [o.item.area_name for o in atlas.run_atlas(config, renderer=fake_render).outcomes
            if o.status == atlas.BUILT] == ["渝中区"]
    assert atlas.run_atlas(config, renderer=fake_render, force=True).count(atlas.BUILT) == N_ITEMS
    # A changed entry rebuilds its maps only; a new renderer version rebuilds all.
    config_file.write_text(CONFIG.replace("formats: [png, svg]", "formats: [png, svg, pdf]"), encoding="utf-8")
    changed = atlas.run_atlas(atlas.read_config(config_file), renderer=fake_render)
    assert [o.item.ident for o in changed.outcomes if o.status == atlas.BUILT] == ["overview/city/重庆市"]
    fake_render.version = "fake-2"
    try:
        assert atlas.run_atlas(config, renderer=fake_render).count(atlas.BUILT) == N_ITEMS
    finally:
        fake_render.version = "fake-1"


def test_ctrl_c_leaves_no_partial_file(config_file, stable_inputs):
    config = atlas.read_config(config_file)
    calls = []

    def interrupted(item):
        calls.append(item)
        if len(calls) == 3:
            with atomic(item.paths[0]) as temp:
                temp.write_text("half", encoding="utf-8")
                raise KeyboardInterrupt
        return fake_render(item)

    interrupted.version = "fake-1"
    with pytest.raises(KeyboardInterrupt):
        atlas.run_atlas(config, renderer=interrupted)
    root = config.output
    assert not list(root.rglob("*.tmp*"))
    assert not calls[2].paths[0].exists()
    assert not (root / "index.html").exists()
    manifest = json.loads((root / atlas.MANIFEST).read_text(encoding="utf-8"))
    assert sorted(manifest["items"]) == sorted(item.ident for item in calls[:2])
    assert atlas.run_atlas(config, renderer=fake_render).count(atlas.SKIPPED) == 2


def test_same_bytes_with_one_and_two_workers(tmp_path, stable_inputs):
    outputs = {}
    for workers in (1, 2):
        folder = tmp_path / f"w{workers}"
        folder.mkdir()
        (folder / "atlas.yaml").write_text(CONFIG, encoding="utf-8")
        report = atlas.run_atlas(atlas.read_config(folder / "atlas.yaml"), renderer=failing_render, workers=workers)
        assert report.failures == [("water/district/江北区", "示例错误：该区县缺少数据")]
        outputs[workers] = files(folder / "out")
    assert len(outputs[1]) > N_ITEMS
    assert outputs[1] == outputs[2]


def test_jobs_run_here_while_the_workers_start_and_each_result_comes_once():
    # os.getpid tells who ran a job; int("x") fails wherever it runs.
    results = dict(run_jobs(os.getpid, [()] * 8, workers=2))
    assert sorted(results) == list(range(8))
    pids = {result() for result in results.values()}
    # The first jobs go to the workers; this process takes the next one before any worker is done.
    assert os.getpid() in pids and len(pids) >= 2
    numbers = dict(run_jobs(int, [("1",), ("x",), ("3",), ("4",), ("y",), ("6",)], workers=2))
    assert [numbers[i]() for i in (0, 2, 3, 5)] == [1, 3, 4, 6]
    for failed in (1, 4):
        with pytest.raises(ValueError, match="invalid literal"):
            numbers[failed]()


def test_dask_local_cluster(config_file, tmp_path, stable_inputs):
    distributed = pytest.importorskip("dask.distributed")
    serial = tmp_path / "serial"
    atlas.run_atlas(atlas.read_config(config_file, serial), renderer=failing_render)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        report = atlas.run_atlas(
            atlas.read_config(config_file, tmp_path / "dask"),
            renderer=failing_render,
            scheduler=cluster.scheduler_address,
        )
    assert report.count(atlas.BUILT) == N_ITEMS - 1 and len(report.failures) == 1
    dask_files, serial_files = files(tmp_path / "dask"), files(serial)
    assert [k for k in serial_files if dask_files.get(k) != serial_files[k]] == []
    assert dask_files == serial_files


def test_unreachable_scheduler_is_a_clean_error(config_file):
    with pytest.raises(MapError, match="cannot reach the Dask scheduler"):
        atlas.run_atlas(atlas.read_config(config_file), renderer=fake_render, scheduler="tcp://127.0.0.1:9")
