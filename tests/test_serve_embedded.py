"""`ticket-comms serve` with no DATABASE_URL: an embedded PostgreSQL in DATA_DIR, shared safely by two processes."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

BIN = Path(sys.executable).parent / "ticket-comms"


def _start(data_dir: Path, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "DATA_DIR": str(data_dir),
            "PORT": str(port),
            "JWT_SECRET": "embedded-test-" + "s" * 40,
            "WORKER": "off",
            "LOG_LEVEL": "WARNING",
            "SMTP_URL": "smtp://127.0.0.1:1",
        }
    )
    return subprocess.Popen([str(BIN), "serve"], env=env, cwd=data_dir.parent)


def _wait_ready(port: int, proc: subprocess.Popen) -> None:
    for _ in range(600):
        assert proc.poll() is None, "serve exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("serve did not become ready")


def _token(user: str) -> str:
    out = subprocess.run(
        [str(BIN), "token", user],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "JWT_SECRET": "embedded-test-" + "s" * 40},
    )
    return out.stdout.strip()


def test_two_serve_processes_share_one_embedded_database(tmp_path):
    data_dir = tmp_path / "data"
    port_a, port_b = free_port(), free_port()
    a = _start(data_dir, port_a)
    b = None
    try:
        _wait_ready(port_a, a)
        b = _start(data_dir, port_b)
        _wait_ready(port_b, b)
        headers = {"Authorization": f"Bearer {_token('alice')}"}
        r = httpx.post(
            f"http://127.0.0.1:{port_a}/api/v1/tickets", json={"title": "embedded"}, headers=headers
        )
        assert r.status_code == 201, r.text
        tid = r.json()["id"]
        r = httpx.get(f"http://127.0.0.1:{port_b}/api/v1/tickets/{tid}", headers=headers)
        assert r.status_code == 200
        # Stopping one process leaves the database up for the other.
        a.send_signal(signal.SIGTERM)
        a.wait(30)
        r = httpx.post(
            f"http://127.0.0.1:{port_b}/api/v1/tickets/{tid}/messages",
            json={"content": "still here"},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        b.send_signal(signal.SIGTERM)
        b.wait(30)
        b = None
        # A restart reuses the data directory: the ticket is still there.
        a = _start(data_dir, port_a)
        _wait_ready(port_a, a)
        r = httpx.get(f"http://127.0.0.1:{port_a}/api/v1/tickets/{tid}/messages", headers=headers)
        assert [m["content"] for m in r.json()["items"]] == ["still here"]
    finally:
        for proc in (a, b):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
    assert (data_dir / "postgres" / "PG_VERSION").exists()
    # The last process to exit stopped the embedded server.
    assert not (data_dir / "postgres" / "postmaster.pid").exists()
