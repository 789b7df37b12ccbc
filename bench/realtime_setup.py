"""Set-up shared by the realtime_* scenarios: seeded users and tickets, Redis, the generator process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis

from bench.common import ROOT, database, free_port, run_json
from ticket_comms import migrations
from ticket_comms.database import start_embedded_postgres

USERS = 10_000
PER_TICKET = 4
TICKETS = USERS // PER_TICKET


def _database() -> str:
    """`bench_realtime` on DATABASE_URL's server, or else on an embedded server of its own
    (.data/bench-realtime): other scenarios' databases then do not share its WAL, whose flushes are
    what every message's commit waits for."""
    if os.environ.get("DATABASE_URL"):
        return database("bench_realtime")
    admin = start_embedded_postgres(ROOT / ".data" / "bench-realtime", "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'bench_realtime'").fetchone():
            conn.execute('CREATE DATABASE "bench_realtime"')
    parts = urlsplit(admin)
    url = urlunsplit((parts.scheme, parts.netloc, "/bench_realtime", parts.query, parts.fragment))
    migrations.upgrade(url)
    return url


def seeded_database() -> str:
    """`bench_realtime`: users rt0..rt9999; ticket i has participants rt(4i)..rt(4i+3); no messages."""
    url = _database()
    with psycopg.connect(url, autocommit=True) as conn:
        have = conn.execute("SELECT count(*) FROM ticket_participants").fetchone()
        if not have or have[0] != USERS:
            conn.execute("TRUNCATE users, tickets CASCADE")
            conn.execute(
                "INSERT INTO users (id, name, email) SELECT 'rt' || i, 'rt' || i, 'rt' || i || '@example.com' "
                "FROM generate_series(0, %s) i",
                (USERS - 1,),
            )
            conn.execute(
                "INSERT INTO tickets (title, created_by) SELECT 'Ticket ' || i, 'rt' || (i * %s) "
                "FROM generate_series(0, %s) i",
                (PER_TICKET, TICKETS - 1),
            )
            conn.execute(
                "INSERT INTO ticket_participants (ticket_id, user_id) "
                "SELECT t.id, 'rt' || (n.i * %s + k) FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i "
                "FROM tickets) n JOIN tickets t ON t.id = n.id, generate_series(0, %s) k",
                (PER_TICKET, PER_TICKET - 1),
            )
        # Every run starts from empty threads, so runs are comparable.
        conn.execute("TRUNCATE messages CASCADE")
        conn.execute("UPDATE tickets SET last_seq = 0")
        conn.execute("UPDATE ticket_participants SET last_read_seq = 0, last_read_at = NULL")
        conn.execute("VACUUM ANALYZE")
    return url


def postgres_data_dir(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
    return str(row[0]) if row else ""


def tickets(url: str, count: int) -> list[dict[str, Any]]:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT t.id::text, array_agg(p.user_id ORDER BY p.user_id) FROM tickets t "
            "JOIN ticket_participants p ON p.ticket_id = t.id GROUP BY t.id ORDER BY min(p.user_id) LIMIT %s",
            (count,),
        ).fetchall()
    return [{"id": r[0], "participants": r[1]} for r in rows]


@contextmanager
def redis_server() -> Iterator[str]:
    """REDIS_URL / TEST_REDIS_URL when set (make bench runs under scripts/with-services.sh), else our own."""
    url = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def run_generator(mode: str, config: dict[str, Any]) -> dict[str, Any]:
    """The load generator in its own process (python -m bench.realtime_load)."""
    return run_json([sys.executable, "-m", "bench.realtime_load", mode], config)
