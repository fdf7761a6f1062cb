"""Errors the ``cqgis`` command line raises itself; the top-level group prints each as one line."""

from __future__ import annotations

from cqgis.errors import CqgisError, UsageError


class OptionError(UsageError):
    """A command-line option or argument that cannot be used (exit status 2)."""


class RunError(CqgisError):
    """A command that ran to the end but some of its steps or outputs failed (exit status 1)."""
