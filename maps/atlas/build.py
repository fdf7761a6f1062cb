"""Building an atlas: the maps not up to date, then the theme PDFs and the index page, recorded in the manifest."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from cqgis.config import Settings, settings as default_settings
from cqgis.errors import one_line
from cqgis.geo.io import atomic
from cqgis.layers import catalog
from cqgis.maps.atlas.books import index_sections, write_books
from cqgis.maps.atlas.previews import write_previews
from cqgis.maps.atlas.config import AtlasConfig
from cqgis.maps.atlas.workers import execute, load_renderer, start_server
from cqgis.maps.atlas.keys import inputs_digest, item_keys, read_manifest, write_manifest
from cqgis.maps.atlas.outcome import FAILED, SKIPPED, Outcome
from cqgis.maps.atlas.projects import write_projects
from cqgis.maps.atlas.items import ATLAS_PROJECT, BOOK_NAME, INDEX, AtlasItem, plan
from cqgis.maps.errors import MapError
from cqgis.maps.index_page import index_html




@dataclass(frozen=True)
class AtlasReport:
    """The result of :func:`run_atlas`.

    Parameters
    ----------
    outcomes : tuple of Outcome
        One per item, in plan order.
    index : Path
        The index page.
    books : tuple of Path
        The theme PDFs written or kept.
    book_failures : tuple of (str, str)
        (theme, reason) of PDFs that could not be made.
    projects : tuple of Path
        The QGIS projects (one per theme, then the whole atlas's) over
        the maps written as GeoPackages (formats ``gpkg`` or ``qgz``).
    project_failures : tuple of (str, str)
        (project file name, reason) of projects that could not be written.
    """

    outcomes: tuple[Outcome, ...]
    index: Path
    books: tuple[Path, ...]
    book_failures: tuple[tuple[str, str], ...] = ()
    projects: tuple[Path, ...] = ()
    project_failures: tuple[tuple[str, str], ...] = ()

    def count(self, status: str) -> int:
        """Return how many items have ``status``.

        Parameters
        ----------
        status : str
            :data:`BUILT`, :data:`SKIPPED` or :data:`FAILED`.

        Returns
        -------
        int
            The number of outcomes with that status.
        """
        return sum(outcome.status == status for outcome in self.outcomes)

    @property
    def failures(self) -> list[tuple[str, str]]:
        """Return (what, reason) of every failed map, PDF and QGIS project."""
        items = [(o.item.ident, o.reason) for o in self.outcomes if o.status == FAILED]
        books = [(BOOK_NAME.format(theme=theme), reason) for theme, reason in self.book_failures]
        return items + books + list(self.project_failures)


def run_atlas(
    config: AtlasConfig,
    renderer: Callable[[AtlasItem], Sequence[Path]] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    settings: Settings | None = None,
    progress: Callable[[Outcome], None] | None = None,
    items: Sequence[AtlasItem] | None = None,
) -> AtlasReport:
    """Render an atlas: every map not up to date, then the theme PDFs, the QGIS projects and the index.

    Parameters
    ----------
    config : AtlasConfig
        From :func:`read_config`.
    renderer : callable, optional
        ``renderer(item) -> list[Path]``; default :data:`DEFAULT_RENDERER`,
        imported only now.
    workers : int
        Processes to render in (1: this process).
    scheduler : str, optional
        Dask scheduler address; the output folder must be shared with its workers.
    force : bool
        Rebuild items and PDFs even when up to date.
    settings : Settings, optional
        Where layers come from.
    progress : callable, optional
        Called in this process with each :class:`Outcome` as it is known.
    items : sequence of AtlasItem, optional
        ``plan(config, settings)`` when the caller has it already.

    Returns
    -------
    AtlasReport
        Every outcome; failed maps do not stop the others.

    Raises
    ------
    MapOptionError
        A config whose items cannot be planned (see :func:`plan`).
    MapError
        The output folder cannot be created, the renderer cannot be
        imported, or the Dask scheduler cannot be reached.
    KeyboardInterrupt
        After pending maps are cancelled and the manifest records the
        finished ones; no partial file is left.
    """
    settings = settings or default_settings()
    if workers > 1 and scheduler is None:
        start_server(renderer.__module__ if renderer else None)
    renderer = renderer or load_renderer()
    root = config.output
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        msg = f"cannot create the atlas folder {root}: {one_line(exc)}"
        raise MapError(msg) from exc
    items = plan(config, settings) if items is None else items
    inputs = inputs_digest(settings, renderer)
    keys = item_keys(items, config, inputs)
    manifest = read_manifest(root)
    done = {o.item.ident: o for o in _current(items, keys, manifest, force)}
    for outcome in done.values():
        if progress:
            progress(outcome)
    todo = [replace(item, inputs=inputs) for item in items if item.ident not in done]
    for item in todo:
        for path in item.paths:
            path.parent.mkdir(parents=True, exist_ok=True)
    if todo and workers > 1 and scheduler is None:
        # Each worker would otherwise build the same missing layers for itself.
        catalog.prepare(settings, workers)
    try:
        for outcome in execute(todo, renderer, workers, scheduler):
            done[outcome.item.ident] = outcome
            if progress:
                progress(outcome)
    finally:
        manifest["items"] = {
            ident: keys[ident] for ident, outcome in sorted(done.items()) if outcome.status != FAILED
        }
        write_manifest(root, manifest)
    outcomes = tuple(done[item.ident] for item in items)
    for outcome in outcomes:
        # Drawn items have theirs already; skipped ones may predate them.
        if outcome.status != FAILED:
            write_previews(outcome.item)
    books, book_failures = write_books(config, outcomes, keys, manifest, force, workers, scheduler)
    write_manifest(root, manifest)
    projects, project_failures = write_projects(config, outcomes)
    index = root / INDEX
    sections = index_sections(outcomes, {theme for theme, _ in book_failures}, projects)
    whole = next((path.name for path in projects if path.name == ATLAS_PROJECT), None)
    text = index_html(config.title, sections, whole)
    with atomic(index) as temp:
        temp.write_text(text, encoding="utf-8")
    return AtlasReport(outcomes, index, books, book_failures, projects, project_failures)


def _current(
    items: Sequence[AtlasItem], keys: Mapping[str, str], manifest: Mapping, force: bool
) -> list[Outcome]:
    """Return a skipped outcome for every item whose key is in the manifest and whose files exist."""
    if force:
        return []
    return [
        Outcome(item, SKIPPED)
        for item in items
        if manifest["items"].get(item.ident) == keys[item.ident] and all(p.is_file() for p in item.paths)
    ]
