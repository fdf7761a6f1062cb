"""Configuration in one place: coordinate systems, the study region and the cache directory."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

#: Geographic CRS every layer is stored in.
STORAGE_CRS = "EPSG:4326"

#: Albers equal-area conic fitted to 105-110.5 E, 28-32.5 N (standard parallels at
#: one sixth of the span from each edge): areas are exact, linear scale error < 0.1 %.
EQUAL_AREA_CRS = (
    "+proj=aea +lat_0=30.25 +lon_0=107.75 +lat_1=28.75 +lat_2=31.75 "
    "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs +type=crs"
)

#: Lambert conformal conic on the same parallels: angles and local distances,
#: used for buffers, nearest-distance rasters and tolerances in metres.
CONFORMAL_CRS = (
    "+proj=lcc +lat_0=30.25 +lon_0=107.75 +lat_1=28.75 +lat_2=31.75 "
    "+x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs +type=crs"
)

#: Bounds (lon_min, lat_min, lon_max, lat_max) the metric CRSs are fitted to.
METRIC_EXTENT = (105.0, 28.0, 110.5, 32.5)

#: Chongqing's own bounding box (WGS84), a little padded.
CHONGQING_BOUNDS = (105.2, 28.1, 110.3, 32.3)

#: Region data is expected in by default: Chongqing and its neighbours
#: (Sichuan, Guizhou, Hubei, Hunan, Shaanxi) in WGS84.
EXPECTED_REGION = (97.0, 24.5, 114.5, 35.0)


#: Precision of a feature, strongest first: ``exact`` as published, ``approximate``
#: (e.g. geocoded from a town seat), ``schematic`` (drawn to show a relation, not a
#: position) and ``synthetic`` (invented for the demo; maps say 示例数据).
PRECISIONS = ("exact", "approximate", "schematic", "synthetic")

#: Station-status scenarios of coverage (``--status``): name -> the statuses
#: counted. 现状 is what exists today; the others add what is being built or planned.
COVERAGE_SCENARIOS = {"现状": ("运营",), "含在建": ("运营", "在建"), "含规划": ("运营", "在建", "规划")}

#: Service radius of a hydrogen station, metres: what the hydrogen map and the
#: demo's coverage assume unless told otherwise (here, beside the scenarios, so
#: that the command line can show it without loading the analysis).
COVERAGE_RADIUS_M = 10_000.0

#: How far outside every district a feature may lie and still be attributed to
#: the nearest one, metres (:mod:`cqgis.analysis.attribution`).
ATTRIBUTION_TOLERANCE_M = 2000.0

#: How far along the flow from a section a border crossing is looked for, km
#: (:mod:`cqgis.analysis.cross_border`; here so that the command line shows it).
CROSS_BORDER_REACH_KM = 30.0


def _default_cache_dir() -> Path:
    override = os.environ.get("CQGIS_CACHE_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_cache_dir("cqgis"))


@dataclass(frozen=True)
class Settings:
    """Run-time settings; build one with :func:`settings` and pass it down.

    Parameters
    ----------
    cache_dir : Path
        Where built layers are cached (``CQGIS_CACHE_DIR`` overrides the
        platform's user cache directory).
    data_dir : Path or None
        A folder of the user's own files, one per layer, named after the
        layer (``sections.xlsx``, ``h2_stations.shp`` ...), with an optional
        ``columns.yaml`` mapping their headers; a file there replaces that
        layer's embedded default.
    """

    cache_dir: Path = field(default_factory=_default_cache_dir)
    data_dir: Path | None = None


def settings(data_dir: Path | None = None) -> Settings:
    """Return the settings for this process, read from the environment.

    Parameters
    ----------
    data_dir : Path, optional
        The user's data folder (see :class:`Settings`).
    """
    return Settings(data_dir=data_dir)
