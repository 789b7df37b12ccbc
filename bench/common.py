"""Shared bench plumbing: a database, a real `ticket-comms serve` subprocess, latency statistics."""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg

from ticket_comms import migrations
from ticket_comms.auth.tokens import mint
from ticket_comms.config import Settings
from ticket_comms.database import libpq_url, start_embedded_postgres

ROOT = Path(__file__).resolve().parent.parent
JWT_SECRET = "bench-secret-" + "b" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database(name: str) -> str:
    """A database called `name` on DATABASE_URL's server, or on the embedded server in .data/bench."""
    base = os.environ.get("DATABASE_URL")
    admin = libpq_url(base) if base else start_embedded_postgres(ROOT / ".data" / "bench", "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    migrations.upgrade(url)
    return url


@functools.cache
def _signing_settings() -> Settings:
    # Built once: constructing Settings reads and validates every field from the environment
    # (~9 ms), which made token() the load generators' bottleneck at 200 connects/s.
    return Settings(_env_file=None, jwt_secret=JWT_SECRET)


def token(user_id: str, role: str | None = None) -> str:
    return mint(
        _signing_settings(),
        user_id,
        role=role,  # type: ignore[call-arg]
        name=user_id,
        ttl_seconds=6 * 3600,
    )


@contextmanager
def serve(database_url: str, **env: str) -> Any:
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "JWT_SECRET": JWT_SECRET,
        "PORT": str(port),
        "WORKER": "off",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    with serving([str(Path(sys.executable).parent / "ticket-comms"), "serve"], environment, port) as running:
        yield running


@contextmanager
def serving(
    command: list[str], environment: dict[str, str], port: int, cwd: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`command` as a server on `port`, yielded (base URL, process) once its /healthz answers."""
    proc = subprocess.Popen(command, env=environment, cwd=cwd, stdout=sys.stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"{command[-1]} exited")
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(15)


def run_json(command: list[str], config: dict[str, Any], cwd: Path = ROOT) -> dict[str, Any]:
    """A load generator in its own process: `command CONFIG.json`; its last stdout line is the result."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(config, f)
    try:
        out = subprocess.run([*command, f.name], cwd=cwd, check=True, stdout=subprocess.PIPE, timeout=3600)
    finally:
        Path(f.name).unlink()
    result: dict[str, Any] = json.loads(out.stdout.decode().strip().splitlines()[-1])
    return result


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    if not samples_ms:
        return {"n": 0}
    s = sorted(samples_ms)

    def pct(p: float) -> float:
        return round(s[min(len(s) - 1, int(p / 100 * len(s)))], 3)

    return {"n": len(s), "p50": pct(50), "p95": pct(95), "p99": pct(99), "max": round(s[-1], 3)}


MOTO_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "moto",
    "AWS_SECRET_ACCESS_KEY": "moto",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@contextmanager
def moto_s3() -> Any:
    """moto's standalone S3-compatible server on a free port (benches and tests); yields its endpoint URL.

    Clients use MOTO_CREDENTIALS (moto accepts any)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **MOTO_CREDENTIALS},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
