"""`cqgis layers`: list the layer catalogue, show a layer's schema and rows, export or rebuild layers."""

from __future__ import annotations

import time
from pathlib import Path

import click

from cqgis.cli.options import output_option

#: Width at which long cells (sources, descriptions) are cut in terminal tables.
_CELL_WIDTH = 60


def _cut(text: object, width: int = _CELL_WIDTH) -> str:
    """Return ``text`` as one terminal cell of at most ``width`` characters, an ellipsis marking a cut."""
    text = "" if text is None else str(text)
    return text if len(text) <= width else text[: width - 1] + "…"


@click.group()
def layers() -> None:
    """The embedded layers: what they are, their schema, and exporting them."""


@layers.command("list")
def list_layers() -> None:
    """Print every layer: features, geometry type, precision mix and source."""
    from cqgis.config import PRECISIONS
    from cqgis.layers import catalog

    for name in catalog.names():
        frame = catalog.load(name)
        schema = catalog.schema(name)
        counts = frame["precision"].value_counts()
        mix = ", ".join(f"{p} {counts[p]}" for p in PRECISIONS if p in counts.index)
        sources = frame["source"].dropna().unique()
        more = f" (+{len(sources) - 1} more)" if len(sources) > 1 else ""
        click.echo(
            f"{name:<18} {schema.title_zh}  {len(frame)} features, "
            f"{schema.geometry_type or 'table'}; {mix}\n    source: {_cut(sources[0] if len(sources) else '')}{more}"
        )


@layers.command()
@click.argument("name")
@click.option("-n", "--rows", default=5, show_default=True, help="How many rows to print.")
def show(name: str, rows: int) -> None:
    """Print layer NAME's schema and its first rows."""
    import pandas as pd

    from cqgis.layers import catalog

    schema = catalog.schema(name)
    frame = catalog.load(name)
    click.echo(f"{schema.name}: {schema.title_zh} ({schema.geometry_type or 'table'}, {len(frame)} features)")
    click.echo(schema.description)
    for field in schema.fields:
        flags = "required" if field.required else "optional"
        allowed = f" one of {' / '.join(map(str, field.allowed))}" if field.allowed else ""
        click.echo(f"  {field.name:<22} {field.dtype:<6} {flags}{allowed}  {_cut(field.description)}")
    table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).head(rows)
    with pd.option_context("display.max_columns", None, "display.width", 200, "display.max_colwidth", 24):
        click.echo(table.to_string(index=False))


@layers.command()
@click.argument("name")
@output_option("File to write; its extension picks the format (gpkg, geojson, fgb, parquet, csv, xlsx).")
def export(name: str, output: Path) -> None:
    """Write layer NAME to OUTPUT in WGS84 (a GeoPackage with its QGIS style)."""
    from cqgis.geo import io
    from cqgis.layers import catalog

    frame = catalog.load(name)
    if output.suffix.lower() == ".gpkg":
        from cqgis.maps.export_styles import catalog_style

        io.write(frame, output, layer=name, style=catalog_style(name, frame))
    else:
        io.write(frame, output)
    click.echo(f"{name}: {len(frame)} features -> {output}")


@layers.command()
@click.argument("names", nargs=-1)
def build(names: tuple[str, ...]) -> None:
    """Rebuild layers NAMES (default: all) from their sources, replacing the cache."""
    from cqgis.layers import catalog

    for name in names or catalog.names():
        start = time.perf_counter()
        frame = catalog.load(name, rebuild=True)
        click.echo(f"{name}: {len(frame)} features in {time.perf_counter() - start:.1f} s")
