"""Shared fixtures: a per-session layer cache, and the administrative layers built once."""

from __future__ import annotations

import pytest

from cqgis.layers import catalog


@pytest.fixture(scope="session", autouse=True)
def layer_cache(tmp_path_factory):
    """Point CQGIS_CACHE_DIR at a session temp dir, so layers are built once per session."""
    with pytest.MonkeyPatch.context() as patch:
        path = tmp_path_factory.mktemp("cqgis-cache")
        patch.setenv("CQGIS_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="session")
def districts(layer_cache):
    """The ``districts`` layer."""
    return catalog.load("districts")


@pytest.fixture(scope="session")
def neighbors(layer_cache):
    """The ``neighbors`` layer."""
    return catalog.load("neighbors")
