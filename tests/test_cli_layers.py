"""`cqgis layers`: list, show, export and build."""

import geopandas as gpd
import pandas as pd
from click.testing import CliRunner

from cqgis.cli import main
from cqgis.layers import catalog


def _run(*args):
    return CliRunner().invoke(main.cli, ["layers", *args])


def test_list_shows_every_layer_with_counts_and_precision(districts):
    result = _run("list")
    assert result.exit_code == 0, result.output
    for name in catalog.names():
        assert name in result.output
    assert "districts          重庆市区县  38 features, Polygon; exact 38" in result.output
    assert "synthetic" in result.output


def test_show_prints_schema_and_rows(districts):
    result = _run("show", "districts", "-n", "2")
    assert result.exit_code == 0, result.output
    assert "region" in result.output and "主城都市区" in result.output
    assert "万州区" in result.output


def test_export_writes_any_format(tmp_path, districts):
    gpkg = tmp_path / "d.gpkg"
    assert _run("export", "districts", "-o", str(gpkg)).exit_code == 0
    assert len(gpd.read_file(gpkg)) == 38
    csv = tmp_path / "t.csv"
    assert _run("export", "targets", "-o", str(csv)).exit_code == 0
    assert len(pd.read_csv(csv)) == len(catalog.load("targets"))


def test_unknown_layer_is_a_usage_error():
    result = _run("show", "nolayer")
    assert result.exit_code == 2
    assert "unknown layer 'nolayer'" in result.output


def test_build_rebuilds_identically(districts):
    before = catalog.load("h2_zones")
    result = _run("build", "h2_zones")
    assert result.exit_code == 0 and "h2_zones: 7 features" in result.output
    after = catalog.load("h2_zones")
    pd.testing.assert_frame_equal(pd.DataFrame(before.drop(columns="geometry")), pd.DataFrame(after.drop(columns="geometry")))
    assert before.geometry.geom_equals_exact(after.geometry, 0).all()


def test_user_districts_never_leak_into_the_shared_cache(tmp_path, districts):
    from cqgis.config import settings
    from cqgis.geo import io

    folder = tmp_path / "data"
    folder.mkdir()
    renamed = districts.copy()
    renamed.loc[renamed["name"] == "永川区", "name"] = "测试区"
    io.write(renamed, folder / "districts.gpkg")
    mine = catalog.load("sections", settings(data_dir=folder))
    assert "测试区" in set(mine["district"])
    shared = catalog.load("sections")
    assert "测试区" not in set(shared["district"]) and "永川区" in set(shared["district"])
    # And the other way round: a cached default does not hide the user's districts.
    assert "测试区" in set(catalog.load("sections", settings(data_dir=folder))["district"])


def test_a_corrupt_cache_file_is_rebuilt(districts):
    path = catalog.cache_path("targets")
    catalog.load("targets")
    path.write_bytes(b"not parquet")
    assert len(catalog.load("targets")) == 42
