"""`cqgis analyze cross-border`: the monitoring sections on rivers crossing the Chongqing–Sichuan border, with their direction."""

from __future__ import annotations

from pathlib import Path

import click

from cqgis.cli.errors import OptionError
from cqgis.cli.options import data_dir_option, header_row_option, load_input, refuse_input_as_output

RIVERS_SHEET = "跨界河流"
SECTIONS_SHEET = "跨界断面"


@click.command("cross-border", epilog="Example: cqgis analyze cross-border --distance 10 -o 川渝跨界断面.xlsx")
@click.option(
    "--distance",
    "distance_km",
    type=float,
    default=None,
    help="Farthest a section may lie from the border, in km [default: 15].",
)
@click.option("--tolerance", type=float, default=None, help="Farthest a section may lie from its river, in metres [default: 5000].")
@click.option("--sections", "sections_path", help="Your sections table instead of the sections layer.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="An .xlsx workbook with two sheets: the river crossings and the sections.",
)
@data_dir_option
@header_row_option
def cross_border(
    distance_km: float | None,
    tolerance: float | None,
    sections_path: str | None,
    output: Path | None,
    data_dir: Path | None,
    header_row: int | None,
) -> None:
    """List the cross-border sections (川入渝 / 渝入川) and check the data's direction against the rivers."""
    from cqgis.analysis import cross_border as analysis
    from cqgis.analysis import river_network
    from cqgis.geo import io

    if output is not None and output.suffix.lower() != ".xlsx":
        msg = f"-o {output.name}: write an .xlsx workbook"
        raise OptionError(msg)
    refuse_input_as_output([output], [sections_path])
    sections = analysis.cross_border_sections(
        load_input(sections_path, "sections", data_dir, header_row),
        load_input(None, "rivers", data_dir),
        load_input(None, "border", data_dir),
        load_input(None, "districts", data_dir),
        load_input(None, "neighbors", data_dir),
        distance_m=analysis.DEFAULT_DISTANCE_M if distance_km is None else distance_km * 1000.0,
        tolerance_m=river_network.DEFAULT_SNAP_M if tolerance is None else tolerance,
    )
    rivers = analysis.cross_border_rivers(sections)
    for _, row in rivers.iterrows():
        both = "、".join(filter(None, (row["sections_in_sichuan"], row["sections_in_chongqing"])))
        click.echo(f"{row['river']}  {row['direction']}  {both}  [{row['precision']}]")
    disagree = sections[sections["agrees"].eq(False)]
    for _, row in disagree.iterrows():
        click.echo(
            f"流向不一致：{row['name']}（{row['river']}）数据 {row['direction_data']}，河网几何 {row['direction_geometry']}"
        )
    if output is not None:
        io.write_sheets(
            {
                RIVERS_SHEET: rivers.rename(columns=analysis.RIVER_LABELS),
                SECTIONS_SHEET: sections.rename(columns=analysis.SECTION_LABELS),
            },
            output,
        )
        click.echo(f"{len(rivers)} river crossings, {int(sections['cross_border'].sum())} cross-border sections -> {output}")
