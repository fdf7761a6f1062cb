"""Atlas cache keys: what each map depends on, and the manifest that lets unchanged maps be skipped."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from cqgis import __version__
from cqgis.config import Settings
from cqgis.geo.io import atomic
from cqgis.maps.atlas.config import AtlasConfig
from cqgis.maps.atlas.items import MANIFEST, AtlasItem

_MANIFEST_VERSION = 1


def renderer_version(renderer: Callable) -> str:
    """Return a renderer's version: its ``version`` attribute, else a digest of the code it runs.

    The code is the renderer's own package and, for cqgis's renderer, the
    analyses and the geo package the maps are computed with: a fix to the
    GB 3838 rules must redraw the water maps.

    Parameters
    ----------
    renderer : callable
        The function that draws one atlas item.

    Returns
    -------
    str
        A version string or a hex digest.
    """
    version = getattr(renderer, "version", None)
    if version is not None:
        return str(version)
    folders = {Path(sys.modules[renderer.__module__].__file__).parent}
    if renderer.__module__.startswith("cqgis."):
        from cqgis import analysis, geo

        folders |= {Path(analysis.__file__).parent, Path(geo.__file__).parent}
    digest = hashlib.sha256()
    for path in sorted(p for folder in folders for p in folder.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def inputs_digest(settings: Settings, renderer: Callable) -> str:
    """Return a digest of everything every map depends on besides its own entry.

    That is the cqgis version, every layer's cache key, the bytes of every
    user file standing in for a layer, and the renderer's version.

    Parameters
    ----------
    settings : Settings
        Where the user's files standing in for layers are.
    renderer : callable
        The function that draws one atlas item.

    Returns
    -------
    str
        A hex digest.
    """
    from cqgis.layers import catalog

    digest = hashlib.sha256(f"cqgis {__version__}\nrenderer {renderer_version(renderer)}\n".encode())
    for name in catalog.names():
        digest.update(f"{name} {catalog.cache_key(name)}\n".encode())
        user_file = catalog.find_user_file(name, settings)
        if user_file is not None:
            digest.update(user_file.read_bytes())
    if settings.data_dir is not None and (Path(settings.data_dir) / catalog.COLUMNS_FILE).is_file():
        digest.update((Path(settings.data_dir) / catalog.COLUMNS_FILE).read_bytes())
    return digest.hexdigest()


def item_keys(items: Sequence[AtlasItem], config: AtlasConfig, inputs: str) -> dict[str, str]:
    """Return each item's key by :attr:`AtlasItem.ident`: a digest of the item, its entry and ``inputs``.

    Parameters
    ----------
    items : sequence of AtlasItem
        From :func:`plan`.
    config : AtlasConfig
        The config the items come from.
    inputs : str
        From :func:`inputs_digest`.

    Returns
    -------
    dict of str to str
        Item ident -> key (24 hex digits).
    """
    # Entries may split one theme and coverage between them (by filter), so
    # an item's key holds every entry of its pair.
    entries: dict[tuple[str, str], list[str]] = {}
    for entry in config.maps:
        entries.setdefault((entry.theme, entry.coverage), []).append(entry.canonical)
    keys = {}
    for item in items:
        payload = json.dumps(
            [item.theme, item.coverage_kind, item.area_name, item.formats, item.outputs,
             entries[(item.theme, item.coverage_kind)], inputs],
            ensure_ascii=False,
        )
        keys[item.ident] = hashlib.sha256(payload.encode()).hexdigest()[:24]
    return keys


def read_manifest(root: Path) -> dict:
    """Return the manifest of the atlas in ``root``; empty when there is none or it is unreadable.

    Parameters
    ----------
    root : Path
        The atlas's output folder.

    Returns
    -------
    dict
        ``items`` (item ident -> key) and ``books`` (theme -> key).
    """
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"items": {}, "books": {}}
    if not isinstance(manifest, dict) or manifest.get("version") != _MANIFEST_VERSION:
        return {"items": {}, "books": {}}
    return {"items": dict(manifest.get("items", {})), "books": dict(manifest.get("books", {}))}


def write_manifest(root: Path, manifest: Mapping) -> None:
    """Write the manifest atomically, sorted so that equal atlases give equal files.

    Parameters
    ----------
    root : Path
        The atlas's output folder.
    manifest : Mapping
        ``items`` and ``books``, as from :func:`read_manifest`.
    """
    text = json.dumps({"version": _MANIFEST_VERSION, **manifest}, ensure_ascii=False, sort_keys=True, indent=1)
    with atomic(root / MANIFEST) as temp:
        temp.write_text(text + "\n", encoding="utf-8")
