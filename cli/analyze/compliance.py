"""`cqgis analyze compliance`: the plan's targets against achieved values, city-wide and per district."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cqgis.cli.errors import OptionError
from cqgis.cli.options import data_dir_option, header_row_option, load_input, output_option, refuse_input_as_output

if TYPE_CHECKING:
    import pandas as pd


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

    from cqgis.analysis import compliance as analysis
    from cqgis.geo import io

    suffix = output.suffix.lower()
    if suffix not in (".xlsx", ".gpkg"):
        msg = f"-o {output.name}: write an .xlsx or a .gpkg"
        raise OptionError(msg)
    refuse_input_as_output([output], [indicators, district_targets_path])
    targets = load_input(None, "targets", data_dir)
    districts = load_input(None, "districts", data_dir)
    values = load_input(indicators, "indicators", data_dir, header_row)
    values, note = analysis.with_rural_sewage(values, load_input(None, "rural_sewage", data_dir), targets)
    if note:
        click.echo(note)
    own = _district_targets(district_targets_path, header_row) if district_targets_path is not None else None
    results = analysis.evaluate(targets, values, districts, own)
    if suffix == ".xlsx":
        io.write_sheets(
            {
                "目标评估结果": results.rename(columns=analysis.LABELS),
                "汇总": analysis.summary(results).rename(columns=analysis.LABELS),
                "说明": pd.DataFrame({"说明": analysis.notes(results) + ([note] if note else [])}),
            },
            output,
        )
    else:
        from cqgis.maps import export_styles, theme_compliance

        mapped = theme_compliance.status_frame(results, districts, target_id)
        export_styles.write_styled({target_id: theme_compliance.status_layer(mapped)}, output)
    counts = results["status"].value_counts()
    synthetic = (results["precision"] == "synthetic").any()
    click.echo(
        ", ".join(f"{s} {counts.get(s, 0)}" for s in analysis.STATUSES)
        + f"{'; synthetic example data' if synthetic else ''} -> {output}"
    )


def _district_targets(path: Path, header_row: int | None = None) -> pd.DataFrame:
    """Read and check the user's district-targets table (rows and columns named on error)."""
    from cqgis.layers import district_targets, user
    from cqgis.layers.errors import LayerError

    report = user.load(path, district_targets, header_row=header_row)
    if not report.ok:
        msg = f"district targets {report.format(limit=10)}"
        raise LayerError(msg)
    return report.frame
