"""`cqgis demo`: every layer, every analysis and the atlas from the embedded data, into one folder."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from cqgis.config import COVERAGE_RADIUS_M

#: The demo's atlas configuration, installed with the package.
DEMO_ATLAS = Path(str(resources.files("cqgis.maps") / "data" / "demo_atlas.yaml"))


@click.command()
@click.option(
    "-o",
    "--output",
    default="out",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into.",
)
@click.option(
    "-j",
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(min=1),
    help="Processes building the layers and drawing the atlas in parallel.",
)
def demo(output: Path, workers: int) -> None:
    """Build the layers, run every analysis and draw the atlas into OUTPUT.

    Layers go to OUTPUT/layers/ (GeoPackage), analyses to OUTPUT/analysis/,
    the atlas (every theme for the city and each district, as HTML and PNG,
    the city maps also as PDF and GeoPackage, and a PDF book per theme) to
    OUTPUT/THEME/, with OUTPUT/index.html linking every map.
    Several embedded layers are synthetic examples (measurements,
    rural_sewage, indicators): every result built on them says so.
    """
    from cqgis.cli.errors import RunError

    # The command line that runs the demo runs its steps: found through click, not imported back.
    cli = click.get_current_context().find_root().command

    layer_dir = output / "layers"
    analysis_dir = output / "analysis"
    layer_dir.mkdir(parents=True, exist_ok=True)
    analysis_dir.mkdir(parents=True, exist_ok=True)
    _export_layers(layer_dir, workers)
    if workers > 1:
        from cqgis.maps.atlas.workers import start_server

        # The atlas's workers are forked from a server whose imports then
        # overlap the analyses, which keep one core busy.
        start_server()
    failed = []
    for args in _analyses(analysis_dir):
        click.echo(f"cqgis {' '.join(args)}")
        # Each step runs exactly as a user would type it; one failure does not stop the rest.
        if not _run(cli, args):
            failed.append(args[1])
    atlas = ["atlas", str(DEMO_ATLAS), "-o", str(output), "--workers", str(workers)]
    click.echo(f"cqgis {' '.join(atlas)}")
    if not _run(cli, atlas):
        failed.append("atlas")
    if failed:
        msg = f"demo finished with failures in: {', '.join(failed)} (see the messages above)"
        raise RunError(msg)
    click.echo(f"Open {(output / 'index.html').resolve()}")


def _run(cli: click.Group, args: list[str]) -> bool:
    """Run one `cqgis` command line as a user would; True when it succeeded (its error is printed)."""
    try:
        cli.main(args, prog_name="cqgis", standalone_mode=False)
    except SystemExit as exc:
        return not exc.code
    except click.ClickException as exc:
        exc.show()
        return False
    return True


def _export_layers(folder: Path, workers: int) -> None:
    """Write every catalogue layer into ``folder``: GeoPackage for geometry layers, CSV for tables.

    Layers not yet cached are first built ``workers`` at a time.
    """
    from cqgis.geo import io
    from cqgis.layers import catalog
    from cqgis.maps.export_styles import catalog_style

    built = catalog.prepare(workers=workers)
    if built:
        click.echo(f"built {len(built)} layers in {workers} processes: {', '.join(built)}")
    for name in catalog.names():
        frame = catalog.load(name)
        geometry = catalog.schema(name).geometry_type is not None
        target = folder / (f"{name}.gpkg" if geometry else f"{name}.csv")
        io.write(frame, target, style=catalog_style(name, frame) if geometry else None)
        click.echo(f"{name:<20} {len(frame):>6} features -> {target}")


def _analyses(folder: Path) -> list[list[str]]:
    """The analyses the demo runs, as `cqgis` command lines."""
    return [
        ["analyze", "water-quality", "default", "--period", "year", "-o", str(folder / "水质评价_年度.xlsx")],
        ["analyze", "water-quality", "default", "--period", "quarter", "-o", str(folder / "水质评价_季度.xlsx")],
        ["analyze", "rural-sewage", "-o", str(folder / "农村生活污水治理率.xlsx")],
        ["analyze", "compliance", "-o", str(folder / "目标达标评估.xlsx")],
        ["analyze", "green", "-o", str(folder / "绿色工厂与绿色园区.xlsx")],
        # Operating stations today; the distance raster needs stations, so it is drawn for the planned network.
        [
            "analyze", "coverage", "--facilities", "h2_stations", "--zones", "h2_zones",
            "--settlements", "rural_settlements", "--radius", f"{COVERAGE_RADIUS_M:g}", "--status", "现状",
            "-o", str(folder / "加氢站覆盖_现状.gpkg"),
        ],
        [
            "analyze", "coverage", "--facilities", "h2_stations", "--zones", "h2_zones",
            "--settlements", "rural_settlements", "--radius", f"{COVERAGE_RADIUS_M:g}", "--status", "含规划",
            "-o", str(folder / "加氢站覆盖_含规划.gpkg"), "--raster", str(folder / "加氢站距离_含规划.tif"),
        ],
        ["analyze", "cross-border", "-o", str(folder / "川渝跨界断面.xlsx")],
        ["analyze", "catchment", "--section", "朱沱", "-o", str(folder / "朱沱汇水区.xlsx")],
        ["analyze", "catchment", "--section", "大安", "-o", str(folder / "琼江大安汇水区.gpkg")],
        ["analyze", "attribute", "sections", "--replace", "-o", str(folder / "断面_区县流域归属.xlsx")],
    ]
