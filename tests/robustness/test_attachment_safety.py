"""Active content is served as bytes, and image decoding is bounded and capped in worker processes."""

from __future__ import annotations

import asyncio
import io
import os
import time
from collections.abc import AsyncIterator

import pytest
from PIL import Image

from tests.attachments.helpers import path_of, png, png_bomb, uploaded
from tests.chat.helpers import ticket_with
from tests.conftest import RunningApp, make_settings, start_app

ACTIVE = [
    ("page.html", b"<!doctype html><html><body><script>alert(1)</script></body></html>", "text/html"),
    ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"),
    (
        "feed.xml",
        b'<?xml version="1.0"?><x:script xmlns:x="http://www.w3.org/1999/xhtml">alert(1)</x:script>',
        None,
    ),
    (
        "page.xhtml",
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>',
        None,
    ),
]


@pytest.mark.parametrize(("name", "data", "sniffed"), ACTIVE)
async def test_active_content_is_served_as_octet_stream_whatever_the_headers(
    app, as_user, name, data, sniffed
):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    att = await uploaded(alice, tid, name, data, "text/html")
    if sniffed:
        assert att["contentType"] == sniffed
    for headers in ({}, {"Accept": "text/html"}, {"Accept": "image/svg+xml,*/*"}, {"Range": "bytes=0-"}):
        r = await alice.get(f"/api/v1/attachments/{att['id']}", headers=headers)
        assert r.status_code in (200, 206), r.text
        assert r.headers["content-type"] == "application/octet-stream", (headers, r.headers)
        assert r.headers["content-disposition"].startswith("attachment;")
        assert r.headers["x-content-type-options"] == "nosniff"
    r = await app.client().get(path_of(att["url"]), headers={"Accept": "text/html"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"


async def test_passive_files_keep_their_type(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    att = await uploaded(alice, tid, "notes.txt", b"just words\n", "text/plain")
    r = await alice.get(f"/api/v1/attachments/{att['id']}")
    assert r.headers["content-type"].startswith("text/plain")
    att = await uploaded(alice, tid, "p.png", png(), "image/png")
    r = await alice.get(f"/api/v1/attachments/{att['id']}")
    assert r.headers["content-type"] == "image/png" and r.headers["content-disposition"].startswith("inline")


def gif_bomb(side: int = 1500, frames: int = 120) -> bytes:
    """A few kB: frames that differ by one pixel, each declaring side x side pixels to decode."""
    base = Image.new("P", (side, side), 0)
    images = []
    for i in range(frames):
        frame = base.copy()
        frame.putpixel((i % side, i % side), 1)
        images.append(frame)
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=10)
    return out.getvalue()


def png_memory_bomb(side: int = 7000) -> bytes:
    """About 190 kB that decode to side x side RGBA, under the pixel cap: 196 MB per copy."""
    out = io.BytesIO()
    Image.new("RGBA", (side, side)).save(out, "PNG")
    return out.getvalue()


def rss() -> int:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture
async def capped(database_url, tmp_path) -> AsyncIterator[RunningApp]:
    running = await start_app(
        make_settings(database_url, tmp_path, image_memory_bytes=300 * 1024 * 1024, image_cpu_seconds=2)
    )
    yield running
    await running.stop()


async def test_decompression_bombs_are_refused_and_the_server_stays_responsive(capped):
    async with capped.client("alice") as alice, capped.client() as anon:
        tid = (await ticket_with(alice))["id"]
        # Made before measuring: this test process is also the server's.
        cases = [("declared.png", png_bomb()), ("frames.gif", gif_bomb()), ("memory.png", png_memory_bomb())]
        before = rss()
        stalls: list[float] = []
        done = asyncio.Event()

        async def probe() -> None:
            while not done.is_set():
                started = time.perf_counter()
                assert (await anon.get("/healthz")).status_code == 200
                stalls.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)

        prober = asyncio.create_task(probe())
        try:
            for name, data in cases:
                assert len(data) < 250_000, (name, len(data))
                started = time.perf_counter()
                r = await alice.post(
                    f"/api/v1/tickets/{tid}/attachments", files={"file": (name, data, "image/png")}
                )
                assert r.status_code == 422, (name, r.text)
                assert r.json()["error"]["code"] == "image_too_large", (name, r.text)
                assert time.perf_counter() - started < 20, name
        finally:
            done.set()
            await prober
        assert rss() - before < 100 * 1024 * 1024  # decoding happened elsewhere
        assert max(stalls) < 1.0, max(stalls)
        # The workers are still there (or were replaced) for the next, ordinary image.
        ok = await uploaded(alice, tid, "fine.png", png())
        assert ok["width"] == 64
