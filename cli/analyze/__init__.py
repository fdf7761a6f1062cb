"""`cqgis analyze`: the analyses, one module per subcommand."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import click

from cqgis.cli.lazy import LazyGroup

#: Subcommand name -> "module:attribute".
COMMANDS: Mapping[str, str] = MappingProxyType({
    "attribute": "cqgis.cli.analyze.attribute:attribute",
    "catchment": "cqgis.cli.analyze.catchment:catchment",
    "coverage": "cqgis.cli.analyze.coverage:coverage",
    "cross-border": "cqgis.cli.analyze.cross_border:cross_border",
    "compliance": "cqgis.cli.analyze.compliance:compliance",
    "green": "cqgis.cli.analyze.green:green",
    "rural-sewage": "cqgis.cli.analyze.rural_sewage:rural_sewage",
    "upstream": "cqgis.cli.analyze.catchment:upstream",
    "water-quality": "cqgis.cli.analyze.water_quality:water_quality",
})


@click.group(cls=LazyGroup, lazy_commands=COMMANDS)
def analyze() -> None:
    """Spatial analyses for the plan: attribution, water quality, coverage, compliance ..."""
