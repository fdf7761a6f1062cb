"""`cqgis analyze cross-border`: the monitoring sections on rivers crossing the Chongqing–Sichuan border, with their direction."""

from __future__ import annotations

from pathlib import Path

import click

from cqgis.cli.errors import OptionError
from cqgis.cli.options import data_dir_option, header_row_option, output_option, refuse_input_as_output, sections_option
from cqgis.config import CROSS_BORDER_REACH_KM

RIVERS_SHEET = "跨界河流"
SECTIONS_SHEET = "跨界断面"


@click.command("cross-border", epilog="Example: cqgis analyze cross-border -o 川渝跨界断面.xlsx")
@click.option(
    "--reach",
    "reach_km",
    type=float,
    default=CROSS_BORDER_REACH_KM,
    show_default=True,
    help="How far along the flow from a section a border crossing is looked for, in km.",
)
@sections_option
@output_option("An .xlsx workbook with two sheets: the river crossings and the sections.", required=False)
@data_dir_option
@header_row_option
def cross_border(
    reach_km: float, sections_path: str | None, output: Path | None, data_dir: Path | None, header_row: int | None
) -> None:
    """List the cross-border sections (川入渝 / 渝入川): documented, or nearest a crossing of the flow; report conflicts."""
    from cqgis import analyses
    from cqgis.analysis import cross_border as analysis
    from cqgis.config import settings
    from cqgis.geo import io

    if output is not None and output.suffix.lower() != ".xlsx":
        msg = f"-o {output.name}: write an .xlsx workbook"
        raise OptionError(msg)
    refuse_input_as_output([output], [sections_path])
    config = settings(data_dir=data_dir)
    sections = analyses.cross_border(
        analyses.inputs(sections_path, "sections", config, header_row), reach_km=reach_km, settings=config
    )
    rivers = analysis.cross_border_rivers(sections)
    for _, row in rivers.iterrows():
        both = "、".join(filter(None, (row["sections_in_sichuan"], row["sections_in_chongqing"])))
        click.echo(f"{row['river']}  {row['direction']}  {both}  [{row['precision']}]")
    for _, row in sections[sections["conflict"] != ""].iterrows():
        click.echo(f"流向冲突：{row['name']}（{row['river']}）{row['conflict']}")
    if output is not None:
        io.write_sheets(
            {
                RIVERS_SHEET: rivers.rename(columns=analysis.RIVER_LABELS),
                SECTIONS_SHEET: sections.rename(columns=analysis.SECTION_LABELS),
            },
            output,
        )
        click.echo(f"{len(rivers)} river crossings, {len(sections)} cross-border sections -> {output}")
