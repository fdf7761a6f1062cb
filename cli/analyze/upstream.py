"""`cqgis analyze upstream`: the districts, Sichuan prefectures and provinces upstream of a monitoring section."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from cqgis.cli.errors import OptionError
from cqgis.cli.options import data_dir_option, header_row_option, load_input, refuse_input_as_output

if TYPE_CHECKING:
    import pandas as pd


def _section(sections: pd.DataFrame, name: str) -> pd.Series:
    """Return the section row called ``name`` (or with that code); a clean error listing close names."""
    import difflib

    hits = sections[(sections["name"] == name) | (sections["code"] == name)]
    if len(hits) == 1:
        return hits.iloc[0]
    if len(hits) > 1:
        codes = "、".join(hits["code"].astype(str))
        msg = f"--section {name}: {len(hits)} sections have that name ({codes}); give the code"
        raise OptionError(msg)
    close = difflib.get_close_matches(name, sections["name"].astype(str).tolist(), n=5, cutoff=0.0)
    msg = f"--section {name}: no such section; close names: {'、'.join(close)}"
    raise OptionError(msg)


@click.command(epilog="Example: cqgis analyze upstream --section 朱沱 -o 朱沱上游.gpkg")
@click.option("--section", "name", required=True, help="Section name (断面名称, e.g. 朱沱) or code (CQ-S001).")
@click.option(
    "--tolerance",
    type=float,
    default=None,
    help="Farthest the section may lie from its river, in metres [default: 5000].",
)
@click.option("--sections", "sections_path", help="Your sections table instead of the sections layer.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Write the upstream reaches here (gpkg, geojson, fgb, parquet, csv, xlsx).",
)
@data_dir_option
@header_row_option
def upstream(
    name: str,
    tolerance: float | None,
    sections_path: str | None,
    output: Path | None,
    data_dir: Path | None,
    header_row: int | None,
) -> None:
    """Print the areas the river upstream of a section passes through, with km of river in each.

    The river network covers Chongqing and about 100 km around it, so the
    upstream stops at that belt's edge.
    """
    from cqgis.analysis import river_network
    from cqgis.geo import io

    tolerance_m = river_network.DEFAULT_SNAP_M if tolerance is None else tolerance
    refuse_input_as_output([output], [sections_path])
    sections = load_input(sections_path, "sections", data_dir, header_row)
    rivers = load_input(None, "rivers", data_dir)
    section = _section(sections, name)
    graph = river_network.build_graph(rivers)
    reaches = river_network.upstream(graph, river_network.snap(section.geometry, rivers, tolerance_m, section.get("river")))
    areas = river_network.reach_areas(reaches, load_input(None, "districts", data_dir), load_input(None, "neighbors", data_dir))
    click.echo(f"{section['name']}（{section['river']}）上游流经地区（河网范围：重庆及周边约100 km）：")
    if areas.empty:
        click.echo("  （河网中该断面以上无河段：断面位于所匹配河段的源头，或河流未收录于河网图层）")
    for province, group in areas.groupby("province", sort=False):
        click.echo(f"{province}  合计 {group['length_km'].sum():.1f} km")
        for _, row in group[group["level"] != "省"].iterrows():
            click.echo(f"  {row['name']}  {row['length_km']:.1f} km  [{row['precision']}]")
    if output is not None:
        io.write(reaches, output)
        click.echo(f"{len(reaches)} upstream reaches -> {output}")
