"""`import cqgis`: the documented Python API, loaded lazily, giving what the CLI gives."""

import html
import re
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner
from geopandas.testing import assert_geodataframe_equal

import cqgis
from cqgis.analysis import compliance, cross_border, rural_sewage
from cqgis.analysis.errors import AnalysisError
from cqgis.cli import main
from cqgis.cli.analyze import COMMANDS
from cqgis.geo import io
from cqgis.layers.errors import UnknownLayerError, UnknownPlaceError
from cqgis.maps import web
from cqgis.maps.errors import MapOptionError
from cqgis.maps.themes import Map

# A user's monitoring file as a wide table: two sections, two months.
USER_MEASUREMENTS = """断面名称,监测时间,溶解氧,高锰酸盐指数,氨氮,总磷
朱沱,2024-01,8.1,2.1,0.12,0.05
朱沱,2024-02,7.9,2.3,0.14,0.07
北温泉,2024-01,6.2,4.5,0.8,0.15
北温泉,2024-02,5.8,5.1,1.1,0.19
"""


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


def test_every_analyze_subcommand_has_an_api_function():
    # `upstream` is the command-line alias of `catchment`.
    names = {command.replace("-", "_") for command in COMMANDS} - {"upstream"}
    assert names <= set(cqgis.__all__)
    assert all(callable(getattr(cqgis, name)) for name in names)
    assert "layer" in dir(cqgis) and "map" in cqgis.__all__
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        cqgis.nothing  # noqa: B018


def test_api_rates_are_the_cli_workbook(tmp_path):
    output = tmp_path / "污水.xlsx"
    done = CliRunner().invoke(main.cli, ["analyze", "rural-sewage", "-o", str(output)])
    assert done.exit_code == 0, done.output
    sheet = pd.read_excel(output, sheet_name="区县治理率")
    rates = cqgis.rural_sewage()
    assert list(sheet["区县"]) == list(rates["district"])
    assert sheet["治理率(%)"].tolist() == pytest.approx(rates["rate_count"].tolist())
    assert (rates["precision"] == "synthetic").all()


def _sheet_as_written(frame: pd.DataFrame, path) -> pd.DataFrame:
    """A frame as it reads back from a workbook cell by cell, to compare with the CLI's workbook."""
    io.write_sheets({"表": frame}, path)
    return pd.read_excel(path, sheet_name="表")


@pytest.mark.parametrize(
    ("args", "sheet", "expected"),
    [
        (["rural-sewage"], "区县治理率", lambda: cqgis.rural_sewage().rename(columns=rural_sewage.RATE_LABELS)),
        (["cross-border"], "跨界断面", lambda: cqgis.cross_border().rename(columns=cross_border.SECTION_LABELS)),
        (["compliance"], "目标评估结果", lambda: cqgis.compliance().rename(columns=compliance.LABELS)),
    ],
    ids=["rural-sewage", "cross-border", "compliance"],
)
def test_cli_workbook_is_the_api_result(tmp_path, args, sheet, expected):
    output = tmp_path / "cli.xlsx"
    done = CliRunner().invoke(main.cli, ["analyze", *args, "-o", str(output)])
    assert done.exit_code == 0, done.output
    written = pd.read_excel(output, sheet_name=sheet)
    assert len(written) > 0
    pd.testing.assert_frame_equal(written, _sheet_as_written(expected(), tmp_path / "api.xlsx"))


def test_cli_coverage_is_the_api_result(tmp_path):
    output = tmp_path / "cli.gpkg"
    args = ["--facilities", "h2_stations", "--zones", "h2_zones", "--radius", "15000", "--status", "含在建"]
    done = CliRunner().invoke(main.cli, ["analyze", "coverage", *args, "-o", str(output)])
    assert done.exit_code == 0, done.output
    zones = cqgis.coverage("h2_stations", "h2_zones", radius_m=15000, status="含在建")
    assert zones["covered_km2"].sum() > 0
    io.write(zones, tmp_path / "api.gpkg")
    assert_geodataframe_equal(io.read(output), io.read(tmp_path / "api.gpkg"))


