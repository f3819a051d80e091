"""What an uploaded file is, by its content: JPEG, PNG or PDF (magic bytes, then Pillow's check
for images), its metadata stripped without touching the pixels, and a thumbnail for lists.

Names and declared types are never trusted: a ``.jpg`` that is a ZIP is refused. Stripping works
on the container, not the picture, so a photo's decoded pixels are exactly the ones taken:

- JPEG: every APPn segment goes except JFIF (APP0), an ICC profile (APP2 ``ICC_PROFILE``) and
  Adobe's colour transform (APP14); so do comments and anything after the image's end (a
  multi-picture file's second image carries its own EXIF). EXIF (APP1) goes whole, GPS with
  it; only the orientation comes back, in a fresh EXIF block holding nothing else, so the
  photo still shows upright.
- PNG: ``eXIf``, text chunks (``tEXt``/``zTXt``/``iTXt``) and ``tIME`` go; pixels and colour
  chunks stay.
- PDF: kept byte for byte (the department receives the scan as signed).

No FastAPI and no database here: plain functions, run in a worker thread by the service.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
ORIENTATION = 0x0112
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_DROPPED = frozenset({b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"})
# APP0 (JFIF), APP2 (only an ICC profile), APP14 (Adobe: how to read the colours) stay.
JPEG_KEPT_APP = frozenset({0xE0, 0xE2, 0xEE})
JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


class Refused(ValueError):
    """The content is not an accepted file (``code`` says why)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Prepared:
    """A checked file ready to store: its stripped bytes, type, size in pixels, thumbnail."""

    data: bytes
    content_type: str
    width: int | None
    height: int | None
    thumbnail: bytes | None


def sniff(head: bytes) -> str | None:
    """The accepted type the first bytes announce, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(PNG_SIGNATURE):
        return PNG
    if head.startswith(b"%PDF-"):
        return PDF
    return None


def strip_jpeg(data: bytes, orientation: int | None) -> bytes:
    """The JPEG without metadata segments (see the module's docstring)."""
    out = bytearray(b"\xff\xd8")
    i, n = 2, len(data)
    if orientation and orientation != 1:
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        block = b"Exif\x00\x00" + exif.tobytes()
        out += b"\xff\xe1" + struct.pack(">H", len(block) + 2) + block
    while i < n:
        if data[i] != 0xFF:
            raise Refused("file_damaged", "The JPEG's structure is damaged.")
        while i + 1 < n and data[i + 1] == 0xFF:  # fill bytes
            i += 1
        if i + 1 >= n:
            break
        marker = data[i + 1]
        if marker == 0xD9:  # end of image: anything after it is dropped
            out += b"\xff\xd9"
            return bytes(out)
        if marker in JPEG_STANDALONE:
            out += data[i : i + 2]
            i += 2
            continue
        if i + 4 > n:
            break
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        end = i + 2 + length
        segment = data[i:end]
        keep = True
        if 0xE0 <= marker <= 0xEF:
            keep = marker in JPEG_KEPT_APP and (marker != 0xE2 or segment[4:16] == b"ICC_PROFILE\x00")
        elif marker == 0xFE:  # comment
            keep = False
        if keep:
            out += segment
        i = end
        if marker == 0xDA:  # a scan: entropy-coded data up to the next real marker
            j = i
            while True:
                j = data.find(b"\xff", j)
                if j < 0 or j + 1 >= n:
                    raise Refused("file_damaged", "The JPEG ends in the middle of its picture.")
                nxt = data[j + 1]
                if nxt == 0x00 or 0xD0 <= nxt <= 0xD7 or nxt == 0xFF:
                    j += 2 if nxt != 0xFF else 1
                    continue
                break
            out += data[i:j]
            i = j
    raise Refused("file_damaged", "The JPEG has no end.")


def strip_png(data: bytes) -> bytes:
    """The PNG without its text, time and EXIF chunks, up to IEND."""
    out = bytearray(PNG_SIGNATURE)
    i, n = len(PNG_SIGNATURE), len(data)
    while i + 8 <= n:
        length = struct.unpack(">I", data[i : i + 4])[0]
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > n:
            break
        if kind not in PNG_DROPPED:
            out += data[i:end]
        if kind == b"IEND":
            return bytes(out)
        i = end
    raise Refused("file_damaged", "The PNG has no end.")


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            if probe.width * probe.height > max_pixels:
                raise Refused("image_too_large", "The picture has more pixels than allowed.")
            probe.verify()
            image = Image.open(io.BytesIO(data))
            image.load()
    except Refused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise Refused("file_damaged", "The picture cannot be read.") from exc
    except Image.DecompressionBombWarning as exc:
        raise Refused("image_too_large", "The picture has more pixels than allowed.") from exc
    return image


def thumbnail_of(image: Image.Image, edge: int) -> bytes:
    """A small JPEG of the picture, upright, no metadata at all."""
    thumb = ImageOps.exif_transpose(image)
    if thumb.mode not in ("RGB", "L"):
        background = Image.new("RGB", thumb.size, (255, 255, 255))
        rgba = thumb.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        thumb = background
    thumb.thumbnail((edge, edge))
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()


def prepare(data: bytes, *, max_pixels: int, thumbnail_edge: int) -> Prepared:
    """Check ``data`` by its content and strip it; :class:`Refused` when it is not acceptable."""
    kind = sniff(data[:8])
    if kind is None:
        raise Refused("file_type_refused", "Only JPEG, PNG and PDF files are accepted.")
    if kind == PDF:
        if b"%%EOF" not in data[-1024:]:
            raise Refused("file_damaged", "The PDF is incomplete.")
        return Prepared(data=data, content_type=PDF, width=None, height=None, thumbnail=None)
    image = _open(data, max_pixels)
    if image.format != ("JPEG" if kind == JPEG else "PNG"):
        raise Refused("file_type_refused", "Only JPEG, PNG and PDF files are accepted.")
    orientation = image.getexif().get(ORIENTATION)
    stripped = strip_jpeg(data, orientation) if kind == JPEG else strip_png(data)
    clean = _open(stripped, max_pixels)
    return Prepared(
        data=stripped,
        content_type=kind,
        width=clean.width,
        height=clean.height,
        thumbnail=thumbnail_of(clean, thumbnail_edge),
    )
