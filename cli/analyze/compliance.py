"""`cqgis analyze compliance`: the plan's targets against achieved values, city-wide and per district."""

from __future__ import annotations

from pathlib import Path

import click

from cqgis.cli.errors import OptionError
from cqgis.cli.options import data_dir_option, header_row_option, load_input, refuse_input_as_output


@click.command()
@click.argument("indicators", required=False, metavar="[INDICATORS]")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="An .xlsx workbook (results and summary) or a .gpkg of the districts with one target's status.",
)
@click.option(
    "--target",
    "target_id",
    default="energy_intensity_gdp",
    show_default=True,
    help="With a .gpkg output: the district-scope target to map (see `cqgis layers show targets`).",
)
@data_dir_option
@header_row_option
def compliance(
    indicators: str | None, output: Path, target_id: str, data_dir: Path | None, header_row: int | None
) -> None:
    """Status 达标 / 未达标 / 无数据 and gap of every target of the plan.

    INDICATORS is your table of achieved values (target id or indicator
    wording, district or 全市, value); default: the embedded example, which
    is synthetic (示例数据). The rural sewage rate is computed from the
    rural_sewage layer unless INDICATORS gives it; the layer's synthetic
    example is never mixed with your own indicators.
    """
    import geopandas as gpd
    import pandas as pd

    from cqgis.analysis import compliance as analysis
    from cqgis.geo import io

    suffix = output.suffix.lower()
    if suffix not in (".xlsx", ".gpkg"):
        msg = f"-o {output.name}: write an .xlsx or a .gpkg"
        raise OptionError(msg)
    refuse_input_as_output([output], [indicators])
    targets = load_input(None, "targets", data_dir)
    districts = load_input(None, "districts", data_dir)
    values = load_input(indicators, "indicators", data_dir, header_row)
    values, note = analysis.with_rural_sewage(values, load_input(None, "rural_sewage", data_dir), targets)
    if note:
        click.echo(note)
    results = analysis.evaluate(targets, values, districts)
    if suffix == ".xlsx":
        io.write_sheets(
            {
                "目标评估结果": results.rename(columns=analysis.LABELS),
                "汇总": analysis.summary(results).rename(columns=analysis.LABELS),
                "说明": pd.DataFrame({"说明": analysis.notes(results)}),
            },
            output,
        )
    else:
        mapped = analysis.district_map(results, districts, target_id)
        io.write_layers({target_id: gpd.GeoDataFrame(mapped, geometry="geometry")}, output)
    counts = results["status"].value_counts()
    synthetic = (results["precision"] == "synthetic").any()
    click.echo(
        ", ".join(f"{s} {counts.get(s, 0)}" for s in analysis.STATUSES)
        + f"{'; synthetic example data' if synthetic else ''} -> {output}"
    )
