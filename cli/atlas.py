"""`cqgis atlas CONFIG.yaml`: render every map of an atlas config, its index page and one PDF per theme."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cqgis.cli.errors import OptionError, RunError
from cqgis.cli.options import data_dir_option

if TYPE_CHECKING:
    from cqgis.maps.atlas import AtlasReport, Outcome

#: Failures listed one per line in the summary before "... and N more".
SUMMARY_LIMIT = 50


@click.command()
@click.argument("config_path", metavar="CONFIG.yaml", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: the config's 'output', relative to the config file).",
)
@click.option(
    "-j",
    "--workers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Maps drawn at once, each in its own process.",
)
@click.option(
    "--scheduler",
    metavar="tcp://HOST:PORT",
    help="Draw the maps on this Dask distributed cluster; its workers must see the output folder.",
)
@click.option("--force", is_flag=True, help="Redraw every map, even those whose inputs have not changed.")
@data_dir_option
def atlas(
    config_path: Path,
    output: Path | None,
    workers: int,
    scheduler: str | None,
    force: bool,
    data_dir: Path | None,
) -> None:
    """Draw the maps listed in CONFIG.yaml (theme x district, basin, river or city).

    Writes every map, an index.html with thumbnails and links (opens
    offline), and one multi-page PDF per theme; when maps are written as
    gpkg or qgz, a QGIS project per theme (atlas-THEME.qgz) and one for the
    whole atlas (atlas.qgz), grouped as the index. Maps whose inputs and
    config have not changed since the last run are skipped. A failing map
    does not stop the others: they are listed at the end and the exit
    status is 1.
    """
    from cqgis.config import settings
    from cqgis.maps import atlas as engine

    if scheduler is not None and workers != 1:
        msg = "--workers and --scheduler exclude each other: a Dask cluster has its own workers"
        raise OptionError(msg)
    config = engine.read_config(config_path, output)
    config_settings = settings(data_dir=data_dir)
    items = engine.plan(config, config_settings)
    with _progress(len(items)) as report_outcome:
        report = engine.run_atlas(
            config,
            workers=workers,
            scheduler=scheduler,
            force=force,
            settings=config_settings,
            progress=report_outcome,
            items=items,
        )
    _summary(report)
    failures = report.failures
    if failures:
        msg = f"{len(failures)} of the atlas's outputs failed (listed above)"
        raise RunError(msg)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[Outcome], None]]:
    """Yield a callback for finished maps: a progress bar with ETA on a terminal, else one log line each."""
    if sys.stderr.isatty():
        with click.progressbar(length=total, label="绘制地图", file=sys.stderr, show_eta=True) as bar:
            yield lambda outcome: bar.update(1)
        return
    done = 0

    def log(outcome: Outcome) -> None:
        nonlocal done
        done += 1
        reason = f": {outcome.reason}" if outcome.reason else ""
        click.echo(f"[{done}/{total}] {outcome.status} {outcome.item.ident}{reason}", err=True)

    yield log


def _summary(report: AtlasReport) -> None:
    """Print the counts of drawn, skipped and failed maps, then the first failures with their reasons."""
    from cqgis.maps.atlas import BUILT, FAILED, SKIPPED

    click.echo(
        f"{len(report.outcomes)} maps: {report.count(BUILT)} drawn, {report.count(SKIPPED)} up to date, "
        f"{report.count(FAILED)} failed; index: {report.index}",
        err=True,
    )
    if report.projects:
        click.echo(f"QGIS projects: {', '.join(path.name for path in report.projects)}", err=True)
    failures = report.failures
    for what, reason in failures[:SUMMARY_LIMIT]:
        click.echo(f"  FAILED {what}: {reason}", err=True)
    if len(failures) > SUMMARY_LIMIT:
        click.echo(f"  ... and {len(failures) - SUMMARY_LIMIT} more", err=True)
