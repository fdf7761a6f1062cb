"""Text encodings of users' files: a Shapefile's .cpg or its DBF's text tried as UTF-8 then GB18030; CSV files likewise."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, BinaryIO

from cqgis.geo.errors import ReadError

if TYPE_CHECKING:
    pass


_DECODE_BLOCK_BYTES = 1 << 20
# Encodings tried, strictly and in order, for text without a declared one.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
_DBF_ENCODINGS = ("utf-8", "gb18030")
# Code pages a .cpg names by number whose Python codec is not "cp" + number.
_CPG_CODE_PAGES = MappingProxyType({"65001": "utf-8", "88591": "latin-1", "936": "gbk", "utf8": "utf-8"})
# Enough records to meet the text of any realistic attribute table while
# keeping the guess cheap for DBFs of hundreds of megabytes.
_ENCODING_SAMPLE_BYTES = 8 << 20
_DBF_TEXT_FIELD = ord("C")
_DBF_HEADER_END = 0x0D


def sidecar_encoding(sidecars: Mapping[str, Callable[[], BinaryIO]], what: str) -> str | None:
    """Check a shapefile's companion files and choose the encoding of its text, given openers by extension.

    A shapefile without its ``.dbf`` would give features without
    attributes, and one without its ``.shx`` index cannot be read: both are
    refused. The text is decoded, not trusted to the ``.cpg``: strictly as
    UTF-8 first (GBK text almost never passes as UTF-8, while UTF-8 text
    often passes as GBK), then as the ``.cpg`` says, then as GB18030.
    None lets GDAL decide, for plain ASCII.
    """
    for sidecar, role in ((".dbf", "attribute table"), (".shx", "index")):
        if sidecar not in sidecars:
            msg = (
                f"{what}: the shapefile's {role} ({sidecar}) is missing; cqgis reads a shapefile "
                f"only with its .shp, .shx and .dbf together: add the {sidecar} that came with the .shp"
            )
            raise ReadError(msg)
    declared = None
    if ".cpg" in sidecars:
        with sidecars[".cpg"]() as stream:
            declared = _codec(stream.read(64).decode("ascii", "replace"))
    with sidecars[".dbf"]() as stream:
        sample = _dbf_text_sample(stream)
    if sample is None or sample.isascii():
        return None
    encodings = dict.fromkeys(name for name in ("utf-8", declared, *_DBF_ENCODINGS) if name)
    decoded = _first_decoding(sample, tuple(encodings))
    if decoded is None:
        msg = f"{what}: the attribute text is neither UTF-8 nor GBK/GB18030{' nor ' + declared if declared else ''}"
        raise ReadError(msg)
    return decoded[0]


def _codec(label: str) -> str | None:
    """Python codec of a ``.cpg`` label (``UTF-8``, ``GBK``, ``936``, ``1252``), or None if unknown."""
    import codecs

    label = label.strip().lower()
    label = _CPG_CODE_PAGES.get(label, f"cp{label}" if label.isdigit() else label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _dbf_text_sample(stream: BinaryIO) -> bytes | None:
    """Return the bytes of a DBF's field names and text fields, or None for a DBF cqgis cannot lay out.

    Reads the header and up to :data:`_ENCODING_SAMPLE_BYTES` of records;
    the bytes of the character (``C``) fields are gathered with one mask
    over the record layout.
    """
    import numpy as np

    header = stream.read(32)
    if len(header) < 32:
        return None
    n_records = int.from_bytes(header[4:8], "little")
    header_size = int.from_bytes(header[8:10], "little")
    record_size = int.from_bytes(header[10:12], "little")
    descriptors = np.frombuffer(stream.read(max(header_size - 32, 0)), dtype=np.uint8)
    fields = descriptors[: descriptors.size // 32 * 32].reshape(-1, 32)
    end = np.flatnonzero(fields[:, 0] == _DBF_HEADER_END)
    fields = fields[: end[0] if end.size else len(fields)]
    sizes = fields[:, 16].astype(np.intp)
    # Each record is a deletion flag followed by the fields at their widths.
    text_bytes = np.concatenate([[False], np.repeat(fields[:, 11] == _DBF_TEXT_FIELD, sizes)])
    if record_size == 0 or text_bytes.size != record_size:
        return None
    count = min(n_records, _ENCODING_SAMPLE_BYTES // record_size)
    raw = np.frombuffer(stream.read(count * record_size), dtype=np.uint8)
    records = raw[: raw.size // record_size * record_size].reshape(-1, record_size)
    return fields[:, :11].tobytes() + records[:, text_bytes].tobytes()


def _first_decoding(raw: bytes, encodings: Sequence[str]) -> tuple[str, str] | None:
    """Return (encoding, text) for the first encoding that decodes ``raw`` strictly."""
    for encoding in encodings:
        try:
            return encoding, raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def text_encoding(path: Path, encodings: Sequence[str]) -> str | None:
    """Return the first encoding that decodes the whole file strictly, read in blocks; None if none does."""
    import codecs

    for encoding in encodings:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            with path.open("rb") as stream:
                while block := stream.read(_DECODE_BLOCK_BYTES):
                    decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    return None
