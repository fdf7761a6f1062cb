"""`cqgis map`: files written by format, focus and options, user data, clean errors with exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cqgis.cli.main import MainGroup


@pytest.fixture(scope="module")
def cli():
    """The top-level group with `map` registered as cli/main.py registers it."""
    return MainGroup(name="cqgis", lazy_commands={"map": "cqgis.cli.map:map_command"})


def shows(page: str, text: str) -> bool:
    """Whether a page holds ``text``, as written or \\u-escaped (folium escapes GeoJSON)."""
    return text in page or json.dumps(text)[1:-1] in page


def run(cli, *args):
    return CliRunner().invoke(cli, ["map", *map(str, args)])


def test_writes_a_focused_html_map(cli, tmp_path, layer_cache):
    result = run(cli, "water", "--district", "永川", "-o", tmp_path / "永川.html")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "永川.html").read_text(encoding="utf-8")
    assert "永川区 · 水环境质量" in page and shows(page, "朱沱") and "示例数据" in page
    assert "永川.html" in result.output


def test_writes_a_png_with_options(cli, tmp_path, layer_cache):
    result = run(cli, "hydrogen", "--radius", 20000, "-o", tmp_path / "h2.png")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "h2.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_data_dir_replaces_a_layer(cli, tmp_path, layer_cache):
    data = tmp_path / "data"
    data.mkdir()
    (data / "h2_stations.csv").write_text("name,status,lon,lat\n自建测试站,运营,106.55,29.56\n", encoding="utf-8")
    result = run(cli, "hydrogen", "--data-dir", data, "-o", tmp_path / "h2.html")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "h2.html").read_text(encoding="utf-8")
    assert shows(page, "自建测试站") and not shows(page, "双溪综合能源站")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("water", "--district", "永州区"), "did you mean 永川区"),
        (("water", "--district", "永川区", "--basin", "琼江"), "one area"),
        (("water", "--target", "energy_intensity_gdp"), "no option target"),
        (("compliance", "--target", "cod_key_project_reduction"), "not per district"),
        (("parks", "--basemap", "tianditu"), "Tianditu"),
    ],
)
def test_usage_errors_exit_2_without_a_file(cli, tmp_path, args, message, layer_cache):
    result = run(cli, *args, "-o", tmp_path / "map.html")
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_unknown_suffix_and_theme(cli, tmp_path):
    result = run(cli, "water", "-o", tmp_path / "map.jpg")
    assert result.exit_code == 2 and ".png" in result.output
    result = run(cli, "energy", "-o", tmp_path / "map.html")
    assert result.exit_code == 2 and "overview" in result.output


def test_hydrogen_map_says_which_stations_it_counts(cli, tmp_path, layer_cache):
    for status in ("现状", "含规划"):
        result = run(cli, "hydrogen", "--status", status, "-o", tmp_path / f"{status}.html")
        assert result.exit_code == 0, result.output
        assert f"计入{status}（" in (tmp_path / f"{status}.html").read_text(encoding="utf-8")
    other = run(cli, "water", "--status", "含规划", "-o", tmp_path / "w.html")
    assert other.exit_code != 0 and "no option status" in other.output


@pytest.mark.parametrize("args", [["map", "water"], ["analyze", "green"], ["analyze", "rural-sewage"]])
def test_output_in_a_missing_folder_is_refused_before_any_work(tmp_path, args):
    from cqgis.cli.main import cli as cqgis_cli

    target = tmp_path / "没有的文件夹" / "out.xlsx"
    result = CliRunner().invoke(cqgis_cli, [*args, "-o", str(target)])
    assert result.exit_code == 2
    assert f"folder {target.parent} does not exist" in result.output
    assert not target.parent.exists()
