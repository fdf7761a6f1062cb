"""The ``cqgis`` command group: loads subcommands on demand and maps errors to exit codes."""

from __future__ import annotations

import sys

import click

from cqgis.cli.lazy import LazyGroup
from cqgis.errors import CqgisError
from cqgis.version import __version__

#: Subcommand name -> "module:attribute". Modules are imported
#: only when their command runs, so `cqgis --version` does not load geopandas.
COMMANDS = {
    "analyze": "cqgis.cli.analyze:analyze",
    "atlas": "cqgis.cli.atlas:atlas",
    "convert": "cqgis.cli.convert:convert",
    "layers": "cqgis.cli.layers:layers",
    "map": "cqgis.cli.map:map_command",
    "validate": "cqgis.cli.validate:validate",
    "demo": "cqgis.cli.demo:demo",
}


class MainGroup(LazyGroup):
    """The top-level group: a :class:`CqgisError` becomes one line and its exit code."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command line; a :class:`CqgisError` becomes ``Error: ...`` and its exit code."""
        try:
            return super().invoke(ctx)
        except CqgisError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(
    cls=MainGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, "--version", prog_name="cqgis")
def cli() -> None:
    """GIS analysis and maps for Chongqing's 14th Five-Year energy-saving plan."""
