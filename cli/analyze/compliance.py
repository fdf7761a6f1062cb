"""`cqgis analyze compliance`: the plan's targets against achieved values, city-wide and per district."""

from __future__ import annotations

from pathlib import Path

import click

from cqgis.cli.errors import OptionError
from cqgis.cli.options import data_dir_option, header_row_option, noted, output_option, refuse_input_as_output


@click.command()
@click.argument("indicators", required=False, metavar="[INDICATORS]")
@output_option("An .xlsx workbook (results and summary) or a .gpkg of the districts with one target's status.")
@click.option(
    "--target",
    "target_id",
    default="energy_intensity_gdp",
    show_default=True,
    help="With a .gpkg output: the district-scope target to map (see `cqgis layers show targets`).",
)
@click.option(
    "--district-targets",
    "district_targets_path",
    type=click.Path(path_type=Path),
    help="Table of the districts' own targets (目标编号 or 指标, 区县, 目标值); those districts are judged "
    "against them instead of the city-wide figure (参照全市目标).",
)
@data_dir_option
@header_row_option
def compliance(
    indicators: str | None,
    output: Path,
    target_id: str,
    district_targets_path: Path | None,
    data_dir: Path | None,
    header_row: int | None,
) -> None:
    """Status 达标 / 未达标 / 无数据 and gap of every target of the plan.

    INDICATORS is your table of achieved values (target id or indicator
    wording, district or 全市, value); default: the embedded example, which
    is synthetic (示例数据). The rural sewage rate is computed from the
    rural_sewage layer unless INDICATORS gives it; the layer's synthetic
    example is never mixed with your own indicators. Districts are judged
    against the city-wide figure (labelled 参照全市目标) unless
    --district-targets gives their own.
    """
    import pandas as pd

    from cqgis import analyses
    from cqgis.analysis import compliance as analysis
    from cqgis.config import settings
    from cqgis.geo import io

    suffix = output.suffix.lower()
    if suffix not in (".xlsx", ".gpkg"):
        msg = f"-o {output.name}: write an .xlsx or a .gpkg"
        raise OptionError(msg)
    refuse_input_as_output([output], [indicators, district_targets_path])
    config = settings(data_dir=data_dir)
    results, notes = noted(
        analyses.compliance, indicators, district_targets=district_targets_path, header_row=header_row, settings=config
    )
    if suffix == ".xlsx":
        io.write_sheets(
            {
                "目标评估结果": results.rename(columns=analysis.LABELS),
                "汇总": analysis.summary(results).rename(columns=analysis.LABELS),
                "说明": pd.DataFrame({"说明": analysis.notes(results) + notes}),
            },
            output,
        )
    else:
        from cqgis.maps import export_styles, theme_compliance

        mapped = theme_compliance.status_frame(results, analyses.inputs(None, "districts", config), target_id)
        export_styles.write_styled({target_id: theme_compliance.status_layer(mapped)}, output)
    counts = results["status"].value_counts()
    synthetic = (results["precision"] == "synthetic").any()
    click.echo(
        ", ".join(f"{s} {counts.get(s, 0)}" for s in analysis.STATUSES)
        + f"{'; synthetic example data' if synthetic else ''} -> {output}"
    )

