"""Upload, download, limits and cleanup, on local disk and on S3 (moto's server)."""

from __future__ import annotations

import io
import os

import httpx
from PIL import Image
from tests.attachments.helpers import jpeg_with_gps, path_of, send, upload, uploaded
from tests.chat.helpers import register, ticket_with


async def test_image_upload_strips_exif_and_makes_a_thumbnail(backend):
    await register(backend.app, "bob")
    alice, bob, anonymous = backend.client("alice"), backend.client("bob"), backend.client()
    tid = (await ticket_with(alice, "bob"))["id"]
    original = jpeg_with_gps((1200, 800), orientation=6)
    assert b"SecretCam" in original

    att = await uploaded(alice, tid, "holiday.jpg", original, "image/jpeg")
    assert att["contentType"] == "image/jpeg"
    assert att["fileName"] == "holiday.jpg"
    # Orientation 6 means "rotate 90°": the served image is upright, so portrait.
    assert (att["width"], att["height"]) == (800, 1200)
    assert att["url"] and att["thumbnailUrl"]

    r = await alice.get(f"/api/v1/attachments/{att['id']}")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["content-disposition"].startswith("inline;")
    assert r.headers["etag"]
    assert int(r.headers["content-length"]) == att["size"] == len(r.content)
    served = r.content
    image = Image.open(io.BytesIO(served))
    assert image.size == (800, 1200)
    assert not image.getexif()
    assert "exif" not in image.info
    assert b"SecretCam" not in r.content and b"GPS" not in r.content
    # The corner marker moved where a 90° clockwise turn puts it: the top right.
    assert image.getpixel((790, 10))[0] > 200 and image.getpixel((10, 10))[0] < 100

    r = await anonymous.get(path_of(att["thumbnailUrl"]))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/jpeg"
    assert r.headers["content-disposition"].startswith("inline;")
    thumb = Image.open(io.BytesIO(r.content))
    assert max(thumb.size) == 320 and thumb.size == (213, 320)
    assert not thumb.getexif()

    # Before it is sent, the upload is its uploader's alone; once sent, every participant sees it.
    assert (await bob.get(f"/api/v1/attachments/{att['id']}")).status_code == 404
    r = await send(alice, tid, att["id"], "Image")
    assert r.status_code == 201, r.text
    message = r.json()
    assert message["attachment"]["id"] == att["id"]
    assert message["attachment"]["width"] == 800
    assert message["content"] == ""
    r = await bob.get(f"/api/v1/attachments/{att['id']}")
    assert r.status_code == 200 and r.content == served
    r = await anonymous.get(path_of(message["attachment"]["url"]))
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/jpeg"


async def test_file_upload_download_and_ranges(backend):
    alice = backend.client("alice")
    tid = (await ticket_with(alice))["id"]
    data = os.urandom(9 * 1024 * 1024 + 123)  # more than one S3 multipart part
    att = await uploaded(alice, tid, "dump.bin", data)
    assert att["contentType"] == "application/octet-stream"
    assert att["size"] == len(data)
    assert att["thumbnailUrl"] is None and att["width"] is None
    url = f"/api/v1/attachments/{att['id']}"

    r = await alice.get(url)
    assert r.status_code == 200
    assert r.content == data
    assert r.headers["content-disposition"] == "attachment; filename=\"dump.bin\"; filename*=UTF-8''dump.bin"
    assert r.headers["accept-ranges"] == "bytes"
    etag = r.headers["etag"]

    r = await alice.get(url, headers={"Range": "bytes=100-199"})
    assert r.status_code == 206
    assert r.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert r.content == data[100:200]
    r = await alice.get(url, headers={"Range": "bytes=-10"})
    assert r.status_code == 206 and r.content == data[-10:]
    r = await alice.get(url, headers={"Range": f"bytes={len(data) - 5}-"})
    assert r.status_code == 206 and r.content == data[-5:]
    r = await alice.get(
        url, headers={"Range": f"bytes=8388600-{len(data) + 100}"}
    )  # across S3 parts, past the end
    assert r.status_code == 206 and r.content == data[8388600:]
    r = await alice.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{len(data)}"
    assert r.json()["error"]["code"] == "range_not_satisfiable"
    r = await alice.get(url, headers={"Range": "bytes=0-1,5-6"})  # multiple ranges: the whole file
    assert r.status_code == 200 and len(r.content) == len(data)
    r = await alice.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert r.status_code == 200 and len(r.content) == len(data)
    r = await alice.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert r.status_code == 206 and r.content == data[:10]
    r = await alice.get(url, headers={"If-None-Match": etag})
    assert r.status_code == 304 and r.content == b""
    r = await alice.head(url)
    assert r.status_code == 200 and r.content == b""
    assert r.headers["content-length"] == str(len(data)) and r.headers["etag"] == etag


async def test_over_the_limit_is_refused_and_nothing_is_stored(backend):
    alice = backend.client("alice")
    tid = (await ticket_with(alice))["id"]
    before = backend.list_keys()
    too_big = b"\0" * (backend.limit + 1)

    # With a Content-Length the request is refused before its body is read.
    r = await upload(alice, tid, "big.bin", too_big)
    assert r.status_code == 413, r.text
    assert r.json()["error"]["code"] == "too_large"

    # Streamed without a length: the limit is enforced as the bytes arrive.
    boundary = "limit-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def body():
        yield head
        for i in range(0, len(too_big), 1024 * 1024):
            yield too_big[i : i + 1024 * 1024]
        yield tail

    try:
        r = await alice.post(
            f"/api/v1/tickets/{tid}/attachments",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert r.status_code == 413, r.text
    except (httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError):
        pass  # the server may close the connection before the client has finished sending
    assert backend.list_keys() == before
    assert backend.pending_uploads() == 0
    r = await alice.get(f"/api/v1/tickets/{tid}/messages")
    assert r.status_code == 200
    async with backend.app.ctx.db.connection() as conn:
        cur = await conn.execute("SELECT count(*) AS n FROM attachments")
        assert (await cur.fetchone())["n"] == 0

    # Exactly at the limit is fine.
    att = await uploaded(alice, tid, "fits.bin", too_big[:-1])
    assert att["size"] == backend.limit


async def test_deleting_the_message_removes_the_files(backend):
    alice = backend.client("alice")
    tid = (await ticket_with(alice))["id"]
    att = await uploaded(alice, tid, "photo.jpg", jpeg_with_gps((400, 300)))
    r = await send(alice, tid, att["id"], "Image", "look")
    assert r.status_code == 201, r.text
    message = r.json()
    storage = backend.app.ctx.storage
    async with backend.app.ctx.db.connection() as conn:
        cur = await conn.execute(
            "SELECT storage_key, thumbnail_key FROM attachments WHERE id = %s", (att["id"],)
        )
        keys = await cur.fetchone()
    assert await storage.exists(keys["storage_key"]) and await storage.exists(keys["thumbnail_key"])

    r = await alice.delete(f"/api/v1/tickets/{tid}/messages/{message['id']}")
    assert r.status_code == 204, r.text
    assert not await storage.exists(keys["storage_key"])
    assert not await storage.exists(keys["thumbnail_key"])
    assert (await alice.get(f"/api/v1/attachments/{att['id']}")).status_code == 404
    assert (await backend.client().get(path_of(att["url"]))).status_code == 404
    r = await alice.get(f"/api/v1/tickets/{tid}/messages")
    assert r.json()["items"][0]["attachment"] is None
