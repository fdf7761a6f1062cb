"""Chinese fonts for matplotlib: a Simplified Chinese system font, else one shipped in a Python package.

matplotlib ships no CJK font, so Chinese text renders as empty boxes. The
search order is:

1. a Simplified Chinese system font matplotlib knows (:data:`SYSTEM_FAMILIES`;
   fonts installed after matplotlib built its font cache are found by a scan
   of the system font folders);
2. Noto Sans SC from the PyPI package ``pylopdf-fonts-zh-cn`` (SIL OFL 1.1);
3. any other Noto/Source Han CJK face on the system (Japanese, Traditional
   Chinese or Korean glyph variants, but every character is there).

PDFs embed the chosen font (``pdf.fonttype`` 42), so they print anywhere.
matplotlib embeds every such font as TrueType, CFF ones (Noto) included;
:func:`cqgis.maps.pdf.truetype_fonts` then gives those TrueType outlines.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from matplotlib import font_manager

from cqgis.maps.errors import AssetError

#: Simplified Chinese families, best first.
SYSTEM_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
)
#: CJK families with every Chinese character but other regional glyph forms.
OTHER_CJK_FAMILIES = (
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "Source Han Sans TC",
    "Noto Sans CJK KR",
    "Droid Sans Fallback",
)
#: (package, file) of fonts shipped in Python packages.
PACKAGED_FONTS = (("pylopdf_fonts_zh_cn", "NotoSansSC-Regular.otf"),)
#: Distribution to install for the packaged font.
FONT_DISTRIBUTION = "pylopdf-fonts-zh-cn"
#: Font for Latin text and symbols a CJK font lacks.
LATIN_FALLBACK = "DejaVu Sans"
# Fragments of the file names of the system families above, lower case.
_SYSTEM_FILE_HINTS = ("cjk", "sourcehan", "wqy", "wenquanyi", "notosanssc", "droidsansfallback")


def cjk_font() -> str:
    """Return the family name of a Chinese font matplotlib can use, registering it if needed.

    Returns
    -------
    str
        A family name for ``font.family``.

    Raises
    ------
    AssetError
        When no Chinese font is installed, saying what to install.
    """
    family = _known_family(SYSTEM_FAMILIES)
    if family is None:
        _register_system_fonts()
        family = _known_family(SYSTEM_FAMILIES)
    if family is None:
        family = _packaged_family()
    if family is None:
        family = _known_family(OTHER_CJK_FAMILIES)
    if family is None:
        msg = (
            "no Chinese font found for static maps: install the Python package "
            f"{FONT_DISTRIBUTION} or the Debian package fonts-noto-cjk"
        )
        raise AssetError(msg)
    return family


def rc_params() -> dict:
    """Return matplotlib settings for Chinese maps with fonts embedded in PDF and SVG.

    Use them with :func:`matplotlib.rc_context` so nothing global changes.

    Returns
    -------
    dict
        rcParams: the CJK font family with a Latin fallback, TrueType font
        embedding and a fixed SVG hash salt.
    """
    return {
        "font.family": [cjk_font(), LATIN_FALLBACK],
        "pdf.fonttype": 42,
        "ps.fonttype": 42,
        "svg.fonttype": "path",
        # A fixed salt makes SVG element ids, and so the files, reproducible.
        "svg.hashsalt": "cqgis",
        "axes.unicode_minus": False,
    }


def _known_family(families: tuple[str, ...]) -> str | None:
    known = {entry.name for entry in font_manager.fontManager.ttflist}
    return next((family for family in families if family in known), None)


def _register_system_fonts() -> None:
    for path in font_manager.findSystemFonts():
        name = Path(path).name.lower().replace("-", "").replace("_", "")
        if any(hint in name for hint in _SYSTEM_FILE_HINTS):
            font_manager.fontManager.addfont(path)


def packaged_font_path() -> Path | None:
    """Return the font file installed with cqgis's font package, or None when it is not installed.

    Returns
    -------
    pathlib.Path or None
        The first of :data:`PACKAGED_FONTS` that is installed.
    """
    for package, filename in PACKAGED_FONTS:
        try:
            path = resources.files(package).joinpath(filename)
        except ModuleNotFoundError:
            continue
        if path.is_file():
            return Path(str(path))
    return None


def _packaged_family() -> str | None:
    path = packaged_font_path()
    if path is None:
        return None
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()
