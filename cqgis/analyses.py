"""The analyses of the Python API: one function each, inputs defaulting to the embedded layers, results as (Geo)DataFrames.

Every input that stands for a layer takes a (Geo)DataFrame, a layer name or
a path to the user's file (validated as that layer); ``None`` is the layer
itself, from the user's data folder when ``settings`` names one. Results
keep ``source`` and ``precision``: a result built on the synthetic
examples says ``synthetic`` in every row. Where a command reports more
than the result (the units counted, the cells not used),
``count_green``, ``assess_coverage`` and ``assess_water_quality`` return
that too; ``cqgis analyze`` calls these functions.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cqgis.analysis.errors import AnalysisError, AnalysisNote
from cqgis.config import COVERAGE_RADIUS_M

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from cqgis.analysis.catchment import Catchment
    from cqgis.analysis.monitoring import Reading
    from cqgis.config import Settings

__all__ = [
    "Assessment", "CoverageReport", "GreenCounts", "assess_coverage", "assess_water_quality", "attribute", "catchment",
    "compliance", "count_green", "coverage", "cross_border", "find_section", "green", "inputs", "priority_untreated",
    "rural_sewage", "water_quality",
]


def inputs(
    value: gpd.GeoDataFrame | pd.DataFrame | str | os.PathLike | None,
    layer: str,
    settings: Settings | None = None,
    header_row: int | None = None,
) -> gpd.GeoDataFrame | pd.DataFrame:
    """Return the data an analysis runs on: a frame as given, a layer, or a user's file standing in for a layer.

    Parameters
    ----------
    value : DataFrame, str, os.PathLike or None
        A frame (used as it is); anything else as
        :func:`cqgis.layers.catalog.load_input` reads it (None or
        ``"default"``: the layer ``layer``; a layer name: that layer;
        otherwise a user's file, validated against the schema of ``layer``).
    layer : str
        The catalogue layer the input stands for.
    settings : Settings, optional
        Cache and the user's data folder (a file there named after a layer
        replaces it).
    header_row : int, optional
        Header row of a user's CSV/Excel table, from 1; default: found.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        In EPSG:4326; a table layer is a DataFrame.

    Raises
    ------
    cqgis.layers.errors.LayerError
        The user's file breaks the layer's schema (rows and columns named).
    cqgis.geo.errors.ReadError
        The user's file cannot be read.
    """
    import pandas as pd

    from cqgis.layers import catalog

    if isinstance(value, pd.DataFrame):
        return value
    return catalog.load_input(value, layer, settings, header_row)


def _features(
    value: gpd.GeoDataFrame | str | os.PathLike, crs: str | None, settings: Settings | None
) -> gpd.GeoDataFrame:
    """Features of a layer named or of any vector file or point table (not held to a layer's schema), credited to their file."""
    import pandas as pd

    from cqgis.layers import catalog

    if isinstance(value, pd.DataFrame):
        return value
    return catalog.load_features(value, settings, crs=crs, credit=True)[0]


def attribute(
    features: gpd.GeoDataFrame | str | os.PathLike,
    *,
    zones: bool = True,
    basins: bool = True,
    tolerance_m: float = 2000.0,
    crs: str | None = None,
    replace: bool = False,
    settings: Settings | None = None,
) -> gpd.GeoDataFrame:
    """Add the district (adcode, district, region), functional zones and basin of each feature.

    Parameters
    ----------
    features : GeoDataFrame, str or os.PathLike
        Features, a layer name or any file cqgis reads (a point table's
        coordinate columns are found by name).
    zones, basins : bool
        Add the functional zones and the basin.
    tolerance_m : float
        Metres outside every district within which a feature still takes
        the nearest one (flagged ``near``).
    crs : str, optional
        What a file's coordinates are (``wgs84``, ``gcj02``, ``bd09``, an
        EPSG code); default: the file's own CRS, tables WGS84.
    replace : bool
        Drop the features' own ``adcode``, ``district``, ``region``,
        ``zones`` and ``basin`` columns and compute them afresh; without
        it, features that have them are refused.
    settings : Settings, optional
        Cache and the user's data folder.

    Returns
    -------
    geopandas.GeoDataFrame
        The features with ``adcode``, ``district``, ``region``, ``zones``,
        ``basin`` and ``attribution_flag`` (``inside``, ``boundary``, ``near`` ...).
    """
    from cqgis.analysis import attribution
    from cqgis.layers import catalog

    frame = _features(features, crs, settings)
    if replace:
        frame = frame.drop(columns=[column for column in attribution.COLUMNS if column in frame.columns])
    return attribution.attribute(
        frame,
        catalog.load("districts", settings),
        zones=catalog.load("functional_zones", settings) if zones else None,
        basins=catalog.load("basins", settings) if basins else None,
        tolerance_m=tolerance_m,
    )


def catchment(
    section: str | None = None,
    *,
    at: tuple[float, float] | None = None,
    river: str | None = None,
    sections: gpd.GeoDataFrame | str | os.PathLike | None = None,
    settings: Settings | None = None,
) -> Catchment:
    """Return what drains to a monitoring section or a point (``cqgis analyze catchment`` / ``upstream``).

    Parameters
    ----------
    section : str, optional
        A section's name (断面名称, e.g. ``"朱沱"``) or code.
    at : (float, float), optional
        A point (lon, lat in WGS84) instead of a section.
    river : str, optional
        With ``at``: the river the point is on (it snaps to that river); a
        river the model traces, by any of its names.
    sections : GeoDataFrame, str or os.PathLike, optional
        Sections to look ``section`` up in and to list upstream; default:
        the ``sections`` layer.
    settings : Settings, optional
        Cache and the user's data folder.

    Returns
    -------
    cqgis.analysis.catchment.Catchment
        ``area_km2``; ``polygon`` (GeoDataFrame: the outline); ``shares``
        (DataFrame: km² and % by province, prefecture and county, each
        level summing to 100); ``sections`` (DataFrame: the sections
        upstream with their distance along the flow). Areas come from the
        30″ DEM (``approximate``).

    Raises
    ------
    AnalysisError
        Neither or both of ``section`` and ``at``, an unknown section, or a
        point off the stream network.
    UnknownPlaceError
        A ``river`` the model does not trace (the message offers close names).
    """
    from cqgis.analysis import catchment as analysis

    if (section is None) == (at is None):
        msg = "give exactly one of section= (a name or code) or at=(lon, lat)"
        raise AnalysisError(msg)
    listed = inputs(sections, "sections", settings)
    if section is not None:
        found = find_section(listed, section)
        lon, lat, river = found.geometry.x, found.geometry.y, found.get("river")
    else:
        lon, lat = at
        if river is not None:
            river = _traced_river(river, settings)
    return analysis.catchment(lon, lat, river=river, sections=listed, settings=settings)


def _traced_river(name: str, settings: Settings | None) -> str:
    """Return the model's name of a river the user names (澎溪河 is 小江); an unknown one is an error.

    A name the model does not trace would otherwise snap the point to the
    nearest stream without a word, and the catchment of a creek would be
    reported for the river the user meant.
    """
    import pandas as pd

    from cqgis.layers import places

    known = places.lookup(inputs(None, "rivers", settings), "river")
    return str(places.canonical(pd.Series([name]), known, "traced river").iloc[0])


def find_section(sections: pd.DataFrame, name: str) -> pd.Series:
    """Return the one section called ``name`` or with that code.

    Parameters
    ----------
    sections : pandas.DataFrame
        The sections, with ``name`` and ``code``.
    name : str
        The name or code.

    Returns
    -------
    pandas.Series
        The section's row.

    Raises
    ------
    ParameterError
        No section of that name (the message offers close names), or
        several (it lists their codes): a usage error, as for any name the
        user gives.
    """
    from cqgis.analysis.errors import ParameterError
    from cqgis.errors import did_you_mean

    hits = sections[(sections["name"] == name) | (sections["code"] == name)]
    if len(hits) == 1:
        return hits.iloc[0]
    if len(hits) > 1:
        msg = f"section {name}: {len(hits)} sections have that name ({'、'.join(hits['code'].astype(str))}); give the code"
        raise ParameterError(msg)
    hint = did_you_mean(name, sections["name"].astype(str))
    msg = f"section {name}: no section has that name or code{f'; {hint}' if hint else ''}"
    raise ParameterError(msg)


def compliance(
    indicators: pd.DataFrame | str | os.PathLike | None = None,
    *,
    district_targets: pd.DataFrame | str | os.PathLike | None = None,
    header_row: int | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Status (达标 / 未达标 / 无数据) and gap of every target of the plan, city-wide and per district.

    Parameters
    ----------
    indicators : DataFrame, str or os.PathLike, optional
        Achieved values (target id or wording, district or 全市, value);
        default: the ``indicators`` layer, a synthetic example. The rural
        sewage rate is computed from the ``rural_sewage`` layer unless the
        indicators give it; a synthetic survey is never mixed into a
        user's own indicators.
    district_targets : DataFrame, str or os.PathLike, optional
        Districts' own targets; without them districts are judged against
        the city-wide figure (``target_basis`` 参照全市目标).
    header_row : int, optional
        Header row of the users' tables, from 1; default: found.
    settings : Settings, optional
        Cache and the user's data folder.

    Returns
    -------
    pandas.DataFrame
        One row per target and district: ``status``, ``gap``,
        ``target_basis``, ``source``, ``precision`` ...

    Warns
    -----
    AnalysisNote
        What the rural sewage rate counts, or that it was left out.

    Raises
    ------
    cqgis.layers.errors.LayerError
        A user's table breaks its schema (rows and columns named).
    """
    import pandas as pd

    from cqgis.analysis import compliance as analysis

    targets = inputs(None, "targets", settings)
    districts = inputs(None, "districts", settings)
    values, note = analysis.with_rural_sewage(
        inputs(indicators, "indicators", settings, header_row), inputs(None, "rural_sewage", settings), targets
    )
    if note:
        warnings.warn(note, AnalysisNote, stacklevel=2)
    own = district_targets
    if own is not None and not isinstance(own, pd.DataFrame):
        from cqgis.layers import district_targets as schema, user
        from cqgis.layers.errors import LayerError

        report = user.load(own, schema, header_row=header_row)
        if not report.ok:
            msg = f"district targets {report.format(limit=10)}"
            raise LayerError(msg)
        own = report.frame
    return analysis.evaluate(targets, values, districts, own)


@dataclass(frozen=True)
class CoverageReport:
    """A coverage measurement with what it rests on: what ``cqgis analyze coverage`` writes and reports.

    Attributes
    ----------
    zones : geopandas.GeoDataFrame
        As :func:`coverage` returns them.
    links : geopandas.GeoDataFrame
        One row per facility and zone it serves
        (:class:`cqgis.analysis.coverage.Coverage`).
    counted, left_out : geopandas.GeoDataFrame
        The facilities counted under the status, and the others with their ``reason``.
    """

    zones: gpd.GeoDataFrame
    links: gpd.GeoDataFrame
    counted: gpd.GeoDataFrame
    left_out: gpd.GeoDataFrame


def assess_coverage(
    facilities: gpd.GeoDataFrame | str | os.PathLike = "h2_stations",
    zones: gpd.GeoDataFrame | str | os.PathLike = "h2_zones",
    *,
    radius_m: float = COVERAGE_RADIUS_M,
    status: str = "现状",
    settlements: gpd.GeoDataFrame | str | os.PathLike | None = None,
    crs: str | None = None,
    settings: Settings | None = None,
) -> CoverageReport:
    """Measure as :func:`coverage` does, keeping the facility-zone links and which facilities counted.

    Parameters
    ----------
    facilities, zones, radius_m, status, settlements, crs, settings
        As for :func:`coverage`.

    Returns
    -------
    CoverageReport
        The zones, the links and the facilities counted and left out.
    """
    from cqgis.analysis import coverage as analysis

    points = _features(facilities, crs, settings)
    areas = _features(zones, crs, settings)
    split = analysis.split_facilities(points, status)
    counted = analysis.coverage(
        split.counted, areas, radius_m, _features(settlements, crs, settings) if settlements is not None else None
    )
    table = counted.zones.assign(
        scenario=analysis.scenario_label(status), not_counted=analysis.not_counted(split.left_out, areas)
    )
    return CoverageReport(table, counted.links, split.counted, split.left_out)


def coverage(
    facilities: gpd.GeoDataFrame | str | os.PathLike = "h2_stations",
    zones: gpd.GeoDataFrame | str | os.PathLike = "h2_zones",
    *,
    radius_m: float = COVERAGE_RADIUS_M,
    status: str = "现状",
    settlements: gpd.GeoDataFrame | str | os.PathLike | None = None,
    crs: str | None = None,
    settings: Settings | None = None,
) -> gpd.GeoDataFrame:
    """Per zone, the area (and settlements) within ``radius_m`` of the facilities counted under ``status``.

    Parameters
    ----------
    facilities, zones, settlements : GeoDataFrame, str or os.PathLike
        Points, zone polygons and optional settlement points: frames,
        layer names or files.
    radius_m : float
        Service radius in metres.
    status : {"现状", "含在建", "含规划"}
        Which facilities count: operating only, also under construction,
        also planned. Facilities without a position of their own
        (``schematic``) never count.
    crs : str, optional
        What the files' coordinates are; default: their own CRS, tables WGS84.
    settings : Settings, optional
        Cache and the user's data folder.

    Returns
    -------
    geopandas.GeoDataFrame
        The zones with ``zone_km2``, ``covered_km2``, ``covered_pct``,
        ``facilities``, ``scenario`` and ``not_counted`` (the facilities
        left out there, with the reason).
    """
    return assess_coverage(
        facilities, zones, radius_m=radius_m, status=status, settlements=settlements, crs=crs, settings=settings
    ).zones


def cross_border(
    sections: gpd.GeoDataFrame | str | os.PathLike | None = None,
    *,
    reach_km: float | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """The cross-border sections (川入渝 / 渝入川): documented, or nearest where the flow crosses the border.

    Parameters
    ----------
    sections : GeoDataFrame, str or os.PathLike, optional
        Sections; default: the ``sections`` layer.
    reach_km : float, optional
        How far along the flow from a crossing a section may lie; default
        :data:`cqgis.analysis.cross_border.DEFAULT_REACH_KM`.
    settings : Settings, optional
        Cache and the user's data folder.

    Returns
    -------
    pandas.DataFrame
        One row per cross-border section: ``direction``, its basis (文献 or
        推断) and any ``conflict`` between a document and the flow.
        :func:`cqgis.analysis.cross_border.cross_border_rivers` sums it up by river.
    """
    from cqgis.analysis import cross_border as analysis

    return analysis.cross_border_sections(
        inputs(sections, "sections", settings),
        inputs(None, "districts", settings),
        inputs(None, "neighbors", settings),
        reach_km=analysis.DEFAULT_REACH_KM if reach_km is None else reach_km,
    )


@dataclass(frozen=True)
class GreenCounts:
    """Green units counted per district, with what was counted and against what.

    Attributes
    ----------
    counts : pandas.DataFrame
        As :func:`green` returns them.
    listed : pandas.DataFrame
        The units counted, one row each.
    targets : dict of str to float
        The plan's city-wide targets ({绿色工厂: 300, 绿色园区: 30}).
    """

    counts: pd.DataFrame
    listed: pd.DataFrame
    targets: dict[str, float]


def count_green(
    levels: Sequence[str] = ("国家级", "市级"), until: int | None = None, settings: Settings | None = None
) -> GreenCounts:
    """Count as :func:`green` does, keeping the units counted and the targets: what ``cqgis analyze green`` writes.

    Parameters
    ----------
    levels, until, settings
        As for :func:`green`.

    Returns
    -------
    GreenCounts
        The counts, the units and the targets.
    """
    from cqgis.analysis import green_manufacturing as analysis

    targets = analysis.plan_targets(inputs(None, "targets", settings))
    districts = inputs(None, "districts", settings)
    listed = analysis.units(inputs(None, "green_factories", settings), inputs(None, "parks", settings), levels, until)
    return GreenCounts(analysis.district_counts(listed, districts, targets), listed, targets)


def green(
    levels: Sequence[str] = ("国家级", "市级"), until: int | None = None, settings: Settings | None = None
) -> pd.DataFrame:
    """Green factories and green parks on the published lists, per district, against the plan's city-wide targets.

    Parameters
    ----------
    levels : sequence of {"国家级", "市级"}
        List levels counted.
    until : int, optional
        Last list year counted; default: every year listed.
    settings : Settings, optional
        Cache and the user's data folder.

    Returns
    -------
    pandas.DataFrame
        One row per district, then 未定位 (units whose district is not
        known) and 全市 with the targets (300 factories, 30 parks). The
        lists are incomplete: counts are floors.
    """
    return count_green(levels, until, settings).counts


def rural_sewage(
    settlements: pd.DataFrame | str | os.PathLike | None = None,
    *,
    target: float | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Rate of rural settlements with sewage treatment per district, against the target (the plan's 40 %).

    Parameters
    ----------
    settlements : DataFrame, str or os.PathLike, optional
        The survey, one row per settlement (name, coordinates, 是否治理,
        户数, 常住人口); default: the ``rural_sewage`` layer, a synthetic example.
    target : float, optional
        Target rate in percent; default: the plan's.
    settings : Settings, optional
        Cache and the user's data folder.

    Returns
    -------
    pandas.DataFrame
        One row per district, then 全市: rates by count, households and
        population, ``meets_target`` and ``counted`` (what a row counts).
        Settlements outside Chongqing are left out.
    """
    from cqgis.analysis import rural_sewage as analysis

    frame = inputs(settlements, "rural_sewage", settings)
    target = target if target is not None else analysis.plan_target(inputs(None, "targets", settings))
    return analysis.treatment_rates(frame, target)


def priority_untreated(
    settlements: pd.DataFrame | str | os.PathLike | None = None, *, settings: Settings | None = None
) -> pd.DataFrame:
    """The untreated settlements to treat first (largest, near water) of the survey.

    Parameters
    ----------
    settlements : DataFrame, str or os.PathLike, optional
        As for :func:`rural_sewage`.
    settings : Settings, optional
        Cache and the user's data folder.

    Returns
    -------
    pandas.DataFrame
        The settlements, in priority order.
    """
    from cqgis.analysis import rural_sewage as analysis

    return analysis.priority_untreated(inputs(settlements, "rural_sewage", settings))


@dataclass(frozen=True)
class Assessment:
    """A water-quality assessment and the reading it rests on.

    Attributes
    ----------
    results : pandas.DataFrame
        As :func:`water_quality` returns them.
    reading : cqgis.analysis.monitoring.Reading
        The values read and the cells and rows not used, by kind.
    class_only : bool
        The measurements were a report of classes without values: classes
        and main pollutants are the report's, per its own period.
    """

    results: pd.DataFrame
    reading: Reading
    class_only: bool


def assess_water_quality(
    measurements: pd.DataFrame | str | os.PathLike | None = None,
    sections: pd.DataFrame | str | os.PathLike | None = None,
    *,
    period: str = "year",
    sheet: str | None = None,
    year: int | None = None,
    header_row: int | None = None,
    settings: Settings | None = None,
) -> Assessment:
    """Assess as :func:`water_quality` does, keeping the reading: what ``cqgis analyze water-quality`` reports.

    Parameters
    ----------
    measurements, sections, period, sheet, year, header_row, settings
        As for :func:`water_quality`.

    Returns
    -------
    Assessment
        The results, the reading and whether it was a class-only report.

    Raises
    ------
    AnalysisError
        A value or time that cannot be read, an item given twice (row and
        column named), or a sections file without rows.
    """
    import pandas as pd

    from cqgis.analysis import monitoring, water_quality as wq
    from cqgis.layers import catalog

    if measurements is None or isinstance(measurements, pd.DataFrame):
        table = catalog.load("measurements", settings) if measurements is None else measurements
    else:
        table = wq.read_table(Path(measurements), sheet, columns=monitoring.is_measurement_column, header_row=header_row)
        if not monitoring.is_complete(table):
            # Read every column again, so that the message says which headers the file has.
            table = wq.read_table(Path(measurements), sheet, header_row=header_row)
        table = _credited(table, Path(measurements), monitoring.ID_ALIASES)
    if sections is None or isinstance(sections, pd.DataFrame):
        listed = catalog.load("sections", settings) if sections is None else sections
    else:
        listed = _sections_table(Path(sections), header_row)
    if monitoring.is_class_table(table):
        reading = monitoring.read_classes(table, listed, year)
        return Assessment(reading.frame, reading, class_only=True)
    reading = monitoring.read_measurements(table, year)
    del table  # a large table's cells are no longer needed: the reading holds what is used
    reading.raise_fatal()
    unmatched = monitoring.unmatched_sections(reading.frame, listed)
    reading = monitoring.Reading(reading.frame, pd.concat([reading.problems, unmatched], ignore_index=True))
    return Assessment(wq.classify(reading.frame, listed, period), reading, class_only=False)


def water_quality(
    measurements: pd.DataFrame | str | os.PathLike | None = None,
    sections: pd.DataFrame | str | os.PathLike | None = None,
    *,
    period: str = "year",
    sheet: str | None = None,
    year: int | None = None,
    header_row: int | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """GB 3838-2002 class, main pollutants and target compliance of each section and period.

    Parameters
    ----------
    measurements : DataFrame, str or os.PathLike, optional
        Monthly values, long (断面编码, 监测时间, 监测项目, 监测值) or wide
        (one column per item: 溶解氧, 高锰酸盐指数, 氨氮, 总磷 ...), the
        national automatic-station release as it comes, or a monthly
        report of classes without values; default: the ``measurements``
        layer, a synthetic example. ``0.01L``, ``<0.01``, ``ND`` are below
        detection (half the limit); ``--``, ``*`` and blanks are not measured.
    sections : DataFrame, str or os.PathLike, optional
        Sections (断面名称/编码, 水质目标, 区县 ...); default: the ``sections`` layer.
    period : {"month", "quarter", "year"}
        Averaging period (a class-only report keeps its own).
    sheet : str, optional
        Worksheet of an Excel file.
    year : int, optional
        Year of times written without one (``MM-DD HH:MM``).
    header_row : int, optional
        Header row of the tables, from 1; default: found below any title rows.
    settings : Settings, optional
        Cache and the user's data folder.

    Returns
    -------
    pandas.DataFrame
        One row per section and period: ``class``, ``class_label``,
        ``main_pollutants``, ``exceedances``, ``meets_target``, the means
        (``mean_<item>``), ``source``, ``precision``. Cells and rows not
        used are reported in one :class:`UserWarning`.

    Raises
    ------
    AnalysisError
        A value or time that cannot be read, an item given twice (row and
        column named), or a sections file without rows.
    """
    assessed = assess_water_quality(
        measurements, sections, period=period, sheet=sheet, year=year, header_row=header_row, settings=settings
    )
    notes = assessed.reading.summary()
    if notes:
        warnings.warn("; ".join(notes), UserWarning, stacklevel=2)
    return assessed.results


def _sections_table(path: Path, header_row: int | None) -> pd.DataFrame:
    """Read a user's sections table, credited to its file; refuse one without rows."""
    from cqgis.analysis import monitoring
    from cqgis.geo.errors import NoRowsError

    try:
        table = monitoring.read_table(path, header_row=header_row)
    except NoRowsError:
        table = None
    if table is None or table.empty:
        msg = (
            f"the sections file {path.name} has no rows: give one row per section (断面名称, 水质目标 ...), "
            "or leave the sections out to use the built-in sections layer"
        )
        raise AnalysisError(msg)
    return _credited(table, path, monitoring.SECTION_ALIASES)


def _credited(table: pd.DataFrame, path: Path, aliases: Mapping[str, str]) -> pd.DataFrame:
    """Name the file in every source of a user's table and make unknown precision approximate, in the columns it uses."""
    from cqgis.analysis.monitoring import header_key
    from cqgis.layers import user

    spelled = {header_key(c, aliases): c for c in reversed(table.columns)}
    return user.credit(
        table, path, source_column=spelled.get("source", "source"), precision_column=spelled.get("precision", "precision")
    )
