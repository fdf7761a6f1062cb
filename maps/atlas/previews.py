"""Atlas previews: each map's index thumbnail and the page image of its theme PDF, made from its PNG."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from cqgis.geo.io import atomic
from cqgis.maps.atlas.items import AtlasItem

#: Longest side of the index page's thumbnails, in pixels.
THUMBNAIL_PIXELS = 480
#: Longest side of the theme PDF's page images, in pixels.
BOOK_IMAGE_PIXELS = 900
#: zlib level of the previews: level 6 made them 4 % smaller for twice the
#: time; the theme PDF copies the page image's compressed data as it is.
PREVIEW_COMPRESSION = 3


def write_previews(item: AtlasItem, image: Image.Image | None = None) -> None:
    """Write the index thumbnail and the PDF page image of an item whose page is newer than them.

    Parameters
    ----------
    item : AtlasItem
        An item whose :attr:`AtlasItem.page` PNG exists.
    image : PIL.Image.Image, optional
        The picture of that page, as its renderer just wrote it (see
        :func:`cqgis.maps.static.render_png`); without it the page is read.
        Given, the previews are written whatever their dates.

    Raises
    ------
    OSError
        The page cannot be read or a preview written (nothing half-written is left).
    """
    page = Path(item.root, item.page)
    wanted = [(Path(item.root, item.book_image), BOOK_IMAGE_PIXELS), (Path(item.root, item.thumbnail), THUMBNAIL_PIXELS)]
    if image is None:
        if all(path.exists() and path.stat().st_mtime >= page.stat().st_mtime for path, _ in wanted):
            return
        with Image.open(page) as opened:
            image = opened.convert("RGB")
    # Each from the one before: the page image has four times fewer pixels to scale than the whole map.
    for path, pixels in wanted:
        image = _shrunk(image, pixels)
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic(path) as temp:
            image.save(temp, format="PNG", compress_level=PREVIEW_COMPRESSION)


def _shrunk(image: Image.Image, pixels: int) -> Image.Image:
    """Return the picture scaled to ``pixels`` on its longer side (never enlarged)."""
    scale = pixels / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    # A box reduction first to within twice the size, then bicubic: a third
    # of the time of Pillow's thumbnail() for a difference of under one level on average.
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=1.0)
