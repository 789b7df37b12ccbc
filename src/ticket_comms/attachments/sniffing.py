"""What a file is, decided from its bytes; and a file name that is safe to store and hand back."""

from __future__ import annotations

import re
import unicodedata

import filetype

# How much of the start of a file the type is decided from (filetype reads at most this much).
SNIFF_BYTES = 8192

# The raster formats that are decoded, re-encoded (dropping EXIF and anything appended) and served
# inline, mapped to Pillow's format name.
RASTER = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
# Decoded and converted to JPEG (PNG if transparent), since most browsers cannot show them.
CONVERTED = {"image/heic": "HEIF", "image/heif": "HEIF"}

_MARKUP_START = re.compile(rb"^(?:<\?xml|<!doctype|<!--|<[a-z])", re.IGNORECASE)
_HTML_HINT = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|script|iframe|object|embed|meta|a\s|img\s|div|form)", re.IGNORECASE
)


def detect(head: bytes) -> str:
    """The content type of a file from its first SNIFF_BYTES bytes; the name and declared type are ignored."""
    kind = filetype.guess(head)
    if kind is not None:
        # An animated PNG is a PNG to every browser; image/apng is not universally understood.
        return "image/png" if kind.mime == "image/apng" else kind.mime
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if _MARKUP_START.match(text) and re.search(rb"<svg[\s>]", text[:SNIFF_BYTES], re.IGNORECASE):
        return "image/svg+xml"
    if _HTML_HINT.search(text[:1024]):
        return "text/html"
    if text[:5].lower() == b"<?xml":
        return "application/xml"
    if _is_utf8_text(head):
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


# What a browser may be handed under its own type: these cannot run script in our origin. Everything
# else (HTML, SVG, XML and any type a browser might one day render actively) is served as
# application/octet-stream, so a download never executes whatever headers or names say.
PASSIVE_TYPES = frozenset({*RASTER, "text/plain", "application/pdf"})
PASSIVE_FAMILIES = ("audio/", "video/")


def served_type(content_type: str) -> str:
    """The Content-Type a stored file is served with."""
    base = content_type.split(";", 1)[0].strip().lower()
    if base in PASSIVE_TYPES or base.startswith(PASSIVE_FAMILIES):
        return content_type
    return "application/octet-stream"


def _is_utf8_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The sniffed head may end in the middle of a multi-byte character.
        return exc.start >= len(head) - 3 and exc.reason == "unexpected end of data"
    return True


MAX_NAME_BYTES = 200
_RESERVED = re.compile(r'[<>:"|?*\\/]')
_SPACES = re.compile(r"\s+")
ZWJ = "\u200d"


def with_extension(file_name: str, ext: str) -> str:
    """`file_name` with its extension replaced (or `ext` added), for a file converted to another format."""
    stem, dot, old = file_name.rpartition(".")
    if not dot or not stem or len(old) > 16:
        stem = file_name
    return clean_file_name(f"{stem}.{ext}")


def clean_file_name(raw: str | None) -> str:
    """The last path segment, without control or format characters, bounded, keeping its extension."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    # Bidi overrides (U+202E) and other invisible format characters disguise extensions.
    name = "".join(
        " " if c.isspace() else c
        for c in name
        if c == ZWJ or c.isspace() or unicodedata.category(c)[0] != "C"
    )
    name = _SPACES.sub(" ", _RESERVED.sub("_", name)).strip(" .")
    if not name:
        return "file"
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext.encode()) > 16:
        stem, ext = name, ""
    room = MAX_NAME_BYTES - (len(ext.encode()) + 1 if ext else 0)
    stem = stem.encode()[:room].decode("utf-8", "ignore").rstrip(" .")
    return f"{stem}.{ext}" if ext else stem
