from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import httpx
from PIL import Image

GPS_LATITUDE = (52.0, 22.0, 31.5)


def jpeg_with_gps(size: tuple[int, int] = (1200, 800), orientation: int = 1, comment: bytes = b"") -> bytes:
    """A JPEG carrying GPS coordinates, a camera model and an orientation in its EXIF."""
    im = Image.new("RGB", size, (30, 120, 200))
    im.paste((250, 200, 0), (0, 0, size[0] // 4, size[1] // 4))  # a corner marker, to check orientation
    exif = Image.Exif()
    exif[0x0110] = "SecretCam 3000"  # Model
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: GPS_LATITUDE, 3: "E", 4: (4.0, 53.0, 2.0)}
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif.tobytes(), comment=comment, quality=90)
    return out.getvalue()


def png(size: tuple[int, int] = (64, 48), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 200, 30, 128) if mode == "RGBA" else (10, 200, 30)).save(out, "PNG")
    return out.getvalue()


def gif_animation(frames: int = 3) -> bytes:
    images = [Image.new("RGB", (40, 30), (i * 80, 0, 0)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def png_bomb(side: int = 100_000) -> bytes:
    """A tiny PNG that declares side x side pixels: decoding it would need gigabytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def upload(
    client: httpx.AsyncClient,
    ticket_id: str,
    name: str,
    data: bytes,
    declared: str = "application/octet-stream",
) -> httpx.Response:
    return await client.post(
        f"/api/v1/tickets/{ticket_id}/attachments", files={"file": (name, data, declared)}
    )


async def uploaded(
    client: httpx.AsyncClient,
    ticket_id: str,
    name: str,
    data: bytes,
    declared: str = "application/octet-stream",
) -> dict[str, Any]:
    r = await upload(client, ticket_id, name, data, declared)
    assert r.status_code == 201, r.text
    return r.json()


async def send(
    client: httpx.AsyncClient, ticket_id: str, attachment_id: str, type_: str = "File", content: str = ""
) -> httpx.Response:
    return await client.post(
        f"/api/v1/tickets/{ticket_id}/messages",
        json={"type": type_, "attachmentId": attachment_id, "content": content},
    )


async def raw_upload(
    client: httpx.AsyncClient, ticket_id: str, file_name: bytes, data: bytes
) -> httpx.Response:
    """A multipart body written by hand, with the file name's bytes exactly as given (httpx would escape them)."""
    boundary = b"raw-boundary-7d1c"
    body = (
        b"--"
        + boundary
        + b'\r\nContent-Disposition: form-data; name="file"; filename="'
        + file_name
        + b'"\r\nContent-Type: text/plain\r\n\r\n'
        + data
        + b"\r\n--"
        + boundary
        + b"--\r\n"
    )
    return await client.post(
        f"/api/v1/tickets/{ticket_id}/attachments",
        content=body,
        headers={"Content-Type": "multipart/form-data; boundary=" + boundary.decode()},
    )


def path_of(url: str) -> str:
    """A signed URL minus scheme and host, so any client can follow it."""
    return "/" + url.split("/", 3)[3]
