"""Web maps opened in headless Chromium with the network blocked: drawn, controllable, escaped, Chinese text in a real font."""

from __future__ import annotations

import shutil

import pytest

from cqgis.maps import web, webfont
from test_maps_web import HOSTILE_NAME, make_spec

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Three districts, one river, two stations: one SVG path each.
FEATURES = 6
# Draws each distinct Chinese character of the title alone on a canvas, in
# the title's font, and counts the distinct pictures: a character the fonts
# lack is drawn as the same empty box as any other.
TITLE_GLYPHS = """async () => {
  await document.fonts.ready;
  const title = document.querySelector('.cqgis-title h1');
  const chars = [...new Set(title.firstChild.textContent)].filter((c) => c >= '\\u2e80');
  const canvas = document.createElement('canvas');
  canvas.width = 40;
  canvas.height = 40;
  const context = canvas.getContext('2d', {willReadFrequently: true});
  context.font = getComputedStyle(title).font;
  const pictures = new Set(chars.map((c) => {
    context.clearRect(0, 0, 40, 40);
    context.fillText(c, 5, 30);
    return context.getImageData(0, 0, 40, 40).data.join(',');
  }));
  return [chars.length, pictures.size];
}"""


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture()
def opened(browser, tmp_path):
    """Open the test map offline; yield the page, its console errors and blocked requests."""
    path = web.render_html(make_spec(), tmp_path / "map.html")
    context, page, errors, blocked = open_offline(browser, path)
    yield page, errors, blocked
    context.close()


def open_offline(browser, path):
    """Open ``path`` with every non-file request blocked; return the context, page, console errors and blocked URLs."""
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    blocked: list[str] = []

    def only_files(route):
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_files)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-container")
    return context, page, errors, blocked


def test_map_draws_every_feature_offline(opened):
    page, errors, blocked = opened
    assert page.locator(".leaflet-container").count() == 1
    assert page.locator("path.leaflet-interactive").count() == FEATURES
    assert page.locator(".cqgis-legend").inner_text().startswith("图例")
    assert "示例数据" in page.locator(".cqgis-title").inner_text()
    assert page.locator(".leaflet-control-scale-line").inner_text().endswith(("km", "m"))
    assert page.locator(".leaflet-tooltip.cqgis-label").count() == 3
    assert errors == [] and blocked == []


def test_chinese_title_is_drawn_in_a_chinese_font(opened):
    page, errors, blocked = opened
    count, pictures = page.evaluate(TITLE_GLYPHS)
    assert count == len(set("测试地图")) and pictures == count
    # The embedded subset loads from its data URI and holds the title.
    faces = page.evaluate(
        f"async () => (await document.fonts.load('18px \"{webfont.WEB_FONT_FAMILY}\"', "
        "'测试地图示例数据')).map((face) => face.status)"
    )
    assert faces == ["loaded"]
    assert errors == [] and blocked == []
    # Chromium names the fonts it drew the title with: the embedded subset,
    # or a system font of the stack, never a fallback without Chinese. (The
    # CSS domain logs a file: origin complaint, so errors are checked above.)
    session = page.context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument")["root"]["nodeId"]
    title = session.send("DOM.querySelector", {"nodeId": root, "selector": ".cqgis-title h1"})
    used = session.send("CSS.getPlatformFontsForNode", {"nodeId": title["nodeId"]})["fonts"]
    system = webfont.FONT_STACK.replace('"', "").split(",")
    assert used and all(font["isCustomFont"] or font["familyName"] in system for font in used)


def test_layer_control_hides_and_shows_a_layer(opened):
    from playwright.sync_api import expect

    page, errors, _ = opened
    paths = page.locator("path.leaflet-interactive")
    river = page.locator(".leaflet-control-layers-overlays label", has_text="河流")
    river.locator("input").uncheck()
    expect(paths).to_have_count(FEATURES - 1)
    river.locator("input").check()
    expect(paths).to_have_count(FEATURES)
    districts = page.locator(".leaflet-control-layers-overlays label", has_text="区县")
    districts.locator("input").uncheck()
    expect(paths).to_have_count(FEATURES - 3)
    # Labels belong to their layer and fade out with it.
    expect(page.locator(".leaflet-tooltip.cqgis-label")).to_have_count(0)
    assert errors == []


def test_popup_shows_a_hostile_name_as_text(opened):
    page, errors, _ = opened
    page.evaluate("() => { window.alerted = false; window.alert = () => { window.alerted = true; } }")
    first_district = page.locator("path.leaflet-interactive").first
    box = first_district.bounding_box()
    # The district's lower-left quarter is clear of the river and the stations.
    page.mouse.click(box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.85)
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert HOSTILE_NAME in popup.inner_text()
    assert popup.locator("script").count() == 0
    assert page.evaluate("window.alerted") is False
    assert errors == []


@pytest.fixture(scope="module")
def theme_pages(tmp_path_factory, layer_cache):
    """Every theme's whole-city web map, rendered once."""
    from cqgis.maps import themes

    folder = tmp_path_factory.mktemp("theme-pages")
    return {theme: themes.render(theme, folder / f"{theme}.html") for theme in themes.THEMES}


@pytest.mark.parametrize(
    "theme", ["overview", "water", "hydrogen", "parks", "rural-sewage", "compliance"]
)
def test_every_theme_opens_offline(browser, theme_pages, theme):
    from cqgis.maps.theme_names import THEMES

    context, page, errors, blocked = open_offline(browser, theme_pages[theme])
    assert THEMES[theme] in page.locator(".cqgis-title").inner_text()
    count, pictures = page.evaluate(TITLE_GLYPHS)
    assert count > 1 and pictures == count
    assert page.locator("path.leaflet-interactive").count() > 0
    assert page.locator(".cqgis-legend").inner_text().startswith("图例")
    assert page.locator(".cqgis-source").inner_text().startswith("数据来源")
    assert errors == [] and blocked == []
    context.close()
