"""`cqgis analyze`: the analyses, one module per subcommand."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import click

from cqgis.cli.main import LazyGroup

#: Subcommand name -> "module:attribute" under cqgis.cli.
COMMANDS: Mapping[str, str] = MappingProxyType({
    "attribute": "analyze.attribute:attribute",
    "catchment": "analyze.catchment:catchment",
    "coverage": "analyze.coverage:coverage",
    "cross-border": "analyze.cross_border:cross_border",
    "compliance": "analyze.compliance:compliance",
    "green": "analyze.green:green",
    "rural-sewage": "analyze.rural_sewage:rural_sewage",
    "upstream": "analyze.catchment:upstream",
    "water-quality": "analyze.water_quality:water_quality",
})


@click.group(cls=LazyGroup, lazy_commands=COMMANDS)
def analyze() -> None:
    """Spatial analyses for the plan: attribution, water quality, coverage, compliance ..."""
