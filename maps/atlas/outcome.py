"""What happened to one atlas map: built, skipped as up to date, or failed with a one-line reason."""

from __future__ import annotations

from dataclasses import dataclass

from cqgis.maps.atlas.items import AtlasItem

BUILT, SKIPPED, FAILED = "built", "skipped", "failed"




@dataclass(frozen=True)
class Outcome:
    """What happened to one item: ``built``, ``skipped`` (up to date) or ``failed`` with a reason."""

    item: AtlasItem
    status: str
    reason: str = ""
