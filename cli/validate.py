"""`cqgis validate`: report what is wrong with a file, row by row; exit 0 clean, 1 problems, 2 unusable."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cqgis.cli.errors import OptionError
from cqgis.cli.options import crs_option, header_row_option, is_csv, lat_option, layer_option, lon_option, year_option

if TYPE_CHECKING:
    import pandas as pd

    from cqgis.geo.validate import Problem, Report


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(path_type=Path))
@crs_option()
@layer_option
@lon_option
@lat_option
@click.option("--id", "id_column", metavar="COLUMN", help="Column whose values must be unique (default: id, code, 编号 ...).")
@click.option(
    "--as",
    "as_layer",
    metavar="LAYER",
    help="Check INPUT as a replacement for this layer: its headers are mapped to the "
    "layer's fields and every row is checked against the layer's schema.",
)
@click.option(
    "--map",
    "pairs",
    multiple=True,
    metavar="HEADER=FIELD",
    help="With --as: map a header to a field, e.g. --map 断面名称=name (repeatable).",
)
@click.option(
    "--map-file",
    type=click.Path(path_type=Path),
    help="With --as: a YAML file of 'header: field' pairs.",
)
@year_option
@click.option("--limit", default=50, show_default=True, help="Problem lines to print.")
@header_row_option
def validate(
    input_path: Path,
    source: str | None,
    layer: str | None,
    lon: str | None,
    lat: str | None,
    id_column: str | None,
    as_layer: str | None,
    pairs: tuple[str, ...],
    map_file: Path | None,
    year: int | None,
    limit: int,
    header_row: int | None,
) -> None:
    """Check INPUT and print every problem with its row and column.

    Rows are numbered as in the spreadsheet (header = row 1) for CSV and
    Excel, from 1 for vector files. Exit status: 0 when nothing is wrong,
    1 when problems were found, 2 when INPUT cannot be read at all or an
    option is wrong.
    """
    from cqgis.geo import validate as validation
    from cqgis.geo.errors import ReadError

    if (pairs or map_file) and as_layer is None:
        msg = "--map and --map-file need --as LAYER"
        raise OptionError(msg)
    try:
        if as_layer is None and is_csv(input_path) and layer is None:
            # In blocks of rows: the memory stays flat however long the table.
            report = validation.validate_blocks(
                input_path, crs=source, lon=lon, lat=lat, header_row=header_row, id_column=id_column
            )
        elif as_layer is None:
            report = validation.validate_file(
                input_path, crs=source, layer=layer, lon=lon, lat=lat, header_row=header_row, id_column=id_column
            )
        else:
            report = _as_layer(input_path, as_layer, pairs, map_file, source, layer, lon, lat, header_row, year)
    except ReadError as exc:
        # Nothing could be checked: that is a usage error, not a finding.
        msg = str(exc)
        raise OptionError(msg) from exc
    click.echo(report.format(limit=limit))
    sys.exit(0 if report.ok else 1)


def _as_layer(
    path: Path,
    name: str,
    pairs: tuple[str, ...],
    map_file: Path | None,
    crs: str | None,
    sheet: str | None,
    lon: str | None,
    lat: str | None,
    header_row: int | None = None,
    year: int | None = None,
) -> Report:
    """Check ``path`` as a replacement for layer ``name``, its headers mapped by ``map_file`` then ``pairs``."""
    from cqgis.geo import validate as validation
    from cqgis.layers import catalog, user

    mapping, file_crs = user.split_crs(user.read_mapping(map_file, layer=name) if map_file else {})
    mapping.update(user.parse_pairs(pairs))
    report = catalog.check_file(
        name, path, mapping=mapping, crs=crs or file_crs, sheet=sheet, lon=lon, lat=lat, header_row=header_row
    )
    if name == "measurements":
        report.problems = validation.ordered(
            report.problems + _measurement_problems(report.frame, catalog.load("sections"), year)
        )
    return report


def _measurement_problems(table: pd.DataFrame, sections: pd.DataFrame, year: int | None) -> list[Problem]:
    """Every cell and row of a monitoring table the water-quality reader will not use, and unknown sections."""
    import pandas as pd

    from cqgis.analysis import monitoring
    from cqgis.analysis.errors import AnalysisError
    from cqgis.geo.validate import Problem

    if monitoring.is_class_table(table):
        found = monitoring.read_classes(table, sections, year).problems
    else:
        try:
            reading = monitoring.read_measurements(table, year)
        except AnalysisError as exc:
            return [Problem("unreadable_table", None, None, None, str(exc))]
        unmatched = monitoring.unmatched_sections(reading.frame, sections)
        found = pd.concat([reading.problems, unmatched], ignore_index=True)
    return [
        Problem(p.kind, None if pd.isna(p.row) else int(p.row), None if pd.isna(p.column) else str(p.column),
                None if pd.isna(p.value) else str(p.value), p.message)
        for p in found.itertuples(index=False)
    ]
