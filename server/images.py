"""Re-encoding an uploaded photo within bounds: pixels, memory, and two decodes at a time.

An upload is untrusted, and its size on the wire says nothing about its size decoded: a
194 KB PNG can declare 7070×7070 pixels, 200 MB once decoded (Pillow keeps RGB and RGBA at
4 bytes a pixel). So `reencode` reads the header and prices the decode before any pixel is
decoded:

- a JPEG is decoded downscaled (`Image.draft`: libjpeg scales the DCT by 1/2, 1/4 or 1/8),
  so a 200-megapixel phone photo costs what ~12 Mpx do. A progressive or multi-scan JPEG
  also makes libjpeg keep every DCT coefficient of the full image (2 bytes a sample), which
  scaling cannot avoid: the price counts it (`_scans` reads the scans from the markers).
- a PNG cannot be decoded downscaled: its full size is its price.

Each decoded pixel costs `BYTES_PER_PIXEL`: Pillow's 4 and one working copy of 4 while it
is converted or scaled down (the order of the steps in `_fit` keeps it to one copy). A
photo priced above `DECODE_BUDGET`, or declaring more than `SOURCE_MAX_PIXELS`, is refused
`too_large` before decoding. The `Decoder` runs at most `DECODERS` re-encodings at once,
on threads of its own (the event loop keeps acking reports meanwhile), so a process holds
at most DECODERS × DECODE_BUDGET of pixels, whatever the number of uploads in flight.

`Image.MAX_IMAGE_PIXELS`, Pillow's own guard (it warns above it and refuses above twice
it), is set to `SOURCE_MAX_PIXELS`: this module is the only user of Pillow in the server.
"""

from __future__ import annotations

import asyncio
import io
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from PIL import Image, ImageOps, UnidentifiedImageError

from ingest.errors import ContractError, Invalid, TooLarge

MAX_SIDE = 2560
"""Longer side of a stored photo (bigger ones are scaled down)."""
SOURCE_MAX_PIXELS = 250_000_000
"""Pixels an upload may declare: a 200-megapixel phone photo (16320×12240) and some room."""
DECODE_BUDGET = 320 * 1024 * 1024
"""Bytes one decode may cost (`price`): an RGBA PNG of ~32 Mpx, a JPEG of any size up to
`SOURCE_MAX_PIXELS` (decoded at 1/2 to 1/8), a progressive JPEG of ~50 Mpx."""
FIT_BYTES = MAX_SIDE * MAX_SIDE * 4 * 3
"""The scaled-down copies `_fit` makes (at most three of `MAX_SIDE`² alive at once)."""
COEFFICIENT_BYTES = 2
"""A DCT coefficient in libjpeg's whole-image buffer (one per sample)."""
DECODERS = 2
"""Re-encodings at once per process."""
OPENERS = ("JPEG", "PNG")
"""The plugins Pillow may try on an upload."""
FORMATS = ("JPEG", "MPO", "PNG")
"""What they may find (MPO: a phone's JPEG with more images after the first one)."""
QUALITY = 85

Image.MAX_IMAGE_PIXELS = SOURCE_MAX_PIXELS

_ENTROPY_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
"""The next marker after a scan's entropy-coded data (not a stuffed 0xFF00, not a restart)."""


@dataclass(frozen=True)
class Reencoded:
    jpeg: bytes
    width: int
    height: int


def _not_an_image() -> Invalid:
    return Invalid.of("photo")


def _too_large(img: Image.Image, why_en: str) -> TooLarge:
    size = f"{img.width}×{img.height} {img.format}"
    return TooLarge.of("photo", "decode", size=size, why=why_en)


def _scans(raw: bytes) -> list[int] | None:
    """The number of components in each scan of a JPEG's first image, read from its
    markers; None when the markers cannot be followed (then the price assumes the worst)."""
    scans: list[int] = []
    pos = 2
    while pos + 4 <= len(raw):
        if raw[pos] != 0xFF:
            return None
        marker = raw[pos + 1]
        if marker == 0xFF:
            pos += 1
        elif marker == 0xD9:
            return scans
        elif 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
        elif marker == 0xDA:
            if pos + 4 >= len(raw):
                return None
            scans.append(raw[pos + 4])
            found = _ENTROPY_END.search(raw, pos + 2 + int.from_bytes(raw[pos + 2 : pos + 4]))
            if found is None:
                return scans
            pos = found.start()
        else:
            pos += 2 + int.from_bytes(raw[pos + 2 : pos + 4])
    return scans


