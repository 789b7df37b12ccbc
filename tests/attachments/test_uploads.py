"""What an upload is decided from its bytes; hostile files and names; who may upload, attach and download."""

from __future__ import annotations

import asyncio
import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image
from tests.attachments.helpers import (
    PDF,
    gif_animation,
    jpeg_with_gps,
    path_of,
    png,
    png_bomb,
    raw_upload,
    send,
    upload,
    uploaded,
)
from tests.chat.helpers import register, ticket_with

from ticket_comms.attachments import signing

HTML = b"<!DOCTYPE html><html><body><script>fetch('/api/v1/me').then(r => r.text()).then(alert)</script></body></html>"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script><rect width='10' height='10'/></svg>"
)


def _uploads_dir(app):
    return app.settings.data_dir / "uploads"


async def test_html_named_like_a_photo_is_never_an_image(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    att = await uploaded(alice, tid, "photo.png", HTML, "image/png")
    assert att["contentType"] == "text/html"
    assert att["width"] is None and att["thumbnailUrl"] is None

    r = await alice.get(f"/api/v1/attachments/{att['id']}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"  # active content is never served as itself
    assert r.headers["content-disposition"].startswith("attachment;")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]
    assert r.content == HTML
    assert (await alice.get(f"/api/v1/attachments/{att['id']}/thumbnail")).status_code == 404

    r = await send(alice, tid, att["id"], "Image")
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_an_image"
    r = await send(alice, tid, att["id"], "File")
    assert r.status_code == 201, r.text


async def test_svg_with_script_is_only_ever_downloaded(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    att = await uploaded(alice, tid, "logo.svg", SVG, "image/svg+xml")
    assert att["contentType"] == "image/svg+xml"
    assert att["thumbnailUrl"] is None
    r = await app.client().get(path_of(att["url"]))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in r.headers["content-security-policy"]
    # It can be shared as a File, never as an inline Image.
    r = await alice.post(f"/api/v1/tickets/{tid}/messages", json={"type": "Image", "attachmentId": att["id"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_an_image"
    r = await alice.post(f"/api/v1/tickets/{tid}/messages", json={"type": "File", "attachmentId": att["id"]})
    assert r.status_code == 201


@pytest.mark.parametrize("kind", ["jpeg-comment", "gif-appended", "png-appended"])
async def test_polyglot_images_lose_their_payload(app, as_user, kind):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    payload = b"<html><script>alert(1)</script></html>"
    if kind == "jpeg-comment":
        data, mime = jpeg_with_gps((300, 200), comment=payload), "image/jpeg"
    elif kind == "gif-appended":
        data, mime = gif_animation() + payload, "image/gif"
    else:
        data, mime = png() + payload, "image/png"
    assert payload in data
    att = await uploaded(alice, tid, "x.html", data, "text/html")
    assert att["contentType"] == mime
    r = await alice.get(f"/api/v1/attachments/{att['id']}")
    assert r.status_code == 200
    assert r.headers["content-type"] == mime
    assert b"<script" not in r.content and b"<html" not in r.content
    image = Image.open(io.BytesIO(r.content))
    image.load()
    if kind == "gif-appended":
        assert image.n_frames == 3


async def test_png_with_alpha_keeps_it_in_the_thumbnail(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    att = await uploaded(alice, tid, "icon.png", png((1000, 500)))
    assert (att["contentType"], att["width"], att["height"]) == ("image/png", 1000, 500)
    r = await alice.get(path_of(att["thumbnailUrl"]))
    assert r.headers["content-type"] == "image/png"
    thumb = Image.open(io.BytesIO(r.content))
    assert thumb.size == (320, 160) and thumb.mode == "RGBA"


async def test_webp_and_unknown_binary(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    out = io.BytesIO()
    Image.new("RGB", (50, 40), (1, 2, 3)).save(out, "WEBP")
    att = await uploaded(alice, tid, "a.webp", out.getvalue())
    assert (att["contentType"], att["width"]) == ("image/webp", 50)
    att = await uploaded(alice, tid, "notes.txt", "héllo wörld\n".encode() * 10)
    assert att["contentType"] == "text/plain; charset=utf-8"
    att = await uploaded(alice, tid, "report.pdf", PDF)
    assert att["contentType"] == "application/pdf"
    r = await alice.get(f"/api/v1/attachments/{att['id']}")
    assert r.headers["content-disposition"].startswith("attachment;")


async def test_decompression_bombs_and_broken_images_are_refused(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    before = set(_uploads_dir(app).rglob("*"))
    bomb = png_bomb()
    assert len(bomb) < 2000
    r = await upload(alice, tid, "bomb.png", bomb)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "image_too_large"
    r = await upload(
        alice, tid, "big.png", png_bomb(8000)
    )  # 64 Mpx: over the limit, under Pillow's own error
    assert r.status_code == 422 and r.json()["error"]["code"] == "image_too_large"
    r = await upload(alice, tid, "broken.jpg", jpeg_with_gps((200, 200))[:300])
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_image"
    assert set(_uploads_dir(app).rglob("*")) == before


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/abs/path/report.pdf", "report.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("we<ird>:na|me?*.txt", "we_ird__na_me__.txt"),
        ("  ..hidden.txt.  ", "hidden.txt"),
        ("..", "file"),
        ("", "file"),
        ("família 👨‍👩‍👧.pdf", "família 👨‍👩‍👧.pdf"),
    ],
)
async def test_file_names_are_sanitised(app, as_user, raw, expected):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    att = await uploaded(alice, tid, raw, b"plain text\n")
    assert att["fileName"] == expected
    r = await alice.get(f"/api/v1/attachments/{att['id']}")
    disposition = r.headers["content-disposition"]
    assert "/" not in disposition.split("filename*=")[0]
    # Storage keys never contain user text.
    stored = [p.name for p in _uploads_dir(app).rglob("*") if p.is_file()]
    assert not any("passwd" in n or "win.ini" in n or "report" in n for n in stored)


async def test_control_characters_are_dropped_from_raw_names(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    r = await raw_upload(alice, tid, "tab\there\x1b[31mred\x7f\u202etxt.exe".encode(), b"x\n")
    assert r.status_code == 201, r.text
    assert r.json()["fileName"] == "tab here[31mredtxt.exe"
    r = await raw_upload(alice, tid, b"\xff\xfebad-utf8.txt", b"x\n")
    assert r.status_code == 201, r.text
    assert r.json()["fileName"] == "\ufffd\ufffdbad-utf8.txt"


async def test_long_names_are_bounded_and_keep_their_extension(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    att = await uploaded(alice, tid, "é" * 400 + ".docx", b"text\n")
    assert att["fileName"].endswith(".docx")
    assert len(att["fileName"].encode()) <= 200


async def test_who_may_upload_attach_and_download(app, as_user):
    await register(app, "bob", "carol")
    alice, bob, carol = as_user("alice"), as_user("bob"), as_user("carol")
    admin, nobody = as_user("root", role="admin"), app.client()
    tid = (await ticket_with(alice, "bob"))["id"]
    other = (await ticket_with(carol))["id"]

    # Only participants (and admins) upload; others are told the ticket does not exist.
    r = await upload(carol, tid, "x.txt", b"hi\n")
    assert r.status_code == 404 and r.json()["error"]["code"] == "ticket_not_found"
    r = await upload(nobody, tid, "x.txt", b"hi\n")
    assert r.status_code == 401
    assert (await upload(admin, tid, "x.txt", b"hi\n")).status_code == 201

    att = await uploaded(alice, tid, "plan.pdf", PDF)
    url = f"/api/v1/attachments/{att['id']}"
    # Someone else's upload, or one from another ticket, cannot be attached.
    r = await send(bob, tid, att["id"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_attachment"
    r = await send(carol, other, att["id"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_attachment"
    alices_other = (await ticket_with(alice))["id"]
    r = await send(alice, alices_other, att["id"])  # her own upload, but to another ticket
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_attachment"
    carols = await uploaded(carol, other, "c.txt", b"carol\n")
    r = await send(carol, tid, carols["id"])
    assert r.status_code == 404  # carol is not in alice's ticket at all
    assert (await send(alice, tid, att["id"])).status_code == 201
    r = await send(alice, tid, att["id"])
    assert r.status_code == 422 and r.json()["error"]["code"] == "attachment_used"

    assert (await bob.get(url)).status_code == 200
    assert (await admin.get(url)).status_code == 200
    r = await carol.get(url)
    assert r.status_code == 404 and r.json()["error"]["code"] == "attachment_not_found"
    assert (await nobody.get(url)).status_code == 401
    assert (await alice.get("/api/v1/attachments/not-a-uuid")).status_code == 422
    assert (await alice.get("/api/v1/attachments/00000000-0000-0000-0000-000000000000")).status_code == 404

    # Signed URLs: valid without a token; tampered, swapped or expired ones are refused.
    signed = path_of(att["url"])
    assert (await nobody.get(signed)).status_code == 200
    sig = signed.rsplit("=", 1)[1]
    tampered = signed[: -len(sig)] + ("0" if sig[0] != "0" else "1") + sig[1:]
    for bad in (
        tampered,
        signed.replace("expires=", "expires=1"),
        signed.replace(att["id"], carols["id"]),
        signed.replace(f"/{att['id']}?", f"/{att['id']}/thumbnail?"),
        f"{url}?expires=abc&signature={sig}",
        f"{url}?signature={sig}",
    ):
        r = await nobody.get(bad)
        assert r.status_code == 403, bad
        assert r.json()["error"]["code"] == "bad_signature"
    expired = path_of(
        signing.signed_url(app.settings, att["id"], user_id="alice", now=time.time() - 8 * 24 * 3600)
    )
    r = await nobody.get(expired)
    assert r.status_code == 403 and r.json()["error"]["code"] == "link_expired"
    # A bad signature is refused even with a good token: the link is what is wrong.
    assert (await alice.get(tampered)).status_code == 403


async def test_malformed_uploads_get_clear_errors(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    url = f"/api/v1/tickets/{tid}/attachments"
    r = await alice.post(url, json={"file": "x"})
    assert r.status_code == 415, r.text
    r = await alice.post(url, data={"other": "x"}, files={"notfile": ("a.txt", b"a")})
    assert r.status_code == 422 and r.json()["error"]["code"] == "file_required"
    r = await alice.post(url, content=b"garbage", headers={"Content-Type": "multipart/form-data"})
    assert r.status_code == 422
    r = await alice.post(
        url,
        content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc',
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 422, r.text  # the body ends inside the file
    r = await alice.post(
        "/api/v1/tickets/00000000-0000-0000-0000-000000000000/attachments", files={"file": ("a.txt", b"a")}
    )
    assert r.status_code == 404
    # A file field preceded by ordinary fields and followed by more is still found.
    r = await alice.post(url, data={"caption": "hello"}, files={"file": ("a.txt", b"abc\n")})
    assert r.status_code == 201 and r.json()["size"] == 4
    # An empty file is a file.
    r = await alice.post(url, files={"file": ("empty.txt", b"")})
    assert r.status_code == 201, r.text
    assert r.json()["size"] == 0
    r = await alice.get(f"/api/v1/attachments/{r.json()['id']}")
    assert r.status_code == 200 and r.content == b""


async def test_an_interrupted_upload_leaves_nothing_behind(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    before = {p for p in _uploads_dir(app).rglob("*") if p.is_file()}
    boundary = "cut-off"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    _reader, writer = await asyncio.open_connection("127.0.0.1", app.settings.port)
    writer.write(
        (
            f"POST /api/v1/tickets/{tid}/attachments HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: {alice.headers['authorization']}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {5 * 1024 * 1024}\r\n\r\n"
        ).encode()
        + head
        + os.urandom(512 * 1024)
    )
    await writer.drain()
    # Wait until the server is writing the file, then hang up.
    for _ in range(100):
        if {p for p in _uploads_dir(app).rglob("*") if p.is_file()} - before:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the upload never reached storage")
    writer.close()
    for _ in range(100):
        if {p for p in _uploads_dir(app).rglob("*") if p.is_file()} == before:
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("a partial upload was left behind")
    assert (await app.ctx.db.fetch_one("SELECT count(*) AS n FROM attachments"))["n"] == 0


async def test_heic_photos_are_converted_to_jpeg_without_exif(app, as_user):
    # Made with pillow-heif's encoder (not a dependency: the service only decodes, with pi-heif):
    # 640 x 480, a yellow top-left corner, EXIF with a camera model and GPS coordinates.
    heic = (Path(__file__).parent / "data" / "photo-gps.heic").read_bytes()
    assert b"SecretCam" in heic
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    att = await uploaded(alice, tid, "IMG_0001.HEIC", heic, "image/heic")
    assert att["contentType"] == "image/jpeg"
    assert att["fileName"] == "IMG_0001.jpg"
    assert (att["width"], att["height"]) == (640, 480)
    r = await alice.get(f"/api/v1/attachments/{att['id']}")
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["content-disposition"].startswith("inline;")
    assert b"SecretCam" not in r.content
    image = Image.open(io.BytesIO(r.content))
    assert image.format == "JPEG" and not image.getexif()
    assert image.getpixel((10, 10))[0] > 200
    r = await alice.get(path_of(att["thumbnailUrl"]))
    assert Image.open(io.BytesIO(r.content)).size == (320, 240)
    assert (await send(alice, tid, att["id"], "Image")).status_code == 201
