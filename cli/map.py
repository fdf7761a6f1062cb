"""`cqgis map`: draw a thematic map of the plan for the city or one area, as HTML, PNG, PDF, SVG or GeoPackage."""

from __future__ import annotations

from pathlib import Path

import click

from cqgis.cli.options import data_dir_option, in_existing_folder, radius_option, status_option
from cqgis.maps.theme_names import THEMES

BASEMAPS = ("none", "osm", "gaode", "tianditu")


@click.command(
    "map",
    epilog=(
        "Themes: " + "; ".join(f"{name} {title}" for name, title in THEMES.items()) + ". "
        "Example: cqgis map water --district 潼南区 -o 潼南水质.html"
    ),
)
@click.argument("theme", type=click.Choice(list(THEMES)))
@click.option(
    "-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), callback=in_existing_folder,
    help="Map file: .html (interactive), .png, .pdf, .svg, .gpkg (the map's data layers, styled for QGIS) or .qgz (a QGIS project, with its .gpkg beside it).",
)
@click.option("--district", metavar="NAME", help="Focus on a district (full or short name, e.g. 潼南区 or 潼南).")
@click.option("--basin", metavar="NAME", help="Focus on a basin of the basins layer (e.g. 琼江).")
@click.option("--river", metavar="NAME", help="Focus on a river corridor (e.g. 长江).")
@click.option(
    "--basemap", type=click.Choice(BASEMAPS), default="none", show_default=True,
    help="Tiles under an HTML map; 'none' needs no network.",
)
@click.option("--tianditu-key", metavar="KEY", help="Tianditu browser key, for --basemap tianditu.")
@data_dir_option
@click.option("--target", metavar="ID", help="compliance: district-scope target id (default energy_intensity_gdp).")
@radius_option()
@status_option(passed=False)
def map_command(
    theme: str,
    output: Path,
    district: str | None,
    basin: str | None,
    river: str | None,
    basemap: str,
    tianditu_key: str | None,
    data_dir: Path | None,
    target: str | None,
    radius_m: float | None,
    scenario: str | None,
) -> None:
    """Draw the THEME map of the city, or of one --district, --basin or --river."""
    from cqgis.config import settings
    from cqgis.maps import themes

    # The same map object as cqgis.map() in Python: built once, saved in the format of the suffix.
    # The hydrogen and compliance themes' options are passed only when given: the theme checks them.
    themes.check_suffix(output)
    given = (("target", target), ("radius", radius_m), ("status", scenario))
    options = {key: value for key, value in given if value is not None}
    chosen = themes.make_map(
        theme, district=district, basin=basin, river=river, basemap=basemap,
        tianditu_key=tianditu_key, settings=settings(data_dir=data_dir), **options,
    )
    click.echo(f"{THEMES[theme]}: {chosen.save(output)}")
