"""`cqgis analyze green`: listed green factories and green parks by district against the plan's 30 / 300."""

from __future__ import annotations

from pathlib import Path

import click

from cqgis.cli.errors import OptionError
from cqgis.cli.options import data_dir_option, output_option

LEVEL_CHOICES = ("国家级", "市级")


@click.command()
@output_option(
    "An .xlsx workbook (district counts, the units counted, published totals, notes) "
    "or a .gpkg of the districts with their counts."
)
@click.option(
    "--level",
    "levels",
    multiple=True,
    type=click.Choice(LEVEL_CHOICES),
    help="List level counted, repeatable; default: both 国家级 and 市级.",
)
@click.option("--until", type=click.IntRange(2000, 2100), help="Last list year counted; default: every year listed.")
@data_dir_option
def green(output: Path, levels: tuple[str, ...], until: int | None, data_dir: Path | None) -> None:
    """Green factories and green parks on the published lists, per district, against 2025's targets.

    Counts the green_factories layer and the parks on a green-park list
    (your own files in --data-dir replace them), each unit once. A unit
    whose district is not known is counted under 未定位, not in a district.
    The targets (30 parks, 300 factories) are city-wide: the plan does not
    split them among districts.
    """
    import pandas as pd

    from cqgis import analyses
    from cqgis.analysis import green_manufacturing as analysis
    from cqgis.config import settings
    from cqgis.geo import io

    suffix = output.suffix.lower()
    if suffix not in (".xlsx", ".gpkg"):
        msg = f"-o {output.name}: write an .xlsx or a .gpkg"
        raise OptionError(msg)
    levels = levels or LEVEL_CHOICES
    config = settings(data_dir=data_dir)
    counted = analyses.count_green(levels, until, config)
    counts, listed, targets = counted.counts, counted.listed, counted.targets
    reported = analysis.reported_totals()
    if suffix == ".xlsx":
        io.write_sheets(
            {
                "区县计数": counts.rename(columns=analysis.COUNT_LABELS),
                "计入名录": listed.rename(columns=analysis.UNIT_LABELS),
                "公布数": reported,
                "说明": pd.DataFrame({"说明": analysis.notes(listed, levels, until, targets, reported)}),
            },
            output,
        )
    else:
        from cqgis.maps import export_styles, theme_parks

        polygons = theme_parks.district_counts(analyses.inputs(None, "districts", config), counts)
        export_styles.write_styled({"green_counts": theme_parks.counts_layer(polygons)}, output)
    city = counts.set_index("district").loc[analysis.CITY]
    unplaced = counts.set_index("district").loc[analysis.UNPLACED]
    click.echo(
        f"全市 listed: {city['green_factories']} green factories (target {city['target_factories']:g}), "
        f"{city['green_parks']} green parks (target {city['target_parks']:g}); "
        f"{unplaced['green_factories'] + unplaced['green_parks']} without a district (未定位); "
        f"lists incomplete, counts are floors -> {output}"
    )
