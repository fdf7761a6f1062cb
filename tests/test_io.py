"""Tests for geo.io: every reader and writer on files made here, encodings, CRS overrides, atomic writes."""

import importlib.util
import os
import sqlite3
import zipfile
from contextlib import closing

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely

from cqgis.geo import crs, io
from cqgis.geo.errors import CRSError, ReadError, WriteError

# 解放碑, 观音桥 and 北碚 in WGS84.
LON = np.array([106.5775, 106.5306, 106.3960])
LAT = np.array([29.5572, 29.5790, 29.8056])
NAMES = ["解放碑", "观音桥", "北碚区政府"]


def _points(lon=LON, lat=LAT, epsg=4326) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"名称": NAMES, "编号": [1, 2, 3]},
        geometry=gpd.points_from_xy(lon, lat),
        crs=f"EPSG:{epsg}",
    )


def _districts() -> gpd.GeoDataFrame:
    squares = [shapely.box(106.0, 29.0, 106.5, 29.5), shapely.box(107.0, 30.0, 107.3, 30.4)]
    return gpd.GeoDataFrame({"区县": ["甲区", "乙县"]}, geometry=squares, crs="EPSG:4326")


def _assert_points(frame, lon=LON, lat=LAT, atol=1e-9):
    assert frame.crs.to_epsg() == 4326
    np.testing.assert_allclose(frame.geometry.x, lon, rtol=0, atol=atol)
    np.testing.assert_allclose(frame.geometry.y, lat, rtol=0, atol=atol)


