"""Atlas: many maps from one YAML file (theme x coverage feature), rendered in parallel, indexed and bound into one PDF per theme.

Configuration
    :func:`read_config` reads a YAML file such as::

        output: out/atlas
        maps:
          - theme: water
            coverage: district
            formats: [html, png]
            filename: "{theme}/{area}.{ext}"
            filter: "region == '主城都市区'"
            sort: -area_km2

    and reports unknown keys and bad values with the line they are on.
    ``filter`` is a condition over the coverage's attributes (comparisons,
    ``and``/``or``/``not``, ``in [...]``, column names and literals),
    checked by walking its syntax tree; nothing is ever evaluated as Python.

Items
    Each map entry becomes one :class:`AtlasItem` per coverage feature
    (:func:`coverage` lists them: districts, basins, cross-border rivers or
    the whole city). The renderer, one function ``render_item(item)``
    (default ``cqgis.maps.themes.render_item``), writes every path of
    :attr:`AtlasItem.paths` atomically. An item whose key (its fields, its
    map entry, the cqgis version, every layer's cache key and user file, the
    renderer's version) matches the manifest ``.atlas-manifest.json`` and
    whose files exist is skipped.

Execution
    :func:`run_atlas` renders items in this process, in ``workers`` worker
    processes (forked from a server that has imported the renderer, where
    the platform has one; spawned otherwise), or on a Dask cluster, all through :func:`run_item`, which
    turns a failure into a one-line reason instead of stopping the others.
    The theme PDFs are then written the same way, one theme per worker.
    Nothing in an output depends on the order items finish in, so the files
    are the same whatever the worker count.

Outputs
    ``index.html`` (:mod:`cqgis.maps.index_page`) and, per theme,
    ``atlas-THEME.pdf``: a contents page then one page per coverage feature
    showing its PNG. Items that do not ask for PNG get one under
    ``.atlas-pages/`` for the PDF and the thumbnail. When maps are written
    as GeoPackages (formats ``gpkg`` or ``qgz``), QGIS projects over them:
    ``atlas-THEME.qgz`` per theme and ``atlas.qgz`` for the whole atlas,
    grouped as the index page (:mod:`~cqgis.maps.atlas.projects`).

Modules: :mod:`~cqgis.maps.atlas.filter` (the filter language),
:mod:`~cqgis.maps.atlas.config` (the YAML file), :mod:`~cqgis.maps.atlas.items`
(coverages and items), :mod:`~cqgis.maps.atlas.keys` (cache keys and the
manifest), :mod:`~cqgis.maps.atlas.workers` (rendering items and PDFs here, in processes or on Dask),
:mod:`~cqgis.maps.atlas.previews` (thumbnails and PDF page images),
:mod:`~cqgis.maps.atlas.books` (theme PDFs, index sections),
:mod:`~cqgis.maps.atlas.projects` (QGIS projects) and
:mod:`~cqgis.maps.atlas.build` (:func:`run_atlas`, which runs them in order).
"""

from cqgis.maps.atlas.books import write_book
from cqgis.maps.atlas.previews import write_previews
from cqgis.maps.atlas.build import AtlasReport, run_atlas
from cqgis.maps.atlas.config import CITY_NAME, COVERAGES, FORMATS, AtlasConfig, MapEntry, read_config
from cqgis.maps.atlas.workers import DEFAULT_RENDERER, execute, load_renderer, run_item
from cqgis.maps.atlas.filter import Filter
from cqgis.maps.atlas.keys import inputs_digest, item_keys, read_manifest, renderer_version, write_manifest
from cqgis.maps.atlas.outcome import BUILT, FAILED, SKIPPED, Outcome
from cqgis.maps.atlas.items import (
    ATLAS_PROJECT, BOOK_NAME, INDEX, MANIFEST, PAGES_DIR, PROJECT_NAME, AtlasItem, coverage, plan,
)
from cqgis.maps.atlas.projects import write_projects

__all__ = [
    "ATLAS_PROJECT", "BOOK_NAME", "BUILT", "CITY_NAME", "COVERAGES", "DEFAULT_RENDERER", "FAILED", "FORMATS", "INDEX",
    "MANIFEST", "PAGES_DIR", "PROJECT_NAME", "SKIPPED", "AtlasConfig", "AtlasItem", "AtlasReport", "Filter", "MapEntry",
    "Outcome", "coverage", "execute", "inputs_digest", "item_keys", "load_renderer", "plan", "read_config",
    "read_manifest", "renderer_version", "run_atlas", "run_item", "write_book", "write_manifest",
    "write_previews", "write_projects",
]
