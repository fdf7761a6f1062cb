"""Atomic writes: every output goes to a hidden temporary file beside the target and is renamed over it only when complete."""

from __future__ import annotations

import glob
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from cqgis.errors import CqgisError, one_line
from cqgis.geo.errors import WriteError

if TYPE_CHECKING:
    pass


@contextmanager
def atomic(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``, renamed over it when the block succeeds.

    On any failure, Ctrl-C included, the temporary file (and any file the
    writer added beside it) is removed and ``path`` is left as it was; an
    ordinary exception becomes :class:`WriteError`.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.

    Yields
    ------
    pathlib.Path
        The temporary file to write to, in the same folder as ``path``.

    Raises
    ------
    WriteError
        Missing folder, ``path`` is a folder, or the block failed.
    """
    path = Path(path)
    if not path.parent.is_dir():
        msg = f"cannot write {path}: folder {path.parent} does not exist"
        raise WriteError(msg)
    if path.is_dir():
        msg = f"cannot write {path}: it is a folder"
        raise WriteError(msg)
    # Same folder, so the final rename stays on one file system and is atomic.
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp{path.suffix}")
    try:
        yield temp
        os.replace(temp, path)
    except BaseException as exc:
        for leftover in temp.parent.glob(glob.escape(temp.name) + "*"):
            leftover.unlink(missing_ok=True)
        # A user's mistake found while writing (a bad cell of a later block) keeps its own message.
        if not isinstance(exc, Exception) or isinstance(exc, CqgisError):
            raise
        msg = f"cannot write {path}: {one_line(exc, with_type=False)}"
        raise WriteError(msg) from exc
