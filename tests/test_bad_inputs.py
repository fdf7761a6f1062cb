"""The bad-input corpus: files an office really sends, each run through the CLI with its expected outcome.

Every case writes its input files into an empty folder, runs one command
and checks what the user gets: the exit status, one ``Error:`` line with
the expected words and no traceback, no output or temporary file left
behind when the command fails, and input files byte for byte unchanged.
Cases that succeed check that nothing was silently altered on the way
(ids keep their zeros, dates their year, text its characters).
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner

from cqgis.cli import main

HEADER = "名称,经度,纬度"
ROWS = "解放碑,106.5770,29.5580\n北碚,106.3960,29.8050\n"
POINTS_CSV = f"{HEADER}\n{ROWS}"
NAMES = ["解放碑", "北碚"]


# ---------------------------------------------------------------- builders


def _text(name: str, content: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_text(content, encoding=encoding)


def _bytes(name: str, content: bytes) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_bytes(content)


def _workbook(name: str, rows: list[list], merges: tuple[str, ...] = (), sheets: dict | None = None):
    def make(folder: Path) -> None:
        book = openpyxl.Workbook()
        sheet = book.active
        for row in rows:
            sheet.append(row)
        for cells in merges:
            sheet.merge_cells(cells)
        for title, extra in (sheets or {}).items():
            book.create_sheet(title).append(extra)
        book.save(folder / name)

    return make


def _points(z: bool = False, names: tuple[str, ...] = ("朱沱", "北碚")) -> gpd.GeoDataFrame:
    coords = [(105.85, 29.02, 210.0), (106.40, 29.80, 180.0)][: len(names)]
    geometry = [shapely.Point(c if z else c[:2]) for c in coords]
    return gpd.GeoDataFrame({"名称": list(names), "code": ["00123", "0500103"][: len(names)]}, geometry=geometry, crs=4326)


def _bowtie() -> gpd.GeoDataFrame:
    polygon = shapely.Polygon([(106.3, 29.4), (106.7, 29.8), (106.7, 29.4), (106.3, 29.8)])
    return gpd.GeoDataFrame({"name": ["自相交"]}, geometry=[polygon], crs=4326)


def _vector(name: str, frame: gpd.GeoDataFrame | None = None, **options) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        data = _points() if frame is None else frame
        pyogrio.write_dataframe(data, folder / name, **options)

    return make


def _shapefile(stem: str, encoding: str, cpg: str | None, drop: tuple[str, ...] = ()) -> Callable[[Path], None]:
    """A shapefile written in ``encoding`` whose .cpg says ``cpg`` (None: no .cpg), less the ``drop`` parts."""

    def make(folder: Path) -> None:
        path = folder / f"{stem}.shp"
        pyogrio.write_dataframe(_points(), path, encoding=encoding)
        (folder / f"{stem}.cpg").unlink(missing_ok=True)
        if cpg is not None:
            (folder / f"{stem}.cpg").write_text(cpg, encoding="ascii")
        for ext in drop:
            (folder / f"{stem}{ext}").unlink()

    return make


def _zipped(name: str, leave_out: tuple[str, ...] = (), stems: tuple[str, ...] = ("站点",)) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        parts = folder / "parts"
        parts.mkdir()
        with zipfile.ZipFile(folder / name, "w") as archive:
            for stem in stems:
                pyogrio.write_dataframe(_points(), parts / f"{stem}.shp", encoding="utf-8")
                for part in sorted(parts.glob(f"{stem}.*")):
                    if part.suffix not in leave_out:
                        archive.write(part, part.name)
        for part in parts.iterdir():
            part.unlink()
        parts.rmdir()

    return make


def _empty_vector(name: str, **options) -> Callable[[Path], None]:
    return _vector(name, _points().iloc[:0], **options)


def _both(*makers: Callable[[Path], None]) -> Callable[[Path], None]:
    def make(folder: Path) -> None:
        for maker in makers:
            maker(folder)

    return make


def _atlas(filename: str = "{theme}/{area}.{ext}", filter_: str | None = None) -> Callable[[Path], None]:
    lines = ["maps:", "  - theme: overview", "    coverage: district", "    formats: [html]", f"    filename: {filename!r}"]
    if filter_ is not None:
        lines.append(f"    filter: {filter_!r}")
    return _text("atlas.yaml", "\n".join(lines) + "\n")


# ------------------------------------------------------------------ checks


def _read_csv_text(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, encoding="utf-8-sig")


def _ids_kept(folder: Path) -> None:
    assert _read_csv_text(folder / "out.csv")["编号"].tolist() == ["00123", "0500103"]


def _dates_read(folder: Path) -> None:
    cells = openpyxl.load_workbook(folder / "out.xlsx").active["A"][1:]
    assert [cell.value.date().isoformat() for cell in cells] == ["2025-03-01", "2025-10-01"]


def _cells_verbatim(folder: Path) -> None:
    out = _read_csv_text(folder / "out.csv")
    assert out["监测日期"].tolist() == ["45717", "2025.10"]
    assert out["数值"].tolist() == ["1.50", "0.01L"]


def _names_kept(folder: Path) -> None:
    assert _read_csv_text(folder / "out.csv")["名称"].tolist() == NAMES


def _shape_names_kept(folder: Path) -> None:
    out = _read_csv_text(folder / "out.csv")
    assert out["名称"].tolist() == ["朱沱", "北碚"]
    assert out["code"].tolist() == ["00123", "0500103"]


def _z_kept(folder: Path) -> None:
    assert _read_csv_text(folder / "out.csv")["z"].astype(float).tolist() == [210.0, 180.0]


def _csv_formulas_defused(folder: Path) -> None:
    assert _read_csv_text(folder / "out.csv")["名称"].tolist() == ["'=1+2", "'@SUM(A1)", "-3.5"]


def _xlsx_formulas_text(folder: Path) -> None:
    cells = openpyxl.load_workbook(folder / "out.xlsx").active["A"][1:]
    assert [(cell.value, cell.data_type) for cell in cells] == [("=1+2", "s"), ('=HYPERLINK("http://x.cn","点")', "s")]


def _repaired(folder: Path) -> None:
    out = pyogrio.read_dataframe(folder / "out.gpkg")
    assert out.geometry.is_valid.all()
    # The bow-tie's two triangles, 0.04 square degrees each, not a collapsed shape.
    assert shapely.area(out.geometry.array).sum() == pytest.approx(0.08, rel=1e-6)


@dataclass(frozen=True)
class Case:
    """One bad input: the files it writes, the command run on them, and what must come out."""

    name: str
    make: Callable[[Path], None]
    args: tuple[str, ...]
    code: int
    message: str
    check: Callable[[Path], None] | None = None
    outputs: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        """Whether the command must stop with one ``Error:`` line (validate's findings are a report)."""
        return self.code != 0 and self.args[0] != "validate"


def _convert(source: str, out: str = "out.csv", *extra: str) -> tuple[str, ...]:
    return ("convert", source, "-o", out, *extra)


CASES = [
    # CSV tables
    Case("csv-zero-bytes", _bytes("a.csv", b""), _convert("a.csv"), 1, "a.csv is empty (0 bytes)"),
    Case("csv-blank-lines", _text("a.csv", "\n \n\n"), _convert("a.csv"), 1, "a.csv is empty"),
    Case("csv-header-only", _text("a.csv", HEADER + "\n"), _convert("a.csv"), 1, "no data rows"),
    Case(
        "csv-duplicate-header", _text("a.csv", "名称,经度,纬度,经度\n甲,106.5,29.5,106.6\n"), _convert("a.csv"), 1,
        "columns B and D are both headed '经度'",
    ),
    Case(
        "csv-no-coordinates", _text("a.csv", "名称,地址\n甲,渝中区\n"), _convert("a.csv"), 1,
        "no longitude column found",
    ),
    Case(
        "csv-text-in-latitude", _text("a.csv", f"{HEADER}\n甲,106.5,29.5\n乙,106.6,北纬29\n"), _convert("a.csv"), 1,
        "a.csv row 3, column 纬度: expected a number, got '北纬29'",
    ),
    Case(
        "csv-blank-coordinate", _text("a.csv", f"{HEADER}\n甲,106.5,29.5\n乙,,29.6\n"), _convert("a.csv"), 1,
        "row 3, column 经度: expected a number, got a blank cell",
    ),
    Case(
        "csv-undecodable", _bytes("a.csv", b"\xff\xfe\x80\x81,\xff\n1,2\n"), _convert("a.csv"), 1,
        "neither UTF-8 nor GBK/GB18030",
    ),
    Case(
        "csv-projected-metres", _text("a.csv", f"{HEADER}\n甲,3500000,590000\n"), _convert("a.csv"), 1,
        "expected a longitude in degrees between -180 and 180, got 3500000",
    ),
    Case(
        "csv-more-cells-than-headers", _text("a.csv", f"{HEADER}\n{ROWS}丙,106.1,29.1,多余,多余\n"), _convert("a.csv"), 1,
        "a.csv row 4, column D: '多余' stands in a column without a header (row 1)",
    ),
    Case(
        "csv-unclosed-quote", _text("a.csv", f'{HEADER}\n"甲,106.5,29.5\n乙,106.6,29.6\n'), _convert("a.csv"), 1,
        'a quote (") opened on row 2 is never closed',
    ),
    Case(
        "csv-infinite-coordinate", _text("a.csv", f"{HEADER}\n甲,1e400,29.5\n"), ("analyze", "attribute", "a.csv", "-o", "out.csv"),
        1, "a.csv row 2, column 经度: expected a number, got inf",
    ),
    Case(
        "csv-header-row-outside", _text("a.csv", POINTS_CSV), _convert("a.csv", "out.csv", "--header-row", "9"), 1,
        "--header-row 9 is outside the table, which has rows 1 to 3",
    ),
    Case(
        "csv-title-rows", _text("a.csv", f"2025年加氢站名单,,\n单位：度,,\n{POINTS_CSV}"), _convert("a.csv"), 0,
        "", _names_kept, ("out.csv",),
    ),
    Case(
        "csv-header-row-given", _text("a.csv", f"名单\n说明,一,二\n{POINTS_CSV}"),
        _convert("a.csv", "out.csv", "--header-row", "3"), 0, "", _names_kept, ("out.csv",),
    ),
    Case(
        "csv-old-mac-line-ends", _bytes("a.csv", f"\ufeff名单\r\r{HEADER}\r{ROWS}".replace("\n", "\r").encode()),
        _convert("a.csv"), 0, "", _names_kept, ("out.csv",),
    ),
    Case(
        "csv-gbk", _text("a.csv", POINTS_CSV, encoding="gbk"), _convert("a.csv"), 0, "", _names_kept, ("out.csv",),
    ),
    Case(
        "csv-ids-with-zeros", _text("a.csv", "编号,经度,纬度\n00123,106.5,29.5\n0500103,106.6,29.6\n"),
        _convert("a.csv"), 0, "", _ids_kept, ("out.csv",),
    ),
    Case(
        "csv-excel-serial-dates", _text("a.csv", "监测日期,经度,纬度\n45717,106.5,29.5\n45931,106.6,29.6\n"),
        _convert("a.csv", "out.xlsx"), 0, "", _dates_read, ("out.xlsx",),
    ),
    Case(
        "csv-to-csv-cells-verbatim", _text("a.csv", "监测日期,经度,纬度,数值\n45717,106.5,29.5,1.50\n2025.10,106.6,29.6,0.01L\n"),
        _convert("a.csv"), 0, "", _cells_verbatim, ("out.csv",),
    ),
    Case(
        "csv-formula-cells", _text("a.csv", '名称,经度,纬度\n=1+2,106.5,29.5\n@SUM(A1),106.6,29.6\n-3.5,106.7,29.7\n'),
        _convert("a.csv"), 0, "", _csv_formulas_defused, ("out.csv",),
    ),
    Case(
        "csv-formulas-to-xlsx", _text("a.csv", '名称,经度,纬度\n=1+2,106.5,29.5\n"=HYPERLINK(""http://x.cn"",""点"")",106.6,29.6\n'),
        _convert("a.csv", "out.xlsx"), 0, "", _xlsx_formulas_text, ("out.xlsx",),
    ),
    Case(
        "attribute-ids-with-zeros", _text("a.csv", "编号,经度,纬度\n00123,106.5,29.5\n0500103,106.6,29.6\n"),
        ("analyze", "attribute", "a.csv", "-o", "out.csv"), 0, "", _ids_kept, ("out.csv",),
    ),
    Case(
        "validate-row-below-title", _workbook("a.xlsx", [["标题"], HEADER.split(","), ["甲", 106.5, 29.5], ["乙", "东经106", 29.6]]),
        ("validate", "a.xlsx"), 1, "row 4, column 经度: expected a number, got '东经106'",
    ),
    Case(
        "header-row-on-vector", _vector("a.gpkg"), _convert("a.gpkg", "out.csv", "--header-row", "2"), 1,
        "--header-row apply only to CSV and Excel tables",
    ),
    Case("csv-output-is-input", _text("a.csv", POINTS_CSV), _convert("a.csv", "a.csv"), 2, "that is the input file"),
    Case("txt-not-written", _text("a.csv", POINTS_CSV), _convert("a.csv", "out.txt"), 1, "cannot write out.txt"),
    Case("kml-not-read", _text("a.kml", "<kml/>"), _convert("a.kml"), 1, "does not read '.kml' files"),
    Case("output-folder-missing", _text("a.csv", POINTS_CSV), _convert("a.csv", "无此目录/out.csv"), 2, "does not exist"),
    Case(
        "csv-swapped-columns", _text("a.csv", "名称,经度,纬度\n甲,29.5,106.5\n"), ("validate", "a.csv"), 1,
        "swap the columns",
    ),
    # Excel workbooks
    Case(
        "xlsx-title-and-merged-header",
        _workbook(
            "a.xlsx",
            [["2025年加氢站名单"], ["名称", "位置", None], [None, "经度", "纬度"], ["解放碑", 106.577, 29.558], ["北碚", 106.396, 29.805]],
            merges=("A1:C1", "A2:A3", "B2:C2"),
        ),
        _convert("a.xlsx"), 0, "", _names_kept, ("out.csv",),
    ),
    Case(
        "xlsx-duplicate-header", _workbook("a.xlsx", [["标题"], ["名称", "经度", "经度"], ["甲", 106.5, 106.6]]),
        _convert("a.xlsx"), 1, "columns B and C are both headed '经度'",
    ),
    Case("xlsx-not-a-workbook", _text("a.xlsx", POINTS_CSV), _convert("a.xlsx"), 1, "not a valid Excel workbook"),
    Case(
        "xlsx-unknown-sheet", _workbook("a.xlsx", [HEADER.split(","), ["甲", 106.5, 29.5]]),
        _convert("a.xlsx", "out.csv", "--layer", "水质"), 1, "has no sheet '水质'",
    ),
    Case(
        "xlsx-header-only", _workbook("a.xlsx", [HEADER.split(",")]), _convert("a.xlsx"), 1, "no data rows",
    ),
    Case(
        "xlsx-output-keeps-other-sheets",
        _both(_text("a.csv", POINTS_CSV), _workbook("out.xlsx", [["旧表"]], sheets={"汇总": ["手工数据"]})),
        _convert("a.csv", "out.xlsx"), 1, "holds sheets this output does not write (Sheet, 汇总)",
    ),
    Case(
        "xlsx-output-is-input", _workbook("a.xlsx", [HEADER.split(","), ["甲", 106.5, 29.5]], sheets={"备注": ["x"]}),
        ("analyze", "attribute", "a.xlsx", "-o", "a.xlsx"), 2, "that is the input file",
    ),
    # Vector files
    Case("geojson-zero-bytes", _bytes("a.geojson", b""), _convert("a.geojson"), 1, "a.geojson is empty (0 bytes)"),
    Case("geojson-blank", _text("a.geojson", " \n"), _convert("a.geojson"), 1, "it is not a valid GeoJSON file"),
    Case("geojson-no-features", _empty_vector("a.geojson"), _convert("a.geojson"), 1, "a.geojson holds no features"),
    Case("gpkg-no-features", _empty_vector("a.gpkg"), _convert("a.gpkg"), 1, "a.gpkg holds no features"),
    Case("shp-no-features", _empty_vector("a.shp"), _convert("a.shp"), 1, "a.shp holds no features"),
    Case(
        "shp-without-shx", _shapefile("a", "utf-8", "UTF-8", drop=(".shx",)), _convert("a.shp"), 1,
        "the shapefile's index (.shx) is missing",
    ),
    Case(
        "shp-without-dbf", _shapefile("a", "utf-8", "UTF-8", drop=(".dbf",)), _convert("a.shp"), 1,
        "the shapefile's attribute table (.dbf) is missing",
    ),
    Case(
        "shp-without-prj", _shapefile("a", "utf-8", "UTF-8", drop=(".prj",)), _convert("a.shp"), 2,
        "a.shp has no coordinate system",
    ),
    Case(
        "shp-utf8-with-gbk-cpg", _shapefile("a", "utf-8", "GBK"), _convert("a.shp"), 0, "", _shape_names_kept, ("out.csv",),
    ),
    Case(
        "shp-gbk-with-utf8-cpg", _shapefile("a", "gbk", "UTF-8"), _convert("a.shp"), 0, "", _shape_names_kept, ("out.csv",),
    ),
    Case("shp-gbk-no-cpg", _shapefile("a", "gbk", None), _convert("a.shp"), 0, "", _shape_names_kept, ("out.csv",)),
    Case("zip-without-dbf", _zipped("a.zip", leave_out=(".dbf",)), _convert("a.zip"), 1, "站点.shp: the shapefile's attribute table (.dbf) is missing"),
    Case("zip-without-shx", _zipped("a.zip", leave_out=(".shx",)), _convert("a.zip"), 1, "the shapefile's index (.shx) is missing"),
    Case("zip-two-layers", _zipped("a.zip", stems=("甲", "乙")), _convert("a.zip"), 1, "choose one with --layer"),
    Case("zip-corrupt", _bytes("a.zip", b"PK\x03\x04 not really"), _convert("a.zip"), 1, "not a valid zip file"),
    Case("gpkg-3d-points", _vector("a.gpkg", _points(z=True)), _convert("a.gpkg"), 0, "", _z_kept, ("out.csv",)),
    Case(
        "self-intersecting-polygon", _vector("a.geojson", _bowtie()), ("analyze", "attribute", "a.geojson", "-o", "out.gpkg"),
        0, "1 invalid geometries repaired with make_valid", _repaired, ("out.gpkg",),
    ),
    Case(
        "points-as-coverage-zones", _text("a.csv", POINTS_CSV),
        ("analyze", "coverage", "--facilities", "h2_stations", "--zones", "a.csv", "--radius", "5000", "-o", "out.gpkg"),
        1, "the zones layer must hold polygon or multipolygons; rows 2, 3 do not",
    ),
    # Users' layer files
    Case(
        "survey-negative-households", _text("a.csv", "名称,经度,纬度,是否治理,户数,常住人口\n甲,106.5,29.5,是,100,300\n乙,106.6,29.6,否,-5,-20\n"),
        ("analyze", "rural-sewage", "a.csv", "-o", "out.xlsx"), 1, "row 3, column households: '-5' is impossible here",
    ),
    Case(
        "survey-fraction-of-household", _text("a.csv", "名称,经度,纬度,是否治理,户数\n甲,106.5,29.5,是,12.5\n"),
        ("validate", "a.csv", "--as", "rural_sewage"), 1, "row 2, column households: expected a whole number, got '12.5'",
    ),
    Case(
        "survey-yes-no-row", _text("a.csv", "名称,经度,纬度,是否治理\n甲,106.5,29.5,是\n乙,106.6,29.6,否\n丙,106.7,29.7,是\n丁,106.4,29.4,也许\n"),
        ("validate", "a.csv", "--as", "rural_sewage"), 1, "row 5, column has_sewage_treatment: expected yes/no",
    ),
    Case(
        "survey-missing-column", _text("a.csv", "标题\n村,经度,纬度,治理\n甲,106.5,29.5,是\n"),
        ("validate", "a.csv", "--as", "rural_sewage"), 1, "headers read: 村, 经度, 纬度, 治理",
    ),
    Case(
        "indicator-infinite-value", _text("a.csv", "target_id,district,value\nenergy_intensity_gdp,全市,-1e999\n"),
        ("analyze", "compliance", "a.csv", "-o", "out.xlsx"), 1, "row 2, column value: expected a number, got '-inf'",
    ),
    Case(
        "survey-infinite-households", _text("a.csv", "名称,经度,纬度,是否治理,户数\n甲,106.5,29.5,是,1e400\n"),
        ("validate", "a.csv", "--as", "rural_sewage"), 1, "row 2, column households: expected a number, got 'inf'",
    ),
    Case(
        "measurements-without-section-column", _text("m.csv", "站名,时间,溶解氧\n朱沱,2024-01,7.1\n"),
        ("analyze", "water-quality", "m.csv", "-o", "out.xlsx"), 1, "no section column: expected 断面编码 / section_code "
        "or 断面名称 / section_name; headers read: 站名, 时间, 溶解氧",
    ),
    Case(
        "measurements-title-row", _workbook("m.xlsx", [["2024年监测数据"], ["断面名称", "监测时间", "溶解氧"], ["朱沱", "2024-01", 7.1]]),
        ("analyze", "water-quality", "m.xlsx", "-o", "out.xlsx"), 0, "1 section-year results", None, ("out.xlsx",),
    ),
    Case(
        "sections-file-empty", _both(_text("m.csv", "断面名称,监测时间,溶解氧\n朱沱,2024-01,7.1\n"), _bytes("s.csv", b"")),
        ("analyze", "water-quality", "m.csv", "--sections", "s.csv", "-o", "out.xlsx"), 1, "s.csv is empty",
    ),
    # Atlas configurations
    Case(
        "atlas-filter-nested-5000-deep", _atlas(filter_="not " * 5000 + "name"), ("atlas", "atlas.yaml"), 2,
        "filter is 20,004 characters long; at most 2,000",
    ),
    Case(
        "atlas-filter-nested-400-deep", _atlas(filter_="not " * 400 + "name"), ("atlas", "atlas.yaml"), 2,
        "filter is nested too deeply (at most 50 levels)",
    ),
    Case(
        "atlas-filename-huge-width", _atlas(filename="{area:>2000000000}.{ext}"), ("atlas", "atlas.yaml"), 2,
        "placeholders take no format or conversion",
    ),
    Case(
        "atlas-filter-a-megabyte", _atlas(filter_=" or ".join(["name == '渝中区'"] * 60000)), ("atlas", "atlas.yaml"), 2,
        "characters long; at most 2,000",
    ),
    Case(
        "atlas-filename-too-long", _atlas(filename="{area}" + "长" * 300 + ".{ext}"), ("atlas", "atlas.yaml"), 2,
        "filename template is 312 characters long; at most 200",
    ),
    Case(
        "atlas-number-against-text", _atlas(filter_="name > 5"), ("atlas", "atlas.yaml", "-o", "out"), 2,
        "column 'name' holds text, not numbers",
    ),
]


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_the_corpus_is_large_and_distinct():
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    case.make(tmp_path)
    before = _digests(tmp_path)
    result = CliRunner().invoke(main.cli, list(case.args))
    assert result.exit_code == case.code, result.output
    # A user's mistake is never a bug: no traceback, the exit is click's or ours.
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    if case.is_error:
        errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1, result.output
        assert case.message in errors[0], result.output
    else:
        assert case.message in result.output
    after = _digests(tmp_path)
    # Inputs untouched, and nothing but the expected outputs appeared (no partial or temporary file).
    assert {name: digest for name, digest in after.items() if name in before} == before
    assert sorted(set(after) - set(before)) == sorted(case.outputs)
    if case.check is not None:
        case.check(tmp_path)
