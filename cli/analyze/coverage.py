"""`cqgis analyze coverage`: area and settlements of each zone within a radius of facilities, and a distance raster."""

from __future__ import annotations

from pathlib import Path

import click

from cqgis.cli.errors import OptionError
from cqgis.cli.options import (
    crs_option,
    data_dir_option,
    header_row_option,
    output_option,
    radius_option,
    read_features,
    refuse_input_as_output,
    status_option,
)


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
@radius_option(required=True)
@click.option("--settlements", "settlements_spec", metavar="LAYER_OR_FILE", help="Settlement points to count.")
@status_option()
@crs_option("the coordinates of the files given are")
@output_option("File for the zones; its extension picks the format.")
@click.option(
    "--raster",
    type=click.Path(path_type=Path),
    callback=lambda ctx, param, value: _tif(value),
    help="Also write the distance to the nearest facility over Chongqing (100 m GeoTIFF) and add its zonal statistics.",
)
@header_row_option
@data_dir_option
def coverage(
    facilities_spec: str,
    zones_spec: str,
    radius_m: float,
    settlements_spec: str | None,
    scenario: str,
    source: str | None,
    output: Path,
    raster: Path | None,
    header_row: int | None,
    data_dir: Path | None,
) -> None:
    """Measure, per zone, the area and settlements within --radius metres of the facilities of --status."""
    from cqgis import analyses
    from cqgis.analysis import coverage as analysis
    from cqgis.config import settings
    from cqgis.geo import io
    from cqgis.maps.export_styles import plain_style

    links_path = output.with_name(f"{output.stem}_links{output.suffix}")
    refuse_input_as_output([output, links_path, raster], [facilities_spec, zones_spec, settlements_spec])
    read = {"crs": source, "header_row": header_row, "credit": True, "data_dir": data_dir}
    facilities = read_features(facilities_spec, **read)
    zones = read_features(zones_spec, **read)
    result = analyses.assess_coverage(
        facilities,
        zones,
        radius_m=radius_m,
        status=scenario,
        settlements=read_features(settlements_spec, **read) if settlements_spec else None,
        settings=settings(data_dir=data_dir),
    )
    table = result.zones
    if raster is not None:
        if result.counted.empty:
            msg = (
                f"--raster: no facility counts under {analysis.scenario_label(scenario)} "
                f"({len(result.left_out)} left out), so there is nothing to measure distances to; "
                "try --status 含在建 or 含规划"
            )
            raise OptionError(msg)
        distances, profile = analysis.distance_raster(result.counted, path=raster)
        table = table.join(analysis.zonal_stats(distances, profile, zones, radius_m))
    io.write(table, output, style=plain_style(output.stem, table))
    io.write(result.links, links_path, style=plain_style(links_path.stem, result.links))
    left = result.left_out
    names = left["name"] if "name" in left else left.index
    left_out = "、".join(f"{name}（{reason}）" for name, reason in zip(names, left["reason"]))
    click.echo(
        f"{analysis.scenario_label(scenario)}: {len(result.counted)} of {len(facilities)} facilities counted"
        + (f"; not counted: {left_out}" if left_out else "")
    )
    click.echo(
        f"{len(table)} zones, {len(result.links)} facility-zone links, "
        f"{table['covered_km2'].sum():.1f} km² covered: {output}, {links_path}"
        + (f", {raster}" if raster is not None else "")
    )
