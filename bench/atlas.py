"""Benchmark the atlas with 1 and 2 worker processes: per-map time, the speed-up of 2 over 1, where the rest goes.

The maps are the water theme over sixteen districts, PNG only, rebuilt with
``force`` so nothing is skipped, with the real renderer,
``cqgis.maps.themes.render_item``, when that module exists, and always with
a CPU-bound stand-in that spends a fixed amount of arithmetic per map (the
engine's own scaling, free of the renderer's start-up imports). Times
include starting the workers and writing the theme PDF and the
index. Layers are built once before timing, so every run reads the same
cache. Each run's time is split into drawing the maps (workers), writing the
theme PDF and the rest (index, manifest, previews of skipped maps, pool
start-up); the files of the two runs are compared byte for byte.
"""

from __future__ import annotations

import hashlib
import importlib.util
import tempfile
import time
from pathlib import Path

from cqgis.geo.io import atomic
from cqgis.layers import catalog
from cqgis.maps import atlas

DISTRICTS = (
    "渝中区", "江北区", "南岸区", "北碚区", "潼南区", "荣昌区", "万州区", "黔江区",
    "璧山区", "铜梁区", "大足区", "合川区", "永川区", "江津区", "綦江区", "长寿区",
)
CONFIG = f"""\
maps:
  - theme: water
    coverage: district
    formats: [png]
    filter: "name in {list(DISTRICTS)}"
"""
#: SHA-256 rounds per map of the stand-in renderer (about as long as a real map).
STAND_IN_ROUNDS = 4_000_000


def stand_in_render(item: atlas.AtlasItem) -> list[Path]:
    """Spend CPU, then write each output as a tiny PNG."""
    from PIL import Image

    digest = item.ident.encode()
    for _ in range(STAND_IN_ROUNDS):
        digest = hashlib.sha256(digest).digest()
    for path in item.paths:
        with atomic(path) as temp:
            Image.new("RGB", (64, 48), tuple(digest[:3])).save(temp, format="PNG")
    return list(item.paths)


stand_in_render.version = "stand-in"


def renderers() -> list[tuple[object, str]]:
    """Return (renderer, description) pairs: the real one when cqgis.maps.themes exists, and the stand-in."""
    found = []
    if importlib.util.find_spec("cqgis.maps.themes") is not None:
        found.append((atlas.load_renderer(), "real renderer (cqgis.maps.themes.render_item)"))
    found.append((stand_in_render, f"CPU-bound stand-in ({STAND_IN_ROUNDS} SHA-256 rounds per map)"))
    return found


class Phases:
    """Seconds spent in the atlas's map drawing and PDF writing, by wrapping those two steps."""

    def __init__(self) -> None:
        self.seconds = {"maps": 0.0, "pdf": 0.0}
        self._execute, self._book = atlas.execute, atlas.write_book

    def __enter__(self) -> Phases:
        def execute(*args, **kwargs):
            start = time.perf_counter()
            yield from self._execute(*args, **kwargs)
            self.seconds["maps"] += time.perf_counter() - start

        def write_book(*args, **kwargs):
            start = time.perf_counter()
            try:
                return self._book(*args, **kwargs)
            finally:
                self.seconds["pdf"] += time.perf_counter() - start

        atlas.execute, atlas.write_book = execute, write_book
        return self

    def __exit__(self, *exc) -> None:
        atlas.execute, atlas.write_book = self._execute, self._book


def timed(folder: Path, render, workers: int) -> tuple[float, dict[str, float]]:
    """Render the atlas into ``folder`` with ``workers`` processes; return seconds and their split."""
    folder.mkdir()
    (folder / "atlas.yaml").write_text(CONFIG, encoding="utf-8")
    config = atlas.read_config(folder / "atlas.yaml")
    with Phases() as phases:
        start = time.perf_counter()
        report = atlas.run_atlas(config, renderer=render, workers=workers, force=True)
        elapsed = time.perf_counter() - start
    if report.failures:
        raise SystemExit(f"maps failed: {report.failures}")
    return elapsed, phases.seconds


def digests(folder: Path) -> dict[str, str]:
    """Return the SHA-256 of every file under ``folder`` by relative path."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def main() -> None:
    for name in catalog.names():
        catalog.load(name)
    print(f"maps: {len(DISTRICTS)} (water x district, png)")
    for render, description in renderers():
        with tempfile.TemporaryDirectory() as tmp:
            one, one_parts = timed(Path(tmp, "w1"), render, 1)
            two, two_parts = timed(Path(tmp, "w2"), render, 2)
            same = digests(Path(tmp, "w1", "atlas")) == digests(Path(tmp, "w2", "atlas"))
        print(f"{description}")
        for label, total, parts in (("1 worker ", one, one_parts), ("2 workers", two, two_parts)):
            rest = total - parts["maps"] - parts["pdf"]
            print(
                f"  {label}: {total:6.1f} s = maps {parts['maps']:5.1f} s "
                f"({parts['maps'] / len(DISTRICTS):.2f} s wall per map) + PDF {parts['pdf']:4.1f} s + rest {rest:4.1f} s"
            )
        print(f"  speed-up of 2 workers over 1: {one / two:.2f}x (goal >= 1.7x)")
        print(f"  outputs byte-identical for 1 and 2 workers: {same}")


if __name__ == "__main__":
    main()
