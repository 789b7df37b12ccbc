"""Bodies are read only from authenticated callers, and only the upload route takes more than 1 MiB."""

from __future__ import annotations

import asyncio
import os

import pytest

from tests.chat.helpers import ticket_with

BIG = 150 * 1024 * 1024
CHUNK = 1024 * 1024


def rss() -> int:
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def send_big(port: int, method: str, path: str, headers: dict[str, str]) -> tuple[int, bytes, int]:
    """Send a BIG body (declared up front) as fast as the server takes it; return the status, the
    answer's body and how many body bytes were written before the answer came back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {BIG}\r\nContent-Type: application/json\r\n"
    )
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    writer.write(head.encode())
    answer = asyncio.create_task(reader.read(65536))
    sent = 0
    chunk = b"a" * CHUNK
    try:
        while sent < BIG and not answer.done():
            writer.write(chunk)
            sent += CHUNK
            await asyncio.wait_for(writer.drain(), 5)
    except (ConnectionError, TimeoutError):
        pass
    data = await asyncio.wait_for(answer, 10)
    writer.close()
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[-1], sent


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/v1/users/attachments"),  # any path ending in /attachments used to be exempt
        ("POST", "/api/v1/tickets/00000000-0000-4000-8000-000000000000/attachments"),
        ("POST", "/api/v1/tickets"),
        ("POST", "/api/v1/events"),
    ],
)
async def test_a_large_body_without_a_token_is_401_unread(app, method, path):
    before = rss()
    status, body, sent = await send_big(app.settings.port, method, path, {})
    assert status == 401, body
    assert b'"unauthenticated"' in body
    assert sent < BIG  # answered before the body was taken
    assert rss() - before < 40 * 1024 * 1024


async def test_a_large_body_with_a_bad_token_is_401(app):
    status, body, _ = await send_big(
        app.settings.port, "PUT", "/api/v1/users/attachments", {"Authorization": "Bearer not.a.token"}
    )
    assert status == 401, body


async def test_only_the_upload_route_takes_more_than_a_mebibyte(app, as_user):
    alice = as_user("alice")
    token = alice.headers["authorization"]
    before = rss()
    status, body, _ = await send_big(
        app.settings.port, "PUT", "/api/v1/users/attachments", {"Authorization": token}
    )
    assert status == 413, body
    assert rss() - before < 40 * 1024 * 1024
    tid = (await ticket_with(alice))["id"]
    big_file = b"x" * (3 * 1024 * 1024)
    r = await alice.post(
        f"/api/v1/tickets/{tid}/attachments", files={"file": ("big.txt", big_file, "text/plain")}
    )
    assert r.status_code == 201, r.text
    assert r.json()["size"] == len(big_file)
