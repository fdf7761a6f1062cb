"""Tests for `cqgis convert`: tables keep their columns, vectors round-trip, errors are one line."""

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from click.testing import CliRunner

from cqgis.cli import main
from cqgis.geo import crs, io

# 解放碑, 朝天门 and 北碚 as Amap (GCJ-02) gives them.
GCJ_LON = [106.581788, 106.588367, 106.402212]
GCJ_LAT = [29.554374, 29.563716, 29.802917]


def _convert(*args):
    return CliRunner().invoke(main.cli, ["convert", *map(str, args)])


def _gcj_csv(path):
    lines = ["名称,经度,纬度,备注"]
    lines += [f"站{i},{x},{y},备注{i}" for i, (x, y) in enumerate(zip(GCJ_LON, GCJ_LAT))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_csv_gcj02_to_wgs84_rewrites_coordinates_in_place(tmp_path):
    out = tmp_path / "站点_wgs84.csv"
    result = _convert(_gcj_csv(tmp_path / "站点.csv"), "-o", out, "--from", "gcj02", "--to", "wgs84")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, encoding="utf-8-sig")
    assert table.columns.tolist() == ["名称", "经度", "纬度", "备注"]
    assert table["名称"].tolist() == ["站0", "站1", "站2"]
    assert table["备注"].tolist() == ["备注0", "备注1", "备注2"]
    lon, lat = crs.convert_coords(GCJ_LON, GCJ_LAT, "gcj02", "wgs84")
    np.testing.assert_allclose(table["经度"], lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(table["纬度"], lat, rtol=0, atol=1e-12)
    # The offset in Chongqing is a few hundred metres: the values really moved.
    assert (np.abs(table["经度"] - GCJ_LON) > 2e-3).all()


def test_geojson_round_trip_gcj02_wgs84_gcj02(tmp_path):
    original = gpd.GeoDataFrame(
        {"名称": ["解放碑", "朝天门", "北碚"], "等级": [1, 2, 3]},
        geometry=gpd.points_from_xy(GCJ_LON, GCJ_LAT),
        crs="EPSG:4326",
    )
    source = tmp_path / "amap.geojson"
    pyogrio.write_dataframe(original, source)
    wgs, back = tmp_path / "wgs.geojson", tmp_path / "back.geojson"
    assert _convert(source, "-o", wgs, "--from", "gcj02", "--to", "wgs84").exit_code == 0
    assert _convert(wgs, "-o", back, "--from", "wgs84", "--to", "gcj02").exit_code == 0
    middle = pyogrio.read_dataframe(wgs)
    assert (np.abs(middle.geometry.x - GCJ_LON) > 2e-3).all()
    result = pyogrio.read_dataframe(back)
    assert result["名称"].tolist() == ["解放碑", "朝天门", "北碚"]
    assert result["等级"].tolist() == [1, 2, 3]
    np.testing.assert_allclose(result.geometry.x, GCJ_LON, rtol=0, atol=1e-7)
    np.testing.assert_allclose(result.geometry.y, GCJ_LAT, rtol=0, atol=1e-7)


def test_xlsx_bd09_to_gcj02_keeps_the_sheet_columns(tmp_path):
    source = tmp_path / "百度.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", "lng", "站点名称", "lat"])
    for i, (x, y) in enumerate(zip(GCJ_LON, GCJ_LAT), start=1):
        sheet.append([i, x, f"站{i}", y])
    book.save(source)
    out = tmp_path / "高德.xlsx"
    result = _convert(source, "-o", out, "--from", "baidu", "--to", "gcj02")
    assert result.exit_code == 0, result.output
    table = pd.read_excel(out)
    assert table.columns.tolist() == ["序号", "lng", "站点名称", "lat"]
    assert table["站点名称"].tolist() == ["站1", "站2", "站3"]
    lon, lat = crs.convert_coords(GCJ_LON, GCJ_LAT, "bd09", "gcj02")
    np.testing.assert_allclose(table["lng"], lon, rtol=0, atol=1e-12)
    np.testing.assert_allclose(table["lat"], lat, rtol=0, atol=1e-12)


def test_table_to_geopackage_keeps_columns_in_line_with_geometry(tmp_path):
    out = tmp_path / "站点.gpkg"
    result = _convert(_gcj_csv(tmp_path / "站点.csv"), "-o", out, "--from", "gcj02", "--to", "bd09")
    assert result.exit_code == 0, result.output
    frame = pyogrio.read_dataframe(out)
    assert frame.columns.tolist() == ["名称", "经度", "纬度", "备注", "geometry"]
    lon, lat = crs.convert_coords(GCJ_LON, GCJ_LAT, "gcj02", "bd09")
    np.testing.assert_allclose(frame.geometry.x, lon, rtol=0, atol=1e-9)
    np.testing.assert_allclose(frame["经度"], frame.geometry.x, rtol=0, atol=0)
    np.testing.assert_allclose(frame["纬度"], frame.geometry.y, rtol=0, atol=0)


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["没有.csv", "-o", "out.csv"], 1, "Error: 没有.csv: no such file"),
        (["in.csv", "-o", "out.csv", "--to", "mars"], 2, "Error: unknown coordinate system 'mars'"),
        (["in.csv", "-o", "out.kml"], 1, "Error: cannot write out.kml: cqgis writes .gpkg"),
        (["bad.csv", "-o", "out.csv"], 1, "Error: bad.csv row 3, column 纬度: expected a number, got '北纬29'"),
    ],
)
def test_errors_are_one_clean_line(tmp_path, monkeypatch, args, code, message):
    monkeypatch.chdir(tmp_path)
    _gcj_csv(tmp_path / "in.csv")
    (tmp_path / "bad.csv").write_text("名称,经度,纬度\n甲,106.5,29.5\n乙,106.6,北纬29\n", encoding="utf-8")
    result = _convert(*args)
    assert result.exit_code == code
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert result.output.startswith(message)
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "in.csv"]


def test_help_lists_the_formats():
    result = CliRunner().invoke(main.cli, ["convert", "--help"])
    assert result.exit_code == 0
    for ext in io.READ_EXTENSIONS:
        assert ext in result.output
