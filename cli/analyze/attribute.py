"""`cqgis analyze attribute`: add district, region group, functional zones and basin to a layer."""

from __future__ import annotations

from pathlib import Path

import click

# Light on purpose: geo.io defers its heavy imports, so `cqgis --help` stays fast.
from cqgis.cli.options import (
    crs_option,
    data_dir_option,
    header_row_option,
    lat_option,
    layer_option,
    lon_option,
    output_option,
    read_features,
    refuse_input_as_output,
)
from cqgis.config import ATTRIBUTION_TOLERANCE_M
from cqgis.geo.io import READ_EXTENSIONS, WRITE_EXTENSIONS


@click.command(
    "attribute",
    epilog=(
        f"Reads {' '.join(READ_EXTENSIONS)} or a layer name; writes {' '.join(WRITE_EXTENSIONS)}. "
        "Example: cqgis analyze attribute 加氢站.csv --crs gcj02 -o 加氢站_区县.xlsx"
    ),
)
@click.argument("input_spec", metavar="INPUT")
@output_option()
@crs_option()
@layer_option
@lon_option
@lat_option
@header_row_option
@data_dir_option
@click.option(
    "--tolerance",
    "tolerance_m",
    type=float,
    default=ATTRIBUTION_TOLERANCE_M,
    show_default=True,
    help="Metres outside every district within which a feature still takes the nearest one.",
)
@click.option("--zones/--no-zones", default=True, show_default=True, help="Add the functional zones.")
@click.option("--basins/--no-basins", default=True, show_default=True, help="Add the basin.")
@click.option(
    "--replace",
    is_flag=True,
    help="Drop INPUT's own adcode/district/region/zones/basin columns and write the computed ones instead.",
)
def attribute(
    input_spec: str,
    output: Path,
    source: str | None,
    layer: str | None,
    lon: str | None,
    lat: str | None,
    header_row: int | None,
    data_dir: Path | None,
    tolerance_m: float,
    zones: bool,
    basins: bool,
    replace: bool,
) -> None:
    """Add adcode, district, region, functional zones and basin to INPUT's features, write OUTPUT.

    Points on a border take the lowest adcode and are flagged ``boundary``;
    points just outside (border rivers) take the nearest district, flagged ``near``.
    """
    from cqgis import analyses
    from cqgis.config import settings
    from cqgis.geo import io
    from cqgis.maps.export_styles import plain_style

    refuse_input_as_output([output], [input_spec])
    frame = read_features(input_spec, crs=source, layer=layer, lon=lon, lat=lat, header_row=header_row, data_dir=data_dir)
    result = analyses.attribute(
        frame, zones=zones, basins=basins, tolerance_m=tolerance_m, replace=replace, settings=settings(data_dir=data_dir)
    )
    io.write(result, output, style=plain_style(output.stem, result))
    flags = result["attribution_flag"].value_counts()
    summary = ", ".join(f"{flag} {count}" for flag, count in flags.items() if count)
    click.echo(f"{len(result)} features ({summary}): {output}")
