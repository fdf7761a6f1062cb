"""`cqgis analyze coverage`: area and settlements of each zone within a radius of facilities, and a distance raster."""

from __future__ import annotations

from pathlib import Path

import click

from cqgis.cli.options import header_row_option, read_features, refuse_input_as_output


def _tif(path: Path | None) -> Path | None:
    """Accept only a GeoTIFF name for --raster, so the file is what its name says."""
    if path is not None and path.suffix.lower() not in (".tif", ".tiff"):
        msg = f"--raster {path.name}: the distance raster is a GeoTIFF; name it .tif"
        raise click.BadParameter(msg)
    return path


@click.command(
    "coverage",
    epilog=(
        "FACILITIES, ZONES and SETTLEMENTS are files or layer names. OUTPUT gets the zones; "
        "the facility-zone links go beside it as <stem>_links<ext>. "
        "Example: cqgis analyze coverage --facilities h2_stations --zones districts --radius 20000 "
        "-o 加氢站覆盖.gpkg --raster 距离.tif"
    ),
)
@click.option("--facilities", "facilities_spec", required=True, metavar="LAYER_OR_FILE", help="Facility points.")
@click.option("--zones", "zones_spec", required=True, metavar="LAYER_OR_FILE", help="Zone polygons.")
@click.option(
    "--radius",
    "radius_m",
    required=True,
    type=click.FloatRange(min=0, min_open=True),
    metavar="METRES",
    help="Service radius in metres.",
)
@click.option("--settlements", "settlements_spec", metavar="LAYER_OR_FILE", help="Settlement points to count.")
@click.option(
    "--crs",
    "source",
    metavar="CRS",
    help="What the coordinates of the files given are (wgs84, gcj02 for Amap, bd09, an EPSG code); "
    "default: each file's own CRS, tables wgs84. Layer names need none.",
)
@click.option(
    "-o", "--output", required=True, type=click.Path(path_type=Path), help="File for the zones; its extension picks the format."
)
@click.option(
    "--raster",
    type=click.Path(path_type=Path),
    callback=lambda ctx, param, value: _tif(value),
    help="Also write the distance to the nearest facility over Chongqing (100 m GeoTIFF) and add its zonal statistics.",
)
@header_row_option
def coverage(
    facilities_spec: str,
    zones_spec: str,
    radius_m: float,
    settlements_spec: str | None,
    source: str | None,
    output: Path,
    raster: Path | None,
    header_row: int | None,
) -> None:
    """Measure, per zone, the area and settlements within --radius metres of a facility."""
    from cqgis.analysis import coverage as analysis
    from cqgis.geo import io

    links_path = output.with_name(f"{output.stem}_links{output.suffix}")
    refuse_input_as_output([output, links_path, raster], [facilities_spec, zones_spec, settlements_spec])
    facilities = read_features(facilities_spec, crs=source, header_row=header_row)
    zones = read_features(zones_spec, crs=source, header_row=header_row)
    settlements = read_features(settlements_spec, crs=source, header_row=header_row) if settlements_spec else None
    result = analysis.coverage(facilities, zones, radius_m, settlements)
    table = result.zones
    if raster is not None:
        distances, profile = analysis.distance_raster(facilities, path=raster)
        table = table.join(analysis.zonal_stats(distances, profile, zones, radius_m))
    io.write(table, output)
    io.write(result.links, links_path)
    click.echo(
        f"{len(table)} zones, {len(result.links)} facility-zone links, "
        f"{table['covered_km2'].sum():.1f} km² covered: {output}, {links_path}"
        + (f", {raster}" if raster is not None else "")
    )
