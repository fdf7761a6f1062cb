"""Atlas previews: each map's index thumbnail and the page image of its theme PDF, made from its PNG."""

from __future__ import annotations

from pathlib import Path

from cqgis.geo.io import atomic
from cqgis.maps.atlas.items import AtlasItem

#: Longest side of the index page's thumbnails, in pixels.
THUMBNAIL_PIXELS = 480
#: Longest side of the theme PDF's page images, in pixels.
BOOK_IMAGE_PIXELS = 900


def write_previews(item: AtlasItem) -> None:
    """Write the index thumbnail and the PDF page image of an item whose page is newer than them.

    Parameters
    ----------
    item : AtlasItem
        An item whose :attr:`AtlasItem.page` PNG exists.

    Raises
    ------
    OSError
        The page cannot be read or a preview written (nothing half-written is left).
    """
    from PIL import Image

    page = Path(item.root, item.page)
    # zlib level: Pillow's default (its optimize option made them 5 % smaller
    # for six times the time); the theme PDF copies the page image's data as it is.
    wanted = [
        (Path(item.root, item.book_image), BOOK_IMAGE_PIXELS, 6),
        (Path(item.root, item.thumbnail), THUMBNAIL_PIXELS, 6),
    ]
    if all(path.exists() and path.stat().st_mtime >= page.stat().st_mtime for path, _, _ in wanted):
        return
    with Image.open(page) as image:
        shrunk = image.convert("RGB")
    # Each from the one before, the large page four times fewer pixels to scale than the whole map.
    for path, pixels, level in wanted:
        shrunk = shrunk.copy()
        shrunk.thumbnail((pixels, pixels))
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic(path) as temp:
            shrunk.save(temp, format="PNG", compress_level=level)
