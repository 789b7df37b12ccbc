"""A real `ticket-comms serve` (embedded PostgreSQL in a temporary DATA_DIR, the development secret, the
built web app) for the web budgets bench and the screenshots script, plus a few seeding helpers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from ticket_comms.auth.tokens import mint
from ticket_comms.config import Settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_ARGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
]


def chromium_path() -> str:
    return os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@dataclass
class User:
    id: str
    name: str
    token: str
    http: httpx.Client


@contextmanager
def running_server() -> Iterator[str]:
    if not (ROOT / "web" / "dist" / "index.html").is_file():
        raise SystemExit("web/dist is missing: run `make web` first")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory(prefix="tc-web-") as data:
        env = {**os.environ, "DATA_DIR": data, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "WARNING"}
        # Seeding posts thousands of messages in a row; the rate limits have their own tests.
        env["RATE_LIMITS_ENABLED"] = "false"
        for key in ("DATABASE_URL", "REDIS_URL", "JWT_SECRET", "SMTP_URL"):
            env.pop(key, None)
        log = Path(data, "serve.log").open("w")
        proc = subprocess.Popen(
            [sys.executable, "-m", "ticket_comms.cli", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(1200):
                if proc.poll() is not None:
                    raise RuntimeError(Path(data, "serve.log").read_text()[-2000:])
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def user(base: str, user_id: str, name: str, role: str | None = None) -> User:
    token = mint(Settings(_env_file=None), user_id, role=role, name=name, email=f"{user_id}@example.com")  # type: ignore[call-arg]
    http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    http.get("/api/v1/me").raise_for_status()
    return User(user_id, name, token, http)


def post(u: User, ticket_id: str, content: str, **extra: Any) -> dict[str, Any]:
    r = u.http.post(f"/api/v1/tickets/{ticket_id}/messages", json={"content": content, **extra})
    r.raise_for_status()
    return r.json()
