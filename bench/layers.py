"""Cold build time and cached load time of every layer, and their ratio, in one process.

Layers are built in catalogue order into a fresh cache, so each cold time is
that layer's own build (its dependencies are already cached); the cached
time is the best of three loads from the GeoParquet cache.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from cqgis.config import Settings
from cqgis.layers import catalog

REPEATS = 3


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(cache_dir=Path(folder))
        print(f"{'layer':<18} {'features':>8} {'cold s':>8} {'cached s':>9} {'ratio':>7}")
        total_cold = total_cached = 0.0
        for name in catalog.names():
            start = time.perf_counter()
            frame = catalog.load(name, settings)
            cold = time.perf_counter() - start
            cached = min(_timed(name, settings) for _ in range(REPEATS))
            total_cold += cold
            total_cached += cached
            print(f"{name:<18} {len(frame):>8} {cold:>8.3f} {cached:>9.4f} {cold / cached:>6.0f}x")
        print(f"{'all layers':<18} {'':>8} {total_cold:>8.3f} {total_cached:>9.4f} {total_cold / total_cached:>6.0f}x")


def _timed(name: str, settings: Settings) -> float:
    start = time.perf_counter()
    catalog.load(name, settings)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
