"""The README's layout table and ARCHITECTURE.md describe the tree as it is."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Folders whose every module the layout table must name (the others are described as a whole).
LISTED = ("geo", "geo/io", "maps/atlas")


def _layout_rows() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Layout") : text.index("\n## ", text.index("## Layout") + 1)]
    rows = re.findall(r"^\| `([^`]+)`(?:, `[^`]+`)* \| (.+) \|$", section, flags=re.MULTILINE)
    return dict(rows)


def test_layout_table_names_existing_paths_only():
    rows = _layout_rows()
    assert {"geo/", "layers/", "analysis/", "maps/", "cli/", "cqgis/"} <= set(rows)
    for folder, description in rows.items():
        assert (ROOT / folder).is_dir(), folder
        for name in re.findall(r"`([\w/]+\.(?:py|ipynb)|[\w]+/)`", description):
            candidates = [ROOT / folder / name, ROOT / name]
            assert any(path.exists() for path in candidates), f"{folder}: {name}"


def test_layout_table_names_every_module_of_the_listed_packages():
    rows = _layout_rows()
    for folder in LISTED:
        described = rows[f"{folder}/"]
        for module in sorted((ROOT / folder).glob("*.py")):
            if module.name != "__init__.py":
                assert f"`{module.name}`" in described, f"{folder}/{module.name} is not in the README's layout table"


def test_architecture_names_existing_modules():
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:geo|layers|analysis|maps|cli|cqgis)/[\w/]+\.py)`", text))
    assert named
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing
