"""Benchmark the atlas with 1 and 2 worker processes: per-map time, the speed-up of 2 over 1, where the rest goes.

The maps are the water theme over sixteen districts, PNG only, rebuilt with
``force`` so nothing is skipped, with the real renderer,
``cqgis.maps.themes.render_item``, when that module exists, and always with
a CPU-bound stand-in that spends a fixed amount of arithmetic per map (the
engine's own scaling, free of the renderer's start-up imports). Times
include starting the workers and writing the theme PDF and the
index. Layers are built once before timing, so every run reads the same
cache. Each run's time is split into planning, item keys, drawing the maps
(workers), writing the theme PDF, the index page and the rest (manifest,
folders); in one process the time of each map is printed too, the first
with the renderer's warm-up. The files of the two runs are compared byte
for byte.
"""

from __future__ import annotations

import hashlib
import importlib.util
import tempfile
import time
from pathlib import Path

import numpy as np

from cqgis.geo.io import atomic
from cqgis.layers import catalog
from cqgis.maps import atlas
from cqgis.maps.atlas import build

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
    """Seconds spent in each step of :func:`cqgis.maps.atlas.run_atlas`, by wrapping the names its module calls.

    ``maps`` is the drawing (workers included); ``outcomes`` the moments,
    from the start of the drawing, at which each map was known to be done:
    in one process their differences are the time of each map, the first
    one with the renderer's warm-up (layers read, caches built).
    """

    STEPS = {"plan": "plan", "inputs_digest": "keys", "item_keys": "keys", "write_books": "PDF", "index_html": "index"}

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(["plan", "keys", "maps", "PDF", "index"], 0.0)
        self.outcomes: list[float] = []
        self._saved = {name: getattr(build, name) for name in [*self.STEPS, "execute"]}

    def __enter__(self) -> Phases:
        for name, step in self.STEPS.items():
            setattr(build, name, self._timed(self._saved[name], step))
        execute = self._saved["execute"]

        def timed_execute(*args, **kwargs):
            start = time.perf_counter()
            for outcome in execute(*args, **kwargs):
                self.outcomes.append(time.perf_counter() - start)
                yield outcome
            self.seconds["maps"] += time.perf_counter() - start

        build.execute = timed_execute
        return self

    def _timed(self, function, step: str):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[step] += time.perf_counter() - start

        return timed

    def __exit__(self, *exc) -> None:
        for name, function in self._saved.items():
            setattr(build, name, function)


def timed(folder: Path, render, workers: int) -> tuple[float, Phases]:
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
    return elapsed, phases


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
    speed_ups = []
    for render, description in renderers():
        with tempfile.TemporaryDirectory() as tmp:
            one, one_phases = timed(Path(tmp, "w1"), render, 1)
            two, two_phases = timed(Path(tmp, "w2"), render, 2)
            same = digests(Path(tmp, "w1", "atlas")) == digests(Path(tmp, "w2", "atlas"))
        print(f"{description}")
        each = np.diff(one_phases.outcomes, prepend=0.0)
        print(f"  one process: first map {each[0]:.2f} s (with the renderer's warm-up), "
              f"the others {np.median(each[1:]):.2f} s each (median; {each[1:].min():.2f}-{each[1:].max():.2f})")
        for label, total, phases in (("1 worker ", one, one_phases), ("2 workers", two, two_phases)):
            rest = total - sum(phases.seconds.values())
            parts = " + ".join(f"{step} {seconds:.1f}" for step, seconds in phases.seconds.items())
            print(f"  {label}: {total:5.1f} s = {parts} + rest {rest:.1f} s; first map done after {phases.outcomes[0]:.1f} s")
        print(f"  speed-up of 2 workers over 1: {one / two:.2f}x overall, "
              f"{one_phases.seconds['maps'] / two_phases.seconds['maps']:.2f}x in the drawing (goal >= 1.7x)")
        print(f"  outputs byte-identical for 1 and 2 workers: {same}")
        speed_ups.append(one / two)
    if len(speed_ups) == 2:
        # On a shared machine the stand-in's speed-up is what the other users left for a second worker.
        print(f"real renderer's speed-up / stand-in's (what this run's machine allowed): {speed_ups[0] / speed_ups[1]:.2f}")


if __name__ == "__main__":
    main()
