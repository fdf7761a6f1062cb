"""`cqgis analyze rural-sewage`: treatment rates by district against the plan's 40 % and the priority untreated settlements."""

from __future__ import annotations

from pathlib import Path

import click

from cqgis.cli.errors import OptionError
from cqgis.cli.options import data_dir_option, header_row_option, output_option, refuse_input_as_output


@click.command("rural-sewage")
@click.argument("settlements", required=False, metavar="[SETTLEMENTS]")
@output_option("An .xlsx workbook (rates and priority sheets) or a .gpkg (district polygons with rates, priority points).")
@click.option(
    "--target",
    type=float,
    help="Target rate in percent; default: the plan's, from the targets layer.",
)
@data_dir_option
@header_row_option
def rural_sewage(
    settlements: str | None, output: Path, target: float | None, data_dir: Path | None, header_row: int | None
) -> None:
    """Rate of rural settlements with sewage treatment, per district, against the target.

    SETTLEMENTS is your survey file, one row per settlement: name (名称),
    coordinates (经度, 纬度; the district comes from them), 是否治理, and
    where known 户数 and 常住人口; default: the embedded example, which is
    synthetic (示例数据).
    """
    import pandas as pd

    from cqgis import analyses
    from cqgis.analysis import rural_sewage as analysis
    from cqgis.config import settings
    from cqgis.geo import io

    suffix = output.suffix.lower()
    if suffix not in (".xlsx", ".gpkg"):
        msg = f"-o {output.name}: write an .xlsx or a .gpkg"
        raise OptionError(msg)
    refuse_input_as_output([output], [settlements])
    config = settings(data_dir=data_dir)
    frame = analyses.inputs(settlements, "rural_sewage", config, header_row)
    outside = analysis.outside_chongqing(frame)
    if len(outside):
        rows = io.row_numbers(frame)[frame.index.get_indexer(outside.index)]
        listed = ", ".join(f"{name} (row {row})" for name, row in zip(outside["name"], rows))
        click.echo(f"left out, outside Chongqing: {listed}", err=True)
    rates = analyses.rural_sewage(frame, target=target, settings=config)
    priority = analyses.priority_untreated(frame, settings=config)
    # Every row is judged against the same target, the plan's when none was given.
    target = float(rates["target"].iloc[-1])
    if suffix == ".xlsx":
        io.write_sheets(
            {
                "区县治理率": rates.rename(columns=analysis.RATE_LABELS),
                "重点未治理集聚点": priority.rename(columns=analysis.SETTLEMENT_LABELS),
                "说明": pd.DataFrame({"说明": [analysis.PLAN_BASIS, f"本表统计对象：{rates['counted'].iloc[0]}。"]}),
            },
            output,
        )
    else:
        from cqgis.maps import export_styles, theme_rural_sewage as theme

        polygons = theme.district_rates(analyses.inputs(None, "districts", config), rates, target)
        export_styles.write_styled(
            {"rates": theme.rates_layer(polygons, target), "priority_untreated": theme.priority_layer(priority)}, output
        )
    city = rates.iloc[-1]
    below = int((~rates["meets_target"].iloc[:-1].astype(bool)).sum())
    click.echo(
        f"全市 {city['rate_count']:.1f}% of {city['counted']} treated against {target:g}% "
        f"({below} of {len(rates) - 1} districts below); {len(priority)} priority settlements untreated"
        f"{'; synthetic example data' if city['precision'] == 'synthetic' else ''} -> {output}"
    )
