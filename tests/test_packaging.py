"""Tests that the project's metadata agrees with itself: dependencies, layout and CI."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    """Normalised distribution name of a requirement string ('pyyaml>=6' -> 'pyyaml')."""
    name = re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _conda_names() -> tuple[set[str], set[str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda, pip = set(), set()
    for item in env["dependencies"]:
        if isinstance(item, dict):
            pip |= {_name(r) for r in item["pip"] if not r.startswith("-e")}
        else:
            conda.add(_name(item))
    return conda - {"python", "pip"}, pip


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = _pyproject()["project"]
    declared = {_name(r) for r in project["dependencies"]}
    declared |= {_name(r) for r in project["optional-dependencies"]["test"]}
    conda, pip = _conda_names()
    assert conda | pip == declared
    assert not conda & pip, "a package is listed both for conda and for pip"


def test_environment_yml_uses_conda_forge():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env["channels"] == ["conda-forge"]


def test_design_card_layout_is_present():
    for folder in ("geo", "layers", "analysis", "maps", "cli", "tests", "bench"):
        assert (ROOT / folder).is_dir(), folder
    for package in ("geo", "layers", "analysis", "maps", "cli"):
        init = (ROOT / package / "__init__.py").read_text(encoding="utf-8")
        assert init.startswith('"""'), f"{package}/__init__.py needs its docstring"
    mapping = _pyproject()["tool"]["setuptools"]["package-dir"]
    assert {mapping[f"cqgis.{p}"] for p in ("geo", "layers", "analysis", "maps", "cli")} == {
        "geo", "layers", "analysis", "maps", "cli",
    }


def test_ci_runs_make_test_and_nothing_that_hides_a_failure():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "set -euo pipefail" in script
    assert "make test" in script
    assert "|| true" not in script


def test_every_module_starts_with_a_docstring():
    for package in ("cqgis", "geo", "layers", "analysis", "maps", "cli"):
        for path in (ROOT / package).glob("*.py"):
            text = path.read_text(encoding="utf-8").lstrip()
            assert text.startswith('"""'), f"{path.relative_to(ROOT)} has no module docstring"
