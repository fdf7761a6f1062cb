"""Validation reports: every problem kind, with the row and column a user can find."""

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import Point, Polygon

from cqgis.cli import main
from cqgis.geo import crs, validate


def _kinds(report):
    return {(p.kind, p.row, p.column) for p in report.problems}


def _csv(tmp_path, text, name="points.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_clean_table_has_no_problems(tmp_path):
    path = _csv(tmp_path, "编号,名称,经度,纬度\n1,朱沱,105.85,29.02\n2,寸滩,106.60,29.61\n")
    report = validate.validate_file(path)
    assert report.ok
    assert report.rows == 2
    assert "no problems" in report.format()


def test_table_cells_are_reported_with_spreadsheet_rows(tmp_path):
    path = _csv(
        tmp_path,
        "编号,经度,纬度\n"
        "1,106.55,29.56\n"  # row 2: fine
        "2,29.56,106.55\n"  # row 3: swapped
        "3,,\n"  # row 4: blank
        "4,abc,29.5\n"  # row 5: text
        "5,500000,3300000\n"  # row 6: metres
        "6,120.5,45.0\n"  # row 7: outside the region
        "6,106.0,30.0\n",  # row 8: duplicate id with row 7
    )
    report = validate.validate_file(path)
    assert _kinds(report) == {
        ("swapped_coordinates", 3, None),
        ("null_geometry", 4, None),
        ("not_a_number", 5, "经度"),
        ("projected_coordinates", 6, "经度/纬度"),
        ("outside_region", 7, None),
        ("duplicate_id", 7, "编号"),
        ("duplicate_id", 8, "编号"),
    }
    # Unusable rows are kept, without a point; the rest are in WGS84.
    assert report.frame.geometry.isna().sum() == 3
    assert report.frame.geometry.iloc[0].equals(Point(106.55, 29.56))


def test_gcj02_table_is_converted_before_the_region_check(tmp_path):
    path = _csv(tmp_path, "name,lng,lat\nA,106.55,29.56\n")
    report = validate.validate_file(path, crs="gcj02")
    lon, lat = crs.gcj02_to_wgs84(106.55, 29.56)
    assert report.ok
    assert report.frame.geometry.iloc[0].x == pytest.approx(float(lon))
    assert report.frame.geometry.iloc[0].y == pytest.approx(float(lat))


def test_projected_table_with_its_epsg_code_is_clean(tmp_path):
    # CGCS2000 / 3-degree Gauss-Kruger CM 108E (EPSG:4545), a point in Chongqing.
    path = _csv(tmp_path, "x,y\n456000,3267000\n")
    assert validate.validate_file(path, crs=4545).ok


def test_attribute_rules(tmp_path):
    path = _csv(
        tmp_path,
        "code,name,target,value,lon,lat\n"
        "A,甲,Ⅱ,1.5,106.5,29.5\n"
        "B,,Ⅵ,abc,106.5,29.5\n",
    )
    report = validate.validate_file(
        path,
        required=["code", "name", "district"],
        numeric=["value"],
        allowed={"target": ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ")},
    )
    assert _kinds(report) == {
        ("missing_field", None, "district"),
        ("missing_value", 3, "name"),
        ("not_numeric", 3, "value"),
        ("not_allowed", 3, "target"),
    }
    text = report.format()
    assert "required column 'district' is missing" in text
    assert "row 3, column value: expected a number, got 'abc'" in text


def test_vector_geometries_null_empty_invalid_repaired():
    bowtie = Polygon([(106, 29), (107, 30), (107, 29), (106, 30)])
    frame = gpd.GeoDataFrame(
        {"id": [1, 2, 3, 4]},
        geometry=[Point(106.5, 29.5), None, shapely.Polygon(), bowtie],
        crs="EPSG:4326",
    )
    report = validate.validate(frame)
    assert _kinds(report) == {
        ("null_geometry", 2, None),
        ("empty_geometry", 3, None),
        ("invalid_geometry", 4, None),
    }
    assert "Self-intersection" in str(report.problems[-1])
    repaired = report.frame.geometry.iloc[3]
    assert repaired.is_valid
    # make_valid keeps both triangles of the bow-tie (buffer(0) would drop one).
    assert repaired.area == pytest.approx(0.5)
    # The input is left as it was.
    assert not frame.geometry.iloc[3].is_valid


def test_swapped_and_projected_lines_in_a_vector_file():
    frame = gpd.GeoDataFrame(
        geometry=[
            shapely.LineString([(29.5, 106.5), (29.6, 106.6)]),
            shapely.LineString([(500000, 3300000), (500100, 3300100)]),
        ],
        crs="EPSG:4326",
    )
    report = validate.validate(frame)
    assert [p.kind for p in report.problems] == ["projected_coordinates", "swapped_coordinates"]


def test_report_table_lists_every_problem(tmp_path):
    path = _csv(tmp_path, "id,lon,lat\n1,,\n1,106,29\n")
    table = validate.validate_file(path).to_frame()
    assert list(table.columns) == ["kind", "row", "column", "value", "message"]
    assert sorted(table["kind"]) == ["duplicate_id", "duplicate_id", "null_geometry"]
    assert report_counts(path) == {"null_geometry": 1, "duplicate_id": 2}


def report_counts(path):
    return validate.validate_file(path).counts()


def test_gbk_csv_reports_chinese_columns(tmp_path):
    path = _csv(tmp_path, "站点编号,经度,纬度\n甲1,106.5,29.5\n甲1,106.6,29.6\n", encoding="gbk")
    report = validate.validate_file(path)
    assert {p.column for p in report.problems} == {"站点编号"}


@pytest.mark.parametrize(
    ("text", "code"),
    [("id,lon,lat\n1,106.5,29.5\n", 0), ("id,lon,lat\n1,29.5,106.5\n", 1)],
)
def test_cli_exit_codes(tmp_path, text, code):
    path = _csv(tmp_path, text)
    result = CliRunner().invoke(main.cli, ["validate", str(path)])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output


def test_cli_unreadable_input_is_a_usage_error(tmp_path):
    missing = CliRunner().invoke(main.cli, ["validate", str(tmp_path / "nope.csv")])
    no_columns = CliRunner().invoke(main.cli, ["validate", str(_csv(tmp_path, "a,b\n1,2\n"))])
    bad_crs = CliRunner().invoke(main.cli, ["validate", str(_csv(tmp_path, "lon,lat\n1,2\n", "c.csv")), "--crs", "mars"])
    for result in (missing, no_columns, bad_crs):
        assert result.exit_code == 2, result.output
        assert result.output.startswith("Error: ")
        assert len(result.output.strip().splitlines()) == 1


def test_cli_prints_rows_and_columns(tmp_path):
    path = _csv(tmp_path, "编号,经度,纬度\n1,abc,29.5\n")
    result = CliRunner().invoke(main.cli, ["validate", str(path)])
    assert result.exit_code == 1
    assert "row 2, column 经度: expected a number, got 'abc'" in result.output


def test_blocks_find_what_the_whole_table_shows(tmp_path):
    # Duplicates, bad cells and swapped points fall in different blocks of two rows.
    path = tmp_path / "v.csv"
    path.write_text(
        "编号,名称,经度,纬度\n1,甲,106.5,29.5\n2,乙,abc,29.6\n1,丙,29.5,106.5\n\n3,丁,,\n2,戊,3500000,500000\n",
        encoding="utf-8",
    )
    whole = validate.validate_file(path)
    blocks = validate.validate_blocks(path, rows=2)
    assert blocks.rows == whole.rows == 5
    assert [str(p) for p in blocks.problems] == [str(p) for p in whole.problems]
    assert {p.kind for p in blocks.problems} >= {"duplicate_id", "not_a_number", "swapped_coordinates", "null_geometry"}
    assert blocks.frame is None
