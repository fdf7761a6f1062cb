"""`cqgis analyze catchment` and `upstream`: what drains to a section or a point, by province, prefecture and county."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cqgis.cli.errors import OptionError
from cqgis.cli.options import data_dir_option, header_row_option, output_option, refuse_input_as_output, sections_option

if TYPE_CHECKING:
    from cqgis.analysis.catchment import Catchment


def _point(text: str) -> tuple[float, float]:
    try:
        lon, lat = (float(v) for v in text.split(","))
    except ValueError:
        msg = f"--at {text}: expected LON,LAT in degrees, e.g. 106.57,29.60"
        raise OptionError(msg) from None
    return lon, lat


def _report(title: str, result: Catchment) -> None:
    click.echo(f"{title}：汇水面积 {result.area_km2:,.0f} km²（30″ DEM 推算，approximate）")
    shares = result.shares
    for _, row in shares[shares["level"] == "省"].iterrows():
        click.echo(f"{row['province']}  {row['km2']:,.0f} km²  {row['pct']:.1f}%")
        mine = shares[(shares["level"] == "地市") & (shares["province"] == row["province"])]
        for _, sub in mine.head(8).iterrows():
            click.echo(f"  {sub['prefecture']}  {sub['km2']:,.0f} km²  {sub['pct']:.1f}%")
    if result.sections.empty:
        click.echo("上游无监测断面")
    else:
        names = "、".join(f"{r['name']}（{r['km_to_outlet']:.0f} km）" for _, r in result.sections.iterrows())
        click.echo(f"上游断面（自上而下，沿程距离）：{names}")


def _write(result: Catchment, output: Path) -> None:
    from cqgis.geo import io

    if output.suffix.lower() in (".xlsx", ".csv"):
        sheets = {
            "汇水区": result.polygon.drop(columns="geometry"),
            "分摊": result.shares.rename(columns={"level": "级别", "province": "省", "prefecture": "地市", "county": "区县", "km2": "面积_km2", "pct": "占比_%"}),
            "上游断面": result.sections,
        }
        if output.suffix.lower() == ".csv":
            io.write(sheets["分摊"], output)
        else:
            io.write_sheets(sheets, output)
    else:
        from cqgis.maps.export_styles import plain_style

        io.write(result.polygon, output, style=plain_style(output.stem, result.polygon))
    click.echo(f"-> {output}")


def _run(
    name: str | None,
    at: str | None,
    river: str | None,
    sections_path: str | None,
    output: Path | None,
    data_dir: Path | None,
    header_row: int | None,
) -> None:
    from cqgis import analyses
    from cqgis.config import settings

    if (name is None) == (at is None):
        msg = "give exactly one of --section NAME or --at LON,LAT"
        raise OptionError(msg)
    refuse_input_as_output([output], [sections_path])
    config = settings(data_dir=data_dir)
    sections = analyses.inputs(sections_path, "sections", config, header_row)
    if name is not None:
        section = analyses.find_section(sections, name)
        title = f"{section['name']}（{section.get('river')}）以上流域"
        result = analyses.catchment(name, sections=sections, settings=config)
    else:
        lon, lat = _point(at)
        title = f"({lon:.4f}, {lat:.4f}) 以上流域"
        result = analyses.catchment(at=(lon, lat), river=river, sections=sections, settings=config)
    _report(title, result)
    if output is not None:
        _write(result, output)


_OPTIONS = [
    click.option("--section", "name", help="Section name (断面名称, e.g. 朱沱) or code (CQ-S001)."),
    click.option("--at", help="A point instead of a section: LON,LAT (WGS84)."),
    click.option(
        "--river", help="With --at: the river the point is on (snaps to it); one the model traces (长江, 嘉陵江, 小江/澎溪河 ...)."
    ),
    sections_option,
    output_option("Catchment polygon (gpkg, geojson ...) or a workbook (xlsx: outline, shares, sections).", required=False),
    data_dir_option,
    header_row_option,
]


def _with_options(command):
    for option in reversed(_OPTIONS):
        command = option(command)
    return command


@click.command(epilog="Example: cqgis analyze catchment --section 朱沱 -o 朱沱汇水区.xlsx")
@_with_options
def catchment(name, at, river, sections_path, output, data_dir, header_row) -> None:
    """The catchment of a section or point: area, split by province, prefecture and county, sections upstream."""
    _run(name, at, river, sections_path, output, data_dir, header_row)


@click.command(epilog="Example: cqgis analyze upstream --section 牛角滩")
@_with_options
def upstream(name, at, river, sections_path, output, data_dir, header_row) -> None:
    """What drains to a section (the same as `catchment`, kept for scripts that call it)."""
    _run(name, at, river, sections_path, output, data_dir, header_row)
