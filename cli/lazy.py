"""A click group whose subcommands are imported when they run, so that `cqgis --version` does not load geopandas."""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import click


class LazyGroup(click.Group):
    """A click group whose subcommands live in their own modules, imported on use.

    Parameters
    ----------
    lazy_commands : Mapping[str, str]
        Subcommand name -> ``"module:attribute"``, the module's full name
        (``"cqgis.cli.analyze.coverage:coverage"``), so that the table that
        names a module is what depends on it.
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
        return getattr(importlib.import_module(module_name), attribute)