def test_water_quality_of_a_users_file_is_classed_and_credited(tmp_path):
    path = tmp_path / "水质.csv"
    path.write_text(USER_MEASUREMENTS, encoding="utf-8")
    results = cqgis.water_quality(path).set_index("section_name")
    # 朱沱: DO 8.0 (Ⅰ), CODMn 2.2 (Ⅱ), NH3-N 0.13 (Ⅰ), TP 0.06 (Ⅱ) -> Ⅱ, its target.
    # 北温泉: DO 6.0 (Ⅱ), CODMn 4.8, NH3-N 0.95, TP 0.17 (Ⅲ) -> Ⅲ.
    assert results.loc["朱沱", "class"] == "Ⅱ" and bool(results.loc["朱沱", "meets_target"])
    assert results.loc["北温泉", "class"] == "Ⅲ"
    assert results.loc["北温泉", "mean_nh3n"] == pytest.approx(0.95)
    assert results["source"].str.startswith("用户文件 水质.csv").all()
    assert set(results["precision"]) == {"approximate"}


def test_catchment_of_a_section_is_that_of_its_point():
    by_name = cqgis.catchment("朱沱")
    section = cqgis.layer("sections").set_index("name").loc["朱沱"]
    by_point = cqgis.catchment(at=(section.geometry.x, section.geometry.y), river="长江")
    assert by_name.area_km2 == by_point.area_km2
    provinces = by_name.shares[by_name.shares["level"] == "省"]
    assert provinces["pct"].sum() == pytest.approx(100.0)
    with pytest.raises(AnalysisError, match="no section has that name or code; did you mean 朱沱"):
        cqgis.catchment("朱陀")
    with pytest.raises(AnalysisError, match="exactly one of"):
        cqgis.catchment()


def test_catchment_river_is_a_traced_river_by_any_of_its_names():
    """A misspelt river must not silently snap the point to the nearest creek."""
    wushan = cqgis.layer("sections").set_index("name").loc["巫山乡"]
    at = (wushan.geometry.x, wushan.geometry.y)
    assert cqgis.catchment(at=at, river="澎溪河").river == cqgis.catchment(at=at, river="小江").river == "小江"
    with pytest.raises(UnknownPlaceError, match="did you mean 嘉陵江"):
        cqgis.catchment(at=(106.45, 29.85), river="嘉陵")


def test_coverage_counts_only_the_stations_of_the_status():
    operating = cqgis.coverage()
    planned = cqgis.coverage(status="含规划")
    assert set(operating["scenario"]) != set(planned["scenario"])
    assert operating["facilities"].sum() < planned["facilities"].sum()
    assert (planned["covered_km2"] >= operating["covered_km2"]).all()


def test_a_map_shows_inline_in_jupyter_without_network():
    chosen = cqgis.map("compliance")
    assert isinstance(chosen, Map) and chosen.title == chosen.spec.title
    assert repr(chosen).startswith("<cqgis Map '重庆市 · ")
    shown = chosen._repr_html_()
    assert shown.startswith('<iframe srcdoc="') and 'sandbox="allow-scripts"' in shown
    page = html.unescape(shown.split('srcdoc="', 1)[1].split('" sandbox=', 1)[0])
    # Escaped once: the attribute holds no raw quote that would end it early.
    assert '"' not in shown.split('srcdoc="', 1)[1].split('" sandbox=', 1)[0]
    assert page == web.build_html(chosen.spec)
    assert chosen.title in page and not re.search(r"https?://", page)
    # Only the Map object displays itself: the spec stays a description, free of the web renderer.
    assert not hasattr(chosen.spec, "_repr_html_")


def test_a_map_saves_as_the_cli_writes_it(tmp_path):
    chosen = cqgis.map("rural-sewage", district="潼南")
    saved = chosen.save(tmp_path / "api.html")
    done = CliRunner().invoke(main.cli, ["map", "rural-sewage", "--district", "潼南", "-o", str(tmp_path / "cli.html")])
    assert done.exit_code == 0, done.output
    assert saved.read_bytes() == (tmp_path / "cli.html").read_bytes()
    assert chosen.save(tmp_path / "api.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    chosen.save(tmp_path / "api.qgz")
    assert io.read(tmp_path / "api.gpkg", layer=chosen.spec.layers[-1].name_zh).crs.to_epsg() == 4326
    with pytest.raises(MapOptionError, match=r"cannot write api.txt: maps are written as .html"):
        chosen.save(tmp_path / "api.txt")
    with pytest.raises(MapOptionError, match="basemap"):
        cqgis.map("water", basemap="google")
