"""Errors raised by the analysis package: inputs and reference layers an analysis cannot use."""

from cqgis.errors import CqgisError, UsageError


class AnalysisError(CqgisError):
    """An analysis that cannot run on the data it was given."""


class AttributionError(AnalysisError):
    """A layer that cannot be attributed: no CRS, clashing columns, an unusable reference layer."""


class ParameterError(UsageError, AnalysisError):
    """A parameter an analysis cannot work with: a radius that is no positive distance, an unknown scenario."""


class AnalysisNote(UserWarning):
    """What an analysis says about its result: what a figure counts, what it left out (the CLI prints it as a note)."""