def _coefficients(img: Image.Image, size: tuple[int, int], raw: bytes) -> int:
    """Bytes of libjpeg's whole-image coefficient buffer for a JPEG of `size` (before any
    scaling): 0 for a baseline JPEG in one interleaved scan, which libjpeg decodes a row of
    blocks at a time."""
    layers = getattr(img, "layer", [])
    scans = _scans(raw)
    one_scan = scans is not None and len(scans) == 1 and scans[0] >= len(layers)
    if one_scan and not img.info.get("progressive"):
        return 0
    if not layers:
        return size[0] * size[1] * 4 * COEFFICIENT_BYTES
    h_max = max(max(h for _, h, _, _ in layers), 1)
    v_max = max(max(v for _, _, v, _ in layers), 1)
    blocks = sum(
        -(-size[0] * h // (8 * h_max)) * -(-size[1] * v // (8 * v_max)) for _, h, v, _ in layers
    )
    return blocks * 64 * COEFFICIENT_BYTES


def _has_alpha(img: Image.Image) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info


def _bytes_per_pixel(img: Image.Image) -> float:
    """A decoded pixel's bytes while `_fit` works on the full-size image: Pillow stores
    1, 2 or 4 bytes (RGB as RGBX). RGB or L resize from there (with at most a quarter-size
    `reduce` copy); another mode is first converted to RGB (one copy of 4); with alpha,
    to RGBA, which resizes through a premultiplied copy (RGBA and RGBa: 8)."""
    stored = 1 if img.mode in ("1", "L", "P") else 2 if img.mode.startswith("I;16") else 4
    if _has_alpha(img):
        return max(stored + 4, 8)
    if img.mode in ("RGB", "L"):
        return stored * 1.25
    return stored + 4


def price(img: Image.Image, full: tuple[int, int], raw: bytes) -> int:
    """What decoding `img` will cost in bytes: its pixels as they will be decoded (after
    `draft`), the scaled-down copies and, for a JPEG that needs it, the coefficient
    buffer of its `full` size."""
    cost = int(img.width * img.height * _bytes_per_pixel(img)) + FIT_BYTES
    if img.format != "PNG":
        cost += _coefficients(img, full, raw)
    return cost


def _fit(img: Image.Image) -> Image.Image:
    """The decoded `img` scaled to at most `MAX_SIDE`, upright, without alpha, in RGB. The
    full-size image is dropped as soon as a smaller one exists, and every full-size step
    makes at most one copy: conversion to RGB(A) first when the mode cannot be resized
    well, then `thumbnail` (RGBA resizes through a premultiplied copy), then the rest on
    the small image."""
    alpha = _has_alpha(img)
    if img.mode not in (("RGBA", "LA") if alpha else ("RGB", "L")):
        converted = img.convert("RGBA" if alpha else "RGB")
        img.close()
        img = converted
    img.thumbnail((MAX_SIDE, MAX_SIDE))
    ImageOps.exif_transpose(img, in_place=True)
    clean = Image.new("RGB", img.size, (255, 255, 255))
    if alpha:
        rgba = img if img.mode == "RGBA" else img.convert("RGBA")
        clean.paste(rgba, mask=rgba)
    else:
        clean.paste(img)
    return clean


def reencode(raw: bytes) -> Reencoded:
    """JPEG or PNG bytes → a fresh JPEG without metadata (EXIF, GPS, ICC, comments), turned
    upright by its EXIF orientation and at most `MAX_SIDE` pixels on its longer side;
    `Invalid` if it is not a JPEG or PNG we can read, `TooLarge` if decoding it would cost
    more than `DECODE_BUDGET` or it declares more than `SOURCE_MAX_PIXELS`. Blocking: run
    it through `Decoder`."""
    try:
        img = Image.open(io.BytesIO(raw), formats=OPENERS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge.of("photo", "pixels") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise _not_an_image() from None
    try:
        if img.format not in FORMATS:
            raise _not_an_image()
        if img.width * img.height > SOURCE_MAX_PIXELS:
            raise _too_large(img, f"at most {SOURCE_MAX_PIXELS // 1_000_000} megapixels")
        full = img.size
        if img.format != "PNG":
            scale = max(full[0] / MAX_SIDE, full[1] / MAX_SIDE, 1)
            img.draft("RGB", (max(1, int(full[0] / scale)), max(1, int(full[1] / scale))))
        if price(img, full, raw) > DECODE_BUDGET:
            raise _too_large(img, f"over {DECODE_BUDGET // 2**20} MiB decoded")
        img.load()
        clean = _fit(img)
        out = io.BytesIO()
        clean.save(out, "JPEG", quality=QUALITY, optimize=True)
        return Reencoded(out.getvalue(), clean.width, clean.height)
    except ContractError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        raise _not_an_image() from None
    finally:
        img.close()


class Decoder:
    """Runs `reencode` on `workers` threads of its own: at most that many decodes at once
    in this process, the others wait their turn without holding any pixels. Its own
    threads (not the event loop's shared pool) also keep the freed memory of one decode for
    the next on the same thread rather than spread over many malloc arenas."""

    def __init__(self, workers: int = DECODERS) -> None:
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="photo-decode")

    async def reencode(self, raw: bytes) -> Reencoded:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, partial(reencode, raw))


DECODER = Decoder()
"""This process's decoder."""
