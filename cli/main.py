"""The ``cqgis`` command group: loads subcommands on demand and maps errors to exit codes."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping

import click

from cqgis import __version__
from cqgis.errors import CqgisError

#: Subcommand name -> "module:attribute" under cqgis.cli. Modules are imported
#: only when their command runs, so `cqgis --version` does not load geopandas.
COMMANDS = {
    "analyze": "analyze:analyze",
    "atlas": "atlas:atlas",
    "convert": "convert:convert",
    "layers": "layers:layers",
    "map": "map:map_command",
    "validate": "validate:validate",
    "demo": "demo:demo",
}


class LazyGroup(click.Group):
    """A click group whose subcommands live in their own modules, imported on use.

    Parameters
    ----------
    lazy_commands : Mapping[str, str]
        Subcommand name -> ``"module:attribute"``, the module relative to
        ``cqgis.cli`` (``"analyze.coverage:coverage"`` for a nested group).
    """

    def __init__(self, *args: object, lazy_commands: Mapping[str, str], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return the subcommand names, sorted, without importing their modules."""
        return sorted(self.lazy_commands)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """Import and return subcommand ``name``; None when there is no such subcommand."""
        target = self.lazy_commands.get(name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        module = importlib.import_module(f"cqgis.cli.{module_name}")
        return getattr(module, attribute)


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
