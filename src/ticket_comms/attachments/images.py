"""Raster images: dimensions, a thumbnail, and a re-encoded copy that is what gets stored and served.

Re-encoding from decoded pixels drops EXIF (GPS!), XMP, comments and anything appended to the
file (polyglots), and applies the EXIF orientation first so the picture still shows upright.
Decoding is bounded: Pillow refuses images over MAX_PIXELS before allocating them, animations are
refused over a pixels x frames budget before any frame is decoded, and the whole job runs in a worker
process whose memory and CPU are capped (attachments/imageworkers.py).
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from typing import IO, Any

from PIL import Image, ImageOps, PngImagePlugin

from ticket_comms.errors import ValidationFailed

THUMBNAIL_SIDE = 320
# About 8000 x 6000: larger than any phone camera, far below what would exhaust memory.
MAX_PIXELS = 50_000_000
# Animated images decode (and re-encode) every frame: bound the total work, pixels x frames. 100 M is
# a 1000 x 1000 animation of 100 frames, far more than any reaction GIF.
MAX_ANIMATION_PIXELS = 100_000_000
MAX_FRAMES = 1000
JPEG_QUALITY = 90


class InvalidImage(ValidationFailed):
    """The file looks like an image but cannot be decoded."""

    code = "invalid_image"


class ImageTooLarge(ValidationFailed):
    """The image has too many pixels."""

    code = "image_too_large"


@dataclass
class ProcessedImage:
    data: bytes
    width: int
    height: int
    thumbnail: bytes
    thumbnail_ext: str  # "jpg" or "png"
    content_type: str  # of `data`: the source's, or what a HEIF photo was converted to


THUMBNAIL_TYPES = {"jpg": "image/jpeg", "png": "image/png"}
FORMAT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
# Browsers other than Safari cannot show HEIF (iPhone photos): those are converted, not re-encoded.
CONVERTED_FORMATS = frozenset({"HEIF"})
_heif_registered = False


def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        # pi-heif is libheif's decoder only (no encoder, no GPL codec); it adds the "HEIF" format to Pillow.
        import pi_heif

        pi_heif.register_heif_opener()
        _heif_registered = True


def process(source: IO[bytes], fmt: str) -> ProcessedImage:
    """Decode `source` as `fmt` (a Pillow format name), re-encode it and make its thumbnail. Blocking."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    # Text chunks are dropped on re-encoding anyway; do not let them take memory on the way.
    PngImagePlugin.MAX_TEXT_MEMORY = 1024 * 1024
    if fmt in CONVERTED_FORMATS:
        _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=[fmt]) as im:
                return _process(im, fmt)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageTooLarge(f"The image is larger than {MAX_PIXELS:,} pixels.") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        raise InvalidImage() from exc


def _process(im: Image.Image, fmt: str) -> ProcessedImage:
    if im.width * im.height > MAX_PIXELS:
        raise ImageTooLarge(f"The image is larger than {MAX_PIXELS:,} pixels.")
    frames = getattr(im, "n_frames", 1)
    if frames > MAX_FRAMES or frames * im.width * im.height > MAX_ANIMATION_PIXELS:
        raise ImageTooLarge("The animation has too many frames for its size.")
    if fmt in CONVERTED_FORMATS:
        # A HEIF file may hold several images (bursts, depth maps): the primary one is the photo.
        frames = 1
        fmt = "PNG" if _has_alpha(im) else "JPEG"
    out = io.BytesIO()
    if frames > 1:
        # Animations keep their frames and timing; EXIF orientation is a still-photo concern.
        im.seek(0)
        _save(im, out, fmt, save_all=True)
        first = im.copy()
        width, height = im.size
    else:
        im.load()
        first = ImageOps.exif_transpose(im)
        first.info = _kept_info(im.info)
        _save(first, out, fmt)
        width, height = first.size
    thumbnail, ext = _thumbnail(first)
    return ProcessedImage(out.getvalue(), width, height, thumbnail, ext, FORMAT_TYPES[fmt])


def _kept_info(info: dict[Any, Any]) -> dict[Any, Any]:
    """What a re-encoded image keeps: colour and transparency, nothing descriptive."""
    return {
        k: info[k] for k in ("icc_profile", "transparency", "duration", "loop", "background") if k in info
    }


def _save(im: Image.Image, out: io.BytesIO, fmt: str, **params: Any) -> None:
    params.update(exif=b"", comment=b"", xmp=b"")
    icc = im.info.get("icc_profile")
    if icc:
        params["icc_profile"] = icc
    if fmt == "JPEG":
        params["quality"] = JPEG_QUALITY
        if im.mode not in ("L", "RGB", "CMYK"):
            im = im.convert("RGB")
    elif fmt == "WEBP":
        params["quality"] = JPEG_QUALITY
    im.save(out, fmt, **params)


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info


def _thumbnail(im: Image.Image) -> tuple[bytes, str]:
    alpha = _has_alpha(im)
    thumb = im.convert("RGBA" if alpha else "RGB")
    thumb.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if alpha:
        thumb.save(out, "PNG", optimize=True)
        return out.getvalue(), "png"
    thumb.save(out, "JPEG", quality=85, optimize=True)
    return out.getvalue(), "jpg"
