"""`cqgis convert`: convert a file's coordinates between WGS84/CGCS2000, GCJ-02, BD-09 and EPSG codes."""

from __future__ import annotations

from pathlib import Path

import click

# Light on purpose: geo.io defers its heavy imports, so `cqgis --help` stays fast.
from cqgis.cli.options import (
    header_row_option,
    is_csv,
    lat_option,
    layer_option,
    lon_option,
    output_option,
    refuse_input_as_output,
)
from cqgis.geo.io import READ_EXTENSIONS, WRITE_EXTENSIONS

_SYSTEMS = "wgs84, cgcs2000 (= wgs84), gcj02, bd09 or an EPSG code"


@click.command(
    epilog=(
        f"Reads {' '.join(READ_EXTENSIONS)}; writes {' '.join(WRITE_EXTENSIONS)}. "
        "Example: cqgis convert 站点.csv -o 站点_wgs84.csv --from gcj02 --to wgs84"
    )
)
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@output_option()
@click.option(
    "--from",
    "--crs",
    "source",
    metavar="CRS",
    help=f"What INPUT's coordinates are: {_SYSTEMS}. Default: the file's own CRS (tables: wgs84).",
)
@click.option(
    "--to",
    "target",
    metavar="CRS",
    default="wgs84",
    show_default=True,
    help=f"What OUTPUT's coordinates should be: {_SYSTEMS}.",
)
@layer_option
@lon_option
@lat_option
@header_row_option
def convert(
    input_path: Path,
    output: Path,
    source: str | None,
    target: str,
    layer: str | None,
    lon: str | None,
    lat: str | None,
    header_row: int | None,
) -> None:
    """Convert INPUT's coordinates and write them to OUTPUT.

    INPUT is any vector file or CSV/XLSX table of points. Vector geometries
    are converted and their attributes kept; a table keeps exactly its
    columns, in order, with the coordinate columns rewritten in place.
    CSV to CSV goes in blocks of rows, in memory that does not grow with
    the file, and every other cell is written as it was read.
    """
    from cqgis.geo import crs, io
    from cqgis.maps.export_styles import plain_style

    # Check --to before reading, so a typo does not wait for a large file.
    crs.parse_crs(target)
    refuse_input_as_output([output], [input_path])
    if is_csv(input_path) and output.suffix.lower() == ".csv" and layer is None:
        blocks = io.iter_table(input_path, lon=lon, lat=lat, crs=source or "wgs84", header_row=header_row)
        count = io.write_blocks((crs.from_wgs84(block, target) for block in blocks), output)
    else:
        frame = io.read(input_path, layer=layer, crs=source, lon=lon, lat=lat, header_row=header_row)
        # The style is made from the WGS84 frame the maps' layer specs take; it holds no coordinates.
        io.write(crs.from_wgs84(frame, target), output, style=plain_style(output.stem, frame))
        count = len(frame)
    click.echo(f"{count} features, {source or 'file CRS'} -> {target}: {output}")
