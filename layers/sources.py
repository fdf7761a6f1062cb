"""Where the layers' embedded data lives, and digests of the code and data layers are built from (for cache keys)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

#: Folder of the embedded data files (CSV, YAML, the DEM).
DATA_DIR = Path(__file__).with_name("data")

#: Name of the optional header mapping in a user's data folder.
COLUMNS_FILE = "columns.yaml"


def code_digest() -> bytes:
    """Return a digest of the code layers are built with: every module of cqgis.geo and cqgis.layers, and the config.

    A change in a shared helper changes layers, so every module counts, not
    only the layer's own.

    Returns
    -------
    bytes
        A sha256 digest.
    """
    from cqgis import config, geo

    files = sorted(Path(geo.__file__).parent.rglob("*.py")) + sorted(Path(__file__).parent.glob("*.py"))
    digest = hashlib.sha256()
    for path in [*files, Path(config.__file__)]:
        digest.update(path.read_bytes())
    return digest.digest()


def data_digest(data_files: Iterable[str]) -> bytes:
    """Return a digest of files under :data:`DATA_DIR`.

    Parameters
    ----------
    data_files : iterable of str
        File names under :data:`DATA_DIR`.

    Returns
    -------
    bytes
        A sha256 digest of their bytes, in the order given.
    """
    digest = hashlib.sha256()
    for data_file in data_files:
        digest.update((DATA_DIR / data_file).read_bytes())
    return digest.digest()
