"""`cqgis analyze water-quality`: GB 3838-2002 class and target compliance of monitoring sections, to an XLSX workbook."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import click

from cqgis.cli.errors import OptionError
from cqgis.cli.options import header_row_option, output_option, refuse_input_as_output, year_option

if TYPE_CHECKING:
    import pandas as pd

    from cqgis.analysis.monitoring import Reading

DEFAULT = "default"

#: Summary sheets: sheet name -> grouping column of the results.
SUMMARIES: Mapping[str, str] = MappingProxyType(
    {"按区县": "district", "按流向": "direction", "按年度": "year", "按流域": "basin"}
)
RESULTS_SHEET = "断面评价结果"

#: Excel's limit on the characters of one cell; longer joined sources are cut.
EXCEL_CELL_LIMIT = 32767
NOTES_SHEET = "说明"

CLASS_ONLY_NOTE = (
    "class-only table (a monthly report without values): classes and main pollutants are taken as the report "
    "gives them; no means, exceedance multiples or undetected items are computed"
)


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
@year_option
@output_option("XLSX workbook to write.")
@header_row_option
def water_quality(
    measurements: str,
    sections_path: Path | None,
    period: str,
    sheet: str | None,
    year: int | None,
    output: Path,
    header_row: int | None,
) -> None:
    """Assess MEASUREMENTS against GB 3838-2002 and write the results to OUTPUT.

    MEASUREMENTS is a table of monthly values (CSV, XLSX, Parquet or any
    vector file): long (断面编码, 监测时间, 监测项目, 监测值) or wide (one
    column per item: 溶解氧, 高锰酸盐指数, 氨氮, 总磷 ...). Values such as
    0.01L, <0.01, ND and 未检出 are read as below detection; --, * and blanks
    are not measured (counted and reported, never zero). The national
    automatic-station release (GBK CSV, units in the headers, 站点情况) reads
    as it comes. A monthly report of classes without values (断面名称, 本月 or
    监测结果, 水域功能, 主要污染指标) gives classes, compliance and rates as
    reported. Give the word `default` for the embedded synthetic example.
    """
    if output.suffix.lower() != ".xlsx":
        msg = f"output must be an .xlsx workbook, got {output.name}"
        raise OptionError(msg)
    from cqgis.analyses import assess_water_quality
    from cqgis.geo import io

    refuse_input_as_output([output], [None if measurements == DEFAULT else measurements, sections_path])
    assessed = assess_water_quality(
        None if measurements == DEFAULT else measurements,
        sections_path,
        period=period,
        sheet=sheet,
        year=year,
        header_row=header_row,
    )
    if assessed.class_only:
        click.echo(f"note: {CLASS_ONLY_NOTE}", err=True)
        period = "report"
    for line in assessed.reading.summary():
        click.echo(f"note: {line}", err=True)
    results = assessed.results
    io.write_sheets(_sheets(results, assessed.reading), output)
    assessed_count = results["class"].notna().sum()
    failing = results["meets_target"].eq(False).sum()
    click.echo(f"{assessed_count} section-{period} results, {failing} below target: {output}")


def _sheets(results: pd.DataFrame, reading: Reading) -> dict[str, pd.DataFrame]:
    """Results and summary sheets with Chinese headers, in workbook order."""
    import pandas as pd

    from cqgis.analysis import water_quality as wq
    from cqgis.layers import gb3838

    means = [c for c in results.columns if c.startswith("mean_")]
    names = gb3838.standard().drop_duplicates("code").set_index("code")["name_zh"]
    headers = {**wq.HEADERS_ZH, "class_source": "类别来源", **{c: f"{names.get(c[5:], c[5:])}均值" for c in means}}
    sheets = {RESULTS_SHEET: _chinese(results, headers)}
    for sheet, column in SUMMARIES.items():
        if column in results and (column != "basin" or results[column].notna().any()):
            sheets[sheet] = _chinese(wq.compliance_rates(results, column), headers)
    sheets[NOTES_SHEET] = pd.DataFrame({"说明": _notes(results) + _reading_notes(reading)})
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

    basis = "评价依据：GB 3838-2002《地表水环境质量标准》表1；《地表水环境质量评价办法（试行）》（环办〔2011〕22号）。"
    if "class_source" in results:
        method = ["本表为类别报表（无监测值）：水质类别与主要污染指标按报表原样，未计算浓度均值、超标倍数；达标按报表类别与水质目标比较。"]
    else:
        method = [
            "先按评价时段求各项目浓度均值，再逐项定类，取最差项目类别为断面水质类别；水温、总氮、粪大肠菌群不参与河流定类。",
            "低于检出限的数据（如 0.01L、<0.01）按检出限的一半计；空白、--（未监测）和 *（未公布）不计入，不按零计。",
            "超标倍数 =（浓度 − Ⅲ类标准限值）/ Ⅲ类标准限值（环办〔2011〕22号），不论断面目标；水温、pH、溶解氧不计超标倍数。",
            "主要污染指标：仅在断面水质劣于Ⅲ类时确定，按项目水质类别由差到好取前三项，类别相同时按超标倍数由大到小；"
            "氰化物和重金属（铜、锌、砷、汞、镉、六价铬、铅）超标时也列为主要污染指标。",
            "超目标项目（对目标超标倍数）：本工具另列的辅助信息，倍数 =（浓度 − 目标类别限值）/ 目标类别限值，"
            "不是环办〔2011〕22号规定的超标倍数。",
        ]
    notes = [basis, *method, f"数据精度：{provenance.weakest(results['precision'])}。"]
    if (results["precision"] == "synthetic").any():
        notes.append("注意：含示例数据（合成），非真实监测结果，不得作为考核依据。")
    return notes


#: How the notes sheet names each kind of cell or row the reading left out.
READING_NOTES_ZH: Mapping[str, str] = MappingProxyType({
    "not_measured": "标为未监测（--）或未公布（*）的数据",
    "impossible_value": "不可能的数值（pH 超出 0～14、溶解氧远超饱和）",
    "station_status": "站点情况非“正常”的行（数据照常使用）",
    "no_values": "无可用数据的行",
    "no_section": "缺断面名称和编码、未使用的行",
    "unknown_section": "断面表中没有的断面（按河流、无目标评价；名称可能有误）",
})


def _reading_notes(reading: Reading) -> list[str]:
    """Return a notes line per kind of cell or row not used or worth a look, with counts."""
    notes = []
    for kind, label in READING_NOTES_ZH.items():
        found = reading.problems[reading.problems["kind"] == kind]
        if not len(found):
            continue
        if kind == "not_measured":
            counts = found["message"].astype(str).str.extract(r"\(--\): (\d+); withheld \(\*\): (\d+)").astype(int).sum()
            notes.append(f"{label}：未监测 {counts[0]} 个、未公布 {counts[1]} 个，均不计入均值，不按零计。")
        else:
            notes.append(f"{label}：{len(found)} 处，行号见命令输出或 cqgis validate --as measurements。")
    return notes