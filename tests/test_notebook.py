"""examples/cqgis_tour.ipynb run offline with nbclient in the project's Python; its outputs checked for what they say."""

import html
import io
import json
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from jupyter_client import KernelManager  # noqa: E402  (installed with nbclient)
from jupyter_client.kernelspec import KernelSpecManager  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "examples" / "cqgis_tour.ipynb"
GAUGES = ROOT / "layers" / "data" / "gauges.csv"
# Tolerance of the 30″ catchment at 朱沱 against its published control area (tests/test_hydrology.py).
AREA_TOLERANCE = 0.02
KERNEL = "cqgis-tests"


@pytest.fixture(scope="module")
def tour(tmp_path_factory):
    """The notebook, executed in a fresh folder; returns (its code cells' outputs, the folder)."""
    folder = tmp_path_factory.mktemp("tour")
    # A kernel of this very interpreter: a `python3` kernel found elsewhere could lack cqgis.
    kernels = folder / ".kernels"
    (kernels / KERNEL).mkdir(parents=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"], "language": "python",
            "display_name": "cqgis tests"}
    (kernels / KERNEL / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    manager = KernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, km=manager, timeout=900, allow_errors=False, resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    return [cell.outputs for cell in notebook.cells if cell.cell_type == "code"], folder


def _text(outputs) -> str:
    return "".join(o.get("text", "") for o in outputs if o.output_type == "stream" and o.get("name") == "stdout")


def _table(outputs) -> pd.DataFrame:
    result = next(o for o in outputs if o.output_type == "execute_result")
    return pd.read_html(io.StringIO(result.data["text/html"]), index_col=0)[0]


def test_notebook_is_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def test_districts_load_with_provenance(tour):
    outputs, _ = tour
    assert _text(outputs[0]).strip() == "38 districts, EPSG:4326"
    table = _table(outputs[0])
    assert list(table.columns) == ["adcode", "name", "region", "precision"]
    assert table["adcode"].iloc[0] == 500101 and table["name"].iloc[0] == "万州区"


def test_water_quality_of_the_users_file(tour):
    outputs, _ = tour
    table = _table(outputs[1]).set_index("section_name")
    assert list(table.columns) == ["district", "period", "class", "target_class", "meets_target", "main_pollutants"]
    # 朱沱: NH3-N (0.62 + 0.71) / 2 = 0.665 mg/L is class Ⅲ, its target Ⅱ; 白沙: every item Ⅰ or Ⅱ.
    assert table.loc["朱沱", ["class", "target_class", "meets_target"]].tolist() == ["Ⅲ", "Ⅱ", False]
    assert table.loc["白沙", ["class", "target_class", "meets_target"]].tolist() == ["Ⅱ", "Ⅱ", True]
    assert table.loc["朱沱", "district"] == "永川区" and table.loc["白沙", "district"] == "江津区"
    assert table["period"].tolist() == [2024, 2024]


def test_catchment_of_the_failing_section_is_near_the_published_area(tour):
    outputs, _ = tour
    printed = _text(outputs[2])
    found = re.fullmatch(r"朱沱以上流域：([\d,]+) km²\n", printed)
    assert found, printed
    area = float(found.group(1).replace(",", ""))
    published = pd.read_csv(GAUGES).set_index("station").loc["朱沱", "control_area_km2"]
    assert abs(area - published) <= AREA_TOLERANCE * published
    provinces = _table(outputs[2])
    assert provinces["pct"].sum() == pytest.approx(100.0, abs=0.01)
    assert provinces.sort_values("km2")["province"].iloc[-1] == "四川省"


def test_map_shows_inline_offline_with_the_users_data(tour):
    outputs, _ = tour
    shown = next(o for o in outputs[3] if o.output_type == "execute_result").data
    assert shown["text/plain"] == "<cqgis Map '永川区 · 水环境质量': 7 layers>"
    frame = shown["text/html"]
    assert frame.startswith('<iframe srcdoc="') and frame.endswith("</iframe>")
    page = html.unescape(frame.split('srcdoc="', 1)[1].split('" sandbox=', 1)[0])
    assert page.startswith("<!DOCTYPE html>") and "永川区 · 水环境质量" in page
    # Nothing for the browser to fetch: no script, style sheet, image, frame or font from a server, no tiles.
    # (Leaflet's inlined source holds a link to its site as text: no request.)
    fetched = r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//|url\(\s*["']?(?:https?:)?//|@import"""
    assert not re.search(fetched, page, flags=re.IGNORECASE)
    assert "{z}" not in page
    assert "用户数据 measurements.csv" in page


def test_map_saved_in_the_formats_asked(tour):
    outputs, folder = tour
    saved = next(o for o in outputs[4] if o.output_type == "execute_result").data["text/plain"]
    assert saved == "['永川水质.html', '永川水质.png', '永川水质.qgz']"
    assert (folder / "永川水质.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "永川区 · 水环境质量" in (folder / "永川水质.html").read_text(encoding="utf-8")
    assert (folder / "永川水质.gpkg").is_file()


def test_atlas_draws_the_filtered_districts_with_qgis_projects(tour):
    outputs, folder = tour
    assert _text(outputs[5]).startswith("2 maps, 0 failed; index: ")
    index = (folder / "图集" / "index.html").read_text(encoding="utf-8")
    assert "永川区" in index and "江津区" in index and "万州区" not in index
    projects = next(o for o in outputs[5] if o.output_type == "execute_result").data["text/plain"]
    assert projects == "['atlas-water.qgz', 'atlas.qgz']"
    assert all((folder / "图集" / name).is_file() for name in ("atlas-water.qgz", "atlas.qgz"))