def _write_csv(path, text, encoding="utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def _shapefile(folder, encoding, name="站点"):
    folder.mkdir(exist_ok=True)
    shp = folder / f"{name}.shp"
    pyogrio.write_dataframe(_points(), shp, encoding=encoding)
    return shp


# --- vector readers -------------------------------------------------------


VECTOR_WRITERS = {
    "points.gpkg": lambda frame, path: pyogrio.write_dataframe(frame, path),
    "points.shp": lambda frame, path: pyogrio.write_dataframe(frame, path, encoding="UTF-8"),
    "points.geojson": lambda frame, path: pyogrio.write_dataframe(frame, path),
    "points.fgb": lambda frame, path: pyogrio.write_dataframe(frame, path),
    "points.parquet": lambda frame, path: frame.to_parquet(path),
}


@pytest.mark.parametrize("name", sorted(VECTOR_WRITERS))
def test_read_vector_reads_each_format(tmp_path, name):
    path = tmp_path / name
    VECTOR_WRITERS[name](_points(), path)
    for frame in (io.read_vector(path), io.read(path)):
        _assert_points(frame)
        assert frame["名称"].tolist() == NAMES
        assert frame["编号"].tolist() == [1, 2, 3]


def test_geopackage_layers_are_listed_and_chosen(tmp_path):
    path = tmp_path / "两层.gpkg"
    pyogrio.write_dataframe(_points(), path, layer="站点")
    pyogrio.write_dataframe(_districts(), path, layer="区界")
    assert io.list_layers(path) == ["站点", "区界"]
    districts = io.read_vector(path, layer="区界")
    assert districts["区县"].tolist() == ["甲区", "乙县"]
    assert shapely.equals_exact(districts.geometry.array, _districts().geometry.array, 0).all()
    _assert_points(io.read(path, layer="站点"))


def test_ambiguous_or_unknown_layer_is_an_error(tmp_path):
    path = tmp_path / "两层.gpkg"
    pyogrio.write_dataframe(_points(), path, layer="站点")
    pyogrio.write_dataframe(_districts(), path, layer="区界")
    with pytest.raises(ReadError, match="2 layers .*站点, 区界.*--layer"):
        io.read_vector(path)
    with pytest.raises(ReadError, match="no layer '河流'; its layers are: 站点, 区界"):
        io.read_vector(path, layer="河流")


def test_zipped_shapefile_is_read_through_vsizip(tmp_path):
    shp = _shapefile(tmp_path / "parts", "UTF-8")
    archive = tmp_path / "站点.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in shp.parent.iterdir():
            zipped.write(part, f"数据/{part.name}")
    assert io.list_layers(archive) == ["站点"]
    frame = io.read(archive)
    _assert_points(frame)
    assert frame["名称"].tolist() == NAMES


def test_zip_of_several_shapefiles_needs_a_layer(tmp_path):
    archive = tmp_path / "两个.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name in ("甲", "乙"):
            for part in _shapefile(tmp_path / name, "UTF-8", name).parent.iterdir():
                zipped.write(part, part.name)
    with pytest.raises(ReadError, match="--layer"):
        io.read(archive)
    assert io.read(archive, layer="乙")["名称"].tolist() == NAMES


@pytest.mark.parametrize("encoding", ["GBK", "UTF-8"])
def test_shapefile_without_cpg_is_decoded_by_guessing(tmp_path, encoding):
    shp = _shapefile(tmp_path, encoding)
    (tmp_path / "站点.cpg").unlink()
    # GDAL alone falls back to Latin-1 and garbles the Chinese field name.
    assert "名称" not in pyogrio.read_dataframe(shp).columns
    frame = io.read_vector(shp)
    assert frame["名称"].tolist() == NAMES
    streamed = [feature.properties["名称"] for feature in io.iter_features(shp)]
    assert streamed == NAMES


def test_gbk_shapefile_without_cpg_inside_a_zip(tmp_path):
    shp = _shapefile(tmp_path / "parts", "GBK")
    archive = tmp_path / "gbk.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in shp.parent.iterdir():
            if part.suffix != ".cpg":
                zipped.write(part, part.name)
    assert io.read(archive)["名称"].tolist() == NAMES


def test_cpg_wins_over_the_guess(tmp_path):
    # The Latin-1 bytes of "Àé" (C0 E9) are also valid GB18030, so the guess
    # alone would decode them as a Chinese character.
    shp = tmp_path / "latin.shp"
    frame = gpd.GeoDataFrame({"name": ["Àé"]}, geometry=[shapely.Point(106.5, 29.5)], crs=4326)
    pyogrio.write_dataframe(frame, shp, encoding="ISO-8859-1")
    assert (tmp_path / "latin.cpg").exists()
    assert io.read_vector(shp)["name"].tolist() == ["Àé"]
    (tmp_path / "latin.cpg").unlink()
    assert io.read_vector(shp)["name"].tolist() != ["Àé"]


def test_file_without_crs_asks_for_one(tmp_path):
    shp = _shapefile(tmp_path, "UTF-8")
    (tmp_path / "站点.prj").unlink()
    with pytest.raises(CRSError, match="站点.shp has no coordinate system.*--crs"):
        io.read_vector(shp)
    _assert_points(io.read_vector(shp, crs="cgcs2000"))


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_crs_override_moves_points_by_the_offset(tmp_path, system):
    off_lon, off_lat = crs.convert_coords(LON, LAT, "wgs84", system)
    path = tmp_path / "amap.geojson"
    # Makers of GCJ-02 and BD-09 files label them EPSG:4326.
    pyogrio.write_dataframe(_points(off_lon, off_lat), path)
    as_labelled = io.read_vector(path)
    _assert_points(as_labelled, off_lon, off_lat)
    corrected = io.read_vector(path, crs=system)
    _assert_points(corrected, atol=1e-7)
    metric = crs.metric_crs("distance")
    shift = as_labelled.to_crs(metric).distance(corrected.to_crs(metric))
    # In Chongqing GCJ-02 lies ~0.5 km from WGS84 and BD-09 ~1 km further.
    low, high = (300, 700) if system == "gcj02" else (700, 1500)
    assert shift.between(low, high).all(), shift.tolist()


def test_projected_file_comes_out_in_wgs84(tmp_path):
    path = tmp_path / "cgcs2000_gk.gpkg"
    pyogrio.write_dataframe(_points().to_crs(4545), path)
    _assert_points(io.read_vector(path), atol=1e-8)


def test_iter_features_streams_lazily_and_checks_eagerly(tmp_path):
    path = tmp_path / "两层.gpkg"
    pyogrio.write_dataframe(_points(), path, layer="站点")
    pyogrio.write_dataframe(_districts(), path, layer="区界")
    features = io.iter_features(path, layer="区界")
    first = next(features)
    assert first.properties["区县"] == "甲区"
    assert [f.properties["区县"] for f in features] == ["乙县"]
    with pytest.raises(ReadError, match="no such file"):
        io.iter_features(tmp_path / "没有.gpkg")
    with pytest.raises(ReadError, match="--layer"):
        io.iter_features(path)


# --- tables -------------------------------------------------------------------

CSV_TEXT = (
    "名称,经度,纬度,备注\n"
    "解放碑,106.5775,29.5572,商圈\n"
    "观音桥,106.5306,29.5790,\n"
    "北碚区政府,106.3960,29.8056,区政府\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_in_each_encoding(tmp_path, encoding):
    frame = io.read_table(_write_csv(tmp_path / "站点.csv", CSV_TEXT, encoding))
    assert frame.columns.tolist() == ["名称", "经度", "纬度", "备注", "geometry"]
    assert frame["名称"].tolist() == NAMES
    assert frame["备注"].iloc[0] == "商圈"
    _assert_points(frame)
    assert frame.attrs[io.COORDINATE_COLUMNS] == ("经度", "纬度")


def test_attrs_hold_only_the_coordinate_column_names(tmp_path):
    # pandas deep-copies attrs into every derived frame: nothing large may live there.
    from cqgis.geo import validate

    path = _write_csv(tmp_path / "站点.csv", CSV_TEXT, "utf-8")
    expected = {io.COORDINATE_COLUMNS: ("经度", "纬度")}
    assert io.read_table(path).attrs == expected
    assert validate.validate_file(path).frame.attrs == expected


def test_usual_english_names_are_found_case_insensitively(tmp_path):
    text = "Name\tLNG\t Lat \n" + "".join(f"p{i}\t{x}\t{y}\n" for i, (x, y) in enumerate(zip(LON, LAT)))
    frame = io.read(_write_csv(tmp_path / "tabbed.txt", text))
    _assert_points(frame)
    assert frame.columns.tolist()[:3] == ["Name", "LNG", " Lat "]


def test_lon_and_lat_beat_x_and_y(tmp_path):
    rows = "".join(f"{x},{y},500000,3300000\n" for x, y in zip(LON, LAT))
    frame = io.read_table(_write_csv(tmp_path / "both.csv", "Longitude,Latitude,X,Y\n" + rows))
    _assert_points(frame)


def test_explicit_columns_override(tmp_path):
    rows = "".join(f"{x},{y},0,0\n" for x, y in zip(LON, LAT))
    text = "经度(WGS84),纬度(WGS84),经度,纬度\n" + rows
    frame = io.read_table(_write_csv(tmp_path / "own.csv", text), lon="经度(WGS84)", lat="纬度(WGS84)")
    _assert_points(frame)
    with pytest.raises(ReadError, match="no column 'lng' for the longitude"):
        io.read_table(tmp_path / "own.csv", lon="lng")


def test_projected_table_with_epsg_code(tmp_path):
    projected = _points().to_crs(4545)
    rows = "".join(f"{x!r},{y!r}\n" for x, y in zip(projected.geometry.x, projected.geometry.y))
    frame = io.read_table(_write_csv(tmp_path / "gk.csv", "x,y\n" + rows), crs=4545)
    _assert_points(frame, atol=1e-8)
    # The coordinate columns now hold the WGS84 position the geometry has.
    np.testing.assert_allclose(frame["x"], frame.geometry.x, rtol=0, atol=0)


def test_gcj02_table_is_converted_and_its_columns_follow(tmp_path):
    g_lon, g_lat = crs.convert_coords(LON, LAT, "wgs84", "gcj02")
    rows = "".join(f"{n},{float(x)!r},{float(y)!r}\n" for n, x, y in zip(NAMES, g_lon, g_lat))
    frame = io.read_table(_write_csv(tmp_path / "amap.csv", "名称,lng,lat\n" + rows), crs="gcj02")
    expected = crs.convert_coords(g_lon, g_lat, "gcj02", "wgs84")
    _assert_points(frame, *expected, atol=0)
    np.testing.assert_array_equal(frame["lng"], expected[0])
    np.testing.assert_array_equal(frame["lat"], expected[1])


def _workbook(path, sheets):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def _station_rows():
    return [["站点名称", "经度", "纬度"], *([n, x, y] for n, x, y in zip(NAMES, LON, LAT))]


def test_xlsx_with_chinese_headers_and_sheets(tmp_path):
    path = _workbook(
        tmp_path / "监测站.xlsx",
        {"说明": [["本表为示例"]], "站点": _station_rows()},
    )
    with pytest.raises(ReadError, match=r"sheet '说明' \(other sheets: 站点\) has a header row \(本表为示例\) but no data"):
        io.read(path)
    frame = io.read(path, layer="站点")
    assert frame.columns.tolist() == ["站点名称", "经度", "纬度", "geometry"]
    assert frame["站点名称"].tolist() == NAMES
    _assert_points(frame)
    with pytest.raises(ReadError, match="no sheet '水质'; its sheets are: 说明, 站点"):
        io.read_table(path, sheet="水质")


def test_bad_csv_cell_names_row_column_and_value(tmp_path):
    text = "名称,经度,纬度\n甲,106.5,29.5\n乙,abc,29.6\n丙,东经106,29.7\n"
    with pytest.raises(ReadError) as caught:
        io.read(_write_csv(tmp_path / "bad.csv", text))
    message = str(caught.value)
    assert message == (
        "bad.csv row 3, column 经度: expected a number, got 'abc' (1 more bad cell in this column)"
    )


def test_blank_cell_is_reported_after_blank_rows_keep_numbering(tmp_path):
    text = "名称,经度,纬度\n甲,106.5,29.5\n\n,,\n乙,106.6,\n"
    with pytest.raises(ReadError, match=r"^blank.csv row 5, column 纬度: expected a number, got a blank cell$"):
        io.read(_write_csv(tmp_path / "blank.csv", text))


def test_swapped_coordinates_are_out_of_range(tmp_path):
    text = "lon,lat\n29.5,106.5\n"
    with pytest.raises(ReadError, match="row 2, column lat: expected a latitude in degrees between -90 and 90, got 106.5"):
        io.read(_write_csv(tmp_path / "swapped.csv", text))


def test_bad_xlsx_cell_is_numbered_as_excel_shows_it(tmp_path):
    rows = _station_rows()
    rows[3][1] = "待补充"
    path = _workbook(tmp_path / "站点.xlsx", {"Sheet1": rows})
    with pytest.raises(ReadError, match="站点.xlsx row 4, column 经度: expected a number, got '待补充'"):
        io.read(path)


def test_table_without_coordinates_lists_its_columns(tmp_path):
    with pytest.raises(ReadError, match="no longitude column.*--lon NAME.*名称, 地址"):
        io.read(_write_csv(tmp_path / "地址.csv", "名称,地址\n甲,渝中区\n"))


# --- dispatch and errors ------------------------------------------------------


def test_read_rejects_missing_unknown_and_mismatched_inputs(tmp_path):
    with pytest.raises(ReadError, match="no such file"):
        io.read(tmp_path / "没有.csv")
    (tmp_path / "map.kml").write_text("<kml/>", encoding="utf-8")
    with pytest.raises(ReadError, match=r"does not read '\.kml' files; it reads \.gpkg"):
        io.read(tmp_path / "map.kml")
    gpkg = tmp_path / "p.gpkg"
    pyogrio.write_dataframe(_points(), gpkg)
    with pytest.raises(ReadError, match="--lon, --lat and --header-row apply only to CSV and Excel"):
        io.read(gpkg, lon="x")
    csv = _write_csv(tmp_path / "p.csv", CSV_TEXT)
    with pytest.raises(ReadError, match="has no sheets"):
        io.read(csv, layer="Sheet1")
    with pytest.raises(ReadError, match="read it with read_table"):
        io.read_vector(csv)
    (tmp_path / "broken.gpkg").write_bytes(b"not a geopackage")
    with pytest.raises(ReadError, match="cannot read .*broken.gpkg"):
        io.read(tmp_path / "broken.gpkg")


def test_old_excel_without_xlrd_says_what_to_do(tmp_path):
    if importlib.util.find_spec("xlrd") is not None:
        pytest.skip("xlrd is installed, so .xls files are readable")
    (tmp_path / "旧.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ReadError, match="need the xlrd package, which is not installed; save the workbook as .xlsx"):
        io.read(tmp_path / "旧.xls")


def test_format_table_is_consistent():
    assert set(io.WRITE_EXTENSIONS) < set(io.READ_EXTENSIONS)
    assert all(ext == ext.lower() and ext.startswith(".") for ext in io.READ_EXTENSIONS)
    assert {".shp", ".zip", ".xls", ".txt"}.isdisjoint(io.WRITE_EXTENSIONS)


# --- writing --------------------------------------------------------------------


@pytest.mark.parametrize("ext", io.WRITE_EXTENSIONS)
def test_every_writable_format_round_trips(tmp_path, ext):
    path = io.write(_points(), tmp_path / f"站点{ext}")
    assert sorted(os.listdir(tmp_path)) == [path.name]
    frame = io.read(path)
    assert frame["名称"].tolist() == NAMES
    assert frame["编号"].tolist() == [1, 2, 3]
    _assert_points(frame, atol=0)


def test_points_to_table_get_lon_lat_and_tables_keep_their_columns(tmp_path):
    written = pd.read_csv(io.write(_points(), tmp_path / "p.csv"), encoding="utf-8-sig")
    assert written.columns.tolist() == ["名称", "编号", "lon", "lat"]
    source = _write_csv(tmp_path / "站点.csv", CSV_TEXT)
    copy = io.write(io.read(source), tmp_path / "copy.xlsx")
    assert pd.read_excel(copy).columns.tolist() == ["名称", "经度", "纬度", "备注"]


def test_other_geometries_go_to_a_wkt_column(tmp_path):
    path = io.write(_districts(), tmp_path / "区界.csv")
    table = pd.read_csv(path, encoding="utf-8-sig")
    assert table.columns.tolist() == ["区县", "wkt"]
    assert shapely.equals_exact(shapely.from_wkt(table["wkt"]), _districts().geometry.array, 0).all()


def test_writing_a_layer_keeps_the_other_layers(tmp_path):
    path = tmp_path / "合集.gpkg"
    io.write(_points(), path, layer="站点")
    io.write(_districts(), path, layer="区界")
    io.write(_points().iloc[:1], path, layer="站点")
    assert sorted(io.list_layers(path)) == ["区界", "站点"]
    assert len(io.read(path, layer="站点")) == 1
    io.write(_districts(), path)
    assert io.list_layers(path) == ["合集"]


def test_write_refuses_unknown_formats_and_missing_folders(tmp_path):
    with pytest.raises(WriteError, match="cannot write out.shp: cqgis writes .gpkg"):
        io.write(_points(), tmp_path / "out.shp")
    with pytest.raises(WriteError, match="does not exist"):
        io.write(_points(), tmp_path / "没有" / "out.gpkg")
    assert os.listdir(tmp_path) == []


def _unwritable() -> gpd.GeoDataFrame:
    frame = _points()
    frame["复数"] = [1 + 2j, 3j, 0j]
    return frame


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(WriteError, match="cannot write .*out.gpkg: .*complex"):
        io.write(_unwritable(), tmp_path / "out.gpkg")
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_the_existing_target(tmp_path):
    target = io.write(_districts(), tmp_path / "out.gpkg")
    before = target.read_bytes()
    for layer in (None, "区界"):
        with pytest.raises(WriteError):
            io.write(_unwritable(), target, layer=layer)
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.gpkg"]


def test_writer_failing_midway_leaves_no_temp_file(tmp_path, monkeypatch):
    seen = []

    def half_write(self, path, **kwargs):
        seen.append(path)
        path.write_text("名称,经度\n解放", encoding="utf-8")
        raise OSError("No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", half_write)
    target = tmp_path / "out.csv"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(WriteError, match="No space left on device"):
        io.write(_points(), target)
    assert seen and seen[0].name.startswith(".out.csv.") and seen[0].name.endswith(".tmp.csv")
    assert os.listdir(tmp_path) == ["out.csv"]
    assert target.read_text(encoding="utf-8") == "old"


def test_interrupted_write_cleans_up_and_is_not_swallowed(tmp_path, monkeypatch):
    def interrupted(frame, path, **kwargs):
        path.write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(pyogrio, "write_dataframe", interrupted)
    with pytest.raises(KeyboardInterrupt):
        io.write(_points(), tmp_path / "out.geojson")
    assert os.listdir(tmp_path) == []


def test_write_sheets_writes_every_sheet_atomically(tmp_path):
    target = tmp_path / "结果.xlsx"
    io.write_sheets({"区县": pd.DataFrame({"名称": ["万州区"], "值": [1.5]}), "全市": pd.DataFrame({"n": [38]})}, target)
    book = pd.read_excel(target, sheet_name=None)
    assert list(book) == ["区县", "全市"]
    assert book["区县"]["名称"].tolist() == ["万州区"]
    # A sheet name Excel forbids fails the whole workbook after a good sheet; the old file stays.
    with pytest.raises(WriteError):
        io.write_sheets({"好": pd.DataFrame({"x": [1]}), "坏/名": pd.DataFrame({"x": [2]})}, target)
    assert list(pd.read_excel(target, sheet_name=None)) == ["区县", "全市"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["结果.xlsx"]
    with pytest.raises(WriteError, match="must be .xlsx"):
        io.write_sheets({"a": pd.DataFrame()}, tmp_path / "x.csv")


def test_plain_tables_write_to_table_formats_only(tmp_path):
    table = pd.DataFrame({"指标": ["绿色园区"], "目标": [30]})
    for name in ("t.csv", "t.xlsx", "t.parquet"):
        io.write(table, tmp_path / name)
    assert pd.read_csv(tmp_path / "t.csv", encoding="utf-8-sig")["指标"].tolist() == ["绿色园区"]
    assert pd.read_parquet(tmp_path / "t.parquet")["目标"].tolist() == [30]
    with pytest.raises(WriteError, match="without geometry"):
        io.write(table, tmp_path / "t.gpkg")
    assert not (tmp_path / "t.gpkg").exists()


def test_geopackages_are_byte_identical_and_write_layers_replaces_the_file(tmp_path):
    frame = gpd.GeoDataFrame({"名称": ["甲"]}, geometry=[shapely.Point(106.5, 29.5)], crs="EPSG:4326")
    first, second = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    io.write_layers({"一": frame, "二": frame}, first)
    io.write_layers({"一": frame, "二": frame}, second)
    assert first.read_bytes() == second.read_bytes()
    io.write_layers({"三": frame}, first)
    assert io.list_layers(first) == ["三"]
    with pytest.raises(WriteError, match="GeoPackage"):
        io.write_layers({"一": frame}, tmp_path / "x.geojson")


def test_excel_refuses_cells_it_would_cut(tmp_path):
    detailed = shapely.Point(106.5, 29.5).buffer(0.1, quad_segs=2000)
    frame = gpd.GeoDataFrame({"名称": ["甲"]}, geometry=[detailed], crs="EPSG:4326")
    with pytest.raises(WriteError, match="longer than Excel's 32,767 characters"):
        io.write(frame, tmp_path / "x.xlsx")
    with pytest.raises(WriteError, match="longer than Excel's"):
        io.write_sheets({"区县": frame}, tmp_path / "y.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_degrees_declared_as_a_projected_crs_are_refused(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("name,lon,lat\n朱沱,105.853,29.016\n", encoding="utf-8")
    with pytest.raises(CRSError, match="look like degrees"):
        io.read(path, crs=4547)
    metres = tmp_path / "m.csv"
    metres.write_text("name,x,y\n甲,456000,3267000\n", encoding="utf-8")
    assert len(io.read(metres, crs=4545)) == 1


def test_geopackages_are_version_1_2_for_older_readers(tmp_path):
    frame = gpd.GeoDataFrame({"名称": ["甲"]}, geometry=[shapely.Point(106.5, 29.5)], crs="EPSG:4326")
    one = io.write(frame, tmp_path / "one.gpkg")
    several = io.write_layers({"一": frame, "二": frame}, tmp_path / "several.gpkg")
    io.write(frame, several, layer="三")
    for path in (one, several):
        with closing(sqlite3.connect(path)) as db:
            assert db.execute("PRAGMA application_id").fetchone()[0] == int.from_bytes(b"GPKG", "big")
            assert db.execute("PRAGMA user_version").fetchone()[0] == 10200


def test_styles_go_to_layer_styles_as_defaults_and_survive_other_layers(tmp_path):
    frame = gpd.GeoDataFrame({"名称": ["甲"]}, geometry=[shapely.Point(106.5, 29.5)], crs="EPSG:4326")
    path = io.write_layers({"一": frame, "二": frame}, tmp_path / "s.gpkg", styles={"一": "<qgis a='1'/>"})
    io.write(frame, path, layer="二", style="<qgis b='2'/>")
    io.write(frame, path, layer="一", style="<qgis c='3'/>")
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute(
            "SELECT f_table_schema, f_table_name, f_geometry_column, styleQML, useAsDefault, update_time "
            "FROM layer_styles ORDER BY f_table_name"
        ).fetchall()
    assert rows == [
        ("", "一", "geom", "<qgis c='3'/>", 1, "2000-01-01T00:00:00.000Z"),
        ("", "二", "geom", "<qgis b='2'/>", 1, "2000-01-01T00:00:00.000Z"),
    ]
    assert sorted(io.list_layers(path)) == ["一", "二"]
    # The style table is no layer: a one-layer file still reads without naming it.
    assert len(io.read(io.write(frame, tmp_path / "one.gpkg", style="<qgis/>"))) == 1
    again = io.write_layers({"一": frame, "二": frame}, tmp_path / "t.gpkg", styles={"一": "<qgis a='1'/>"})
    assert again.read_bytes() == io.write_layers(
        {"一": frame, "二": frame}, tmp_path / "u.gpkg", styles={"一": "<qgis a='1'/>"}
    ).read_bytes()


def test_blocks_convert_as_the_whole_table_and_keep_cells(tmp_path):
    path = _write_csv(
        tmp_path / "b.csv",
        "标题\n编号,名称,经度,纬度,值\n" + "".join(f"{i:05d},站{i},{106 + i / 100},{29 + i / 100},1.50\n" for i in range(7)),
    )
    whole = io.read_table(path, crs="gcj02")
    blocks = list(io.iter_table(path, crs="gcj02", rows=3))
    assert sum(len(block) for block in blocks) == 7 and max(len(block) for block in blocks) <= 3
    assert [row for block in blocks for row in io.row_numbers(block)] == list(range(3, 10))
    joined = pd.concat(blocks, ignore_index=True)
    np.testing.assert_array_equal(joined["经度"], whole["经度"])
    out = tmp_path / "out.csv"
    assert io.write_blocks(iter(blocks), out) == 7
    written = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert written["编号"].tolist() == [f"{i:05d}" for i in range(7)]
    assert written["值"].tolist() == ["1.50"] * 7
    assert out.read_bytes().count(b"\xef\xbb\xbf") == 1


def test_a_bad_cell_in_a_later_block_leaves_no_output(tmp_path):
    path = _write_csv(tmp_path / "b.csv", "名称,经度,纬度\n" + "甲,106.5,29.5\n" * 5 + "乙,abc,29.6\n")
    out = tmp_path / "out.csv"
    with pytest.raises(ReadError, match="row 7, column 经度"):
        io.write_blocks(io.iter_table(path, rows=2), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.csv"]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([["名称", "经度", "纬度"], ["甲", 106.5, 29.5]], 0),
        ([["2025年监测数据", None, None], ["单位：mg/L", None, None], ["断面名称", "溶解氧", "氨氮"], ["朱沱", 7.1, 0.3]], 2),
        # 名称 merged down over two rows, 位置 merged across two columns: the header ends on the lower row.
        ([["名称", "位置", None], [None, "经度", "纬度"], ["甲", 106.5, 29.5]], 1),
        # A table whose rows are all text (a class-only report) keeps its first row as the header.
        ([["断面名称", "本月", "目标"], ["朱沱", "Ⅱ", "Ⅲ"], ["北碚", "Ⅲ", "Ⅲ"]], 0),
        ([[1, 2, 3], [4, 5, 6]], 0),
    ],
)
def test_find_header_row(rows, expected):
    assert io.find_header_row(pd.DataFrame(rows, dtype=object)) == expected


def test_excel_serial_dates_only_for_day_numbers():
    dates = io.excel_serial_dates(pd.Series([45717, None, "45931"], dtype=object))
    assert [d.date().isoformat() if not pd.isna(d) else None for d in dates] == ["2025-03-01", None, "2025-10-01"]
    assert io.excel_serial_dates(pd.Series([2024, 2025])) is None
    assert io.excel_serial_dates(pd.Series(["2025-03", 45717], dtype=object)) is None


def test_a_named_sheet_replaces_that_sheet_and_keeps_the_others(tmp_path):
    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "手工"
    book.active.append(["不要删"])
    book.create_sheet("结果").append(["旧"])
    book.save(path)
    io.write(_points(), path, layer="结果")
    kept = openpyxl.load_workbook(path)
    assert kept.sheetnames == ["手工", "结果"]
    assert kept["手工"]["A1"].value == "不要删"
    assert kept["结果"]["A1"].value == "名称"
    with pytest.raises(WriteError, match=r"holds sheets this output does not write \(手工, 结果\)"):
        io.write(_points(), path)
    assert openpyxl.load_workbook(path).sheetnames == ["手工", "结果"]
