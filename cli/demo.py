"""`cqgis demo`: build everything from the embedded data into one output folder."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option(
    "-o",
    "--output",
    default="out",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into.",
)
def demo(output: Path) -> None:
    """Build every embedded layer and export it to OUTPUT/layers/ as GeoPackage."""
    from cqgis.config import settings
    from cqgis.geo import io
    from cqgis.layers import catalog

    config = settings()
    layer_dir = output / "layers"
    layer_dir.mkdir(parents=True, exist_ok=True)
    for name in catalog.names():
        frame = catalog.load(name, config)
        target = layer_dir / f"{name}.gpkg"
        io.write(frame, target)
        click.echo(f"{name:<20} {len(frame):>6} features -> {target}")
    click.echo(f"Done: {output.resolve()}")
