"""`cqgis analyze water-quality`: GB 3838-2002 class and target compliance of monitoring sections, to an XLSX workbook."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import click

from cqgis.cli.errors import OptionError
from cqgis.cli.options import header_row_option, refuse_input_as_output

if TYPE_CHECKING:
    import pandas as pd

DEFAULT = "default"

#: Summary sheets: sheet name -> grouping column of the results.
SUMMARIES: Mapping[str, str] = MappingProxyType(
    {"按区县": "district", "按流向": "direction", "按年度": "year", "按流域": "basin"}
)
RESULTS_SHEET = "断面评价结果"

#: Excel's limit on the characters of one cell; longer joined sources are cut.
EXCEL_CELL_LIMIT = 32767
NOTES_SHEET = "说明"


@click.command(
    "water-quality",
    epilog=(
        "Example: cqgis analyze water-quality 监测数据.xlsx --sections 断面.csv --period quarter -o 水质评价.xlsx; "
        "cqgis analyze water-quality default -o 示例评价.xlsx uses the embedded synthetic example."
    ),
)
@click.argument("measurements", metavar="MEASUREMENTS")
@click.option(
    "--sections",
    "sections_path",
    type=click.Path(path_type=Path),
    help="Sections table (断面编码/断面名称, 水质目标, 区县, 跨界流向 ...). Default: the sections layer.",
)
@click.option(
    "--period",
    type=click.Choice(["month", "quarter", "year"]),
    default="year",
    show_default=True,
    help="Averaging period of the assessment.",
)
@click.option("--sheet", help="Worksheet of an Excel MEASUREMENTS file (default: the first).")
@click.option(
    "-o", "--output", required=True, type=click.Path(path_type=Path), help="XLSX workbook to write."
)
@header_row_option
def water_quality(
    measurements: str, sections_path: Path | None, period: str, sheet: str | None, output: Path, header_row: int | None
) -> None:
    """Assess MEASUREMENTS against GB 3838-2002 and write the results to OUTPUT.

    MEASUREMENTS is a table of monthly values (CSV, XLSX, Parquet or any
    vector file): long (断面编码, 监测时间, 监测项目, 监测值) or wide (one
    column per item: 溶解氧, 高锰酸盐指数, 氨氮, 总磷 ...). Values such as
    0.01L, <0.01, ND and 未检出 are read as below detection. Give the word
    `default` for the embedded synthetic example.
    """
    if output.suffix.lower() != ".xlsx":
        msg = f"output must be an .xlsx workbook, got {output.name}"
        raise OptionError(msg)
    from cqgis.analysis import water_quality as wq
    from cqgis.geo import io

    refuse_input_as_output([output], [None if measurements == DEFAULT else measurements, sections_path])
    table, sections = _inputs(measurements, sections_path, sheet, header_row)
    results = wq.classify(wq.tidy(table), sections, period)
    sheets = _sheets(results)
    io.write_sheets(sheets, output)
    assessed = results["class"].notna().sum()
    failing = results["meets_target"].eq(False).sum()
    click.echo(f"{assessed} section-{period} results, {failing} below target: {output}")


def _inputs(
    measurements: str, sections_path: Path | None, sheet: str | None, header_row: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the measurements and sections tables; a user's table without a source column is credited to its file."""
    from cqgis.analysis import water_quality as wq
    from cqgis.layers import catalog

    if measurements == DEFAULT:
        table = catalog.load("measurements")
    else:
        table = wq.read_table(Path(measurements), sheet, header_row)
        if "source" not in table and "来源" not in table:
            table = table.assign(source=f"用户数据：{Path(measurements).name}")
    sections = wq.read_table(sections_path, header_row=header_row) if sections_path else catalog.load("sections")
    return table, sections


def _sheets(results: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Results and summary sheets with Chinese headers, in workbook order."""
    import pandas as pd

    from cqgis.analysis import water_quality as wq

    means = [c for c in results.columns if c.startswith("mean_")]
    names = wq.standard().drop_duplicates("code").set_index("code")["name_zh"]
    headers = {**wq.HEADERS_ZH, **{c: f"{names.get(c[5:], c[5:])}均值" for c in means}}
    sheets = {RESULTS_SHEET: _chinese(results, headers)}
    for sheet, column in SUMMARIES.items():
        if column in results and (column != "basin" or results[column].notna().any()):
            sheets[sheet] = _chinese(wq.compliance_rates(results, column), headers)
    sheets[NOTES_SHEET] = pd.DataFrame({"说明": _notes(results)})
    return sheets


def _chinese(frame: pd.DataFrame, headers: Mapping[str, str]) -> pd.DataFrame:
    """Return ``frame`` for the workbook: 是/否 flags, sources cut to one Excel cell, Chinese headers."""
    table = frame.copy()
    for column in ("cross_border", "meets_target"):
        if column in table:
            table[column] = table[column].map({True: "是", False: "否"})
    if "source" in table:
        table["source"] = table["source"].str.slice(0, EXCEL_CELL_LIMIT)
    return table.rename(columns=headers)


def _notes(results: pd.DataFrame) -> list[str]:
    """Return the lines of the notes sheet: the method, the data's precision and a synthetic-data warning."""
    from cqgis.analysis import provenance

    notes = [
        "评价依据：GB 3838-2002《地表水环境质量标准》表1；《地表水环境质量评价办法（试行）》（环办〔2011〕22号）。",
        "先按评价时段求各项目浓度均值，再逐项定类，取最差项目类别为断面水质类别；水温、总氮、粪大肠菌群不参与河流定类。",
        "低于检出限的数据（如 0.01L、<0.01）按检出限的一半计；空白为未监测，不按零计。",
        "超标倍数 =（浓度 − 目标类别限值）/ 目标类别限值；无目标的断面以Ⅲ类为参照；pH、溶解氧不计超标倍数。",
        f"数据精度：{provenance.weakest(results['precision'])}。",
    ]
    if (results["precision"] == "synthetic").any():
        notes.append("注意：含示例数据（合成），非真实监测结果，不得作为考核依据。")
    return notes
