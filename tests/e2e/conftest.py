"""Browser tests: the built web app served by a real `ticket-comms serve` process, driven through
Debian's Chromium by Playwright. Each test uses fresh user ids, so tests never see each other's data.

The server runs as a subprocess (as `make run` runs it) against its own database; the test talks to it
over HTTP like any client. Every page a test opens fails the test on a console error or uncaught
exception (see `open_page`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

from ticket_comms import migrations
from ticket_comms.auth.tokens import mint
from ticket_comms.config import DEV_JWT_SECRET, Settings

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
# The development secret, as `make run` uses it: /dev/login and the dev config are part of what is tested.
SECRET = DEV_JWT_SECRET


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
        "args": [
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-gpu",
        ],
    }


@pytest.fixture(autouse=True)
def clean_tables() -> None:
    """Replaces the suite's async table cleaner: these tests use their own database and fresh user ids,
    and an async fixture cannot run beside Playwright's synchronous API."""


@pytest.fixture(scope="session")
def browser_version(browser: Browser) -> None:
    # Debian's security updates move Chromium's major version; Playwright must be bumped with it.
    print(f"\nChromium {browser.version}", file=sys.stderr)


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """The built app. `make test` builds it first; a missing build is built here (never skipped)."""
    dist = WEB / "dist"
    if not (dist / "index.html").is_file():
        npm = "npm"
        if not (WEB / "node_modules").is_dir():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True, timeout=900)
        subprocess.run([npm, "run", "build"], cwd=WEB, check=True, timeout=900)
    return dist


@pytest.fixture(scope="session")
def e2e_database_url() -> Iterator[str]:
    from tests.conftest import _server_url

    admin_url = _server_url()
    name = f"e2e_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    url = urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))
    migrations.upgrade(url)
    yield url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Server:
    base_url: str
    settings: Settings
    users: dict[str, str] = field(default_factory=dict)

    def token(self, user_id: str, name: str, role: str | None = None, ttl: int = 3600) -> str:
        return mint(
            self.settings, user_id, role=role, name=name, email=f"{user_id}@example.com", ttl_seconds=ttl
        )

    def client(self, user_id: str, name: str, role: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(user_id, name, role)}"}
        client = httpx.Client(base_url=self.base_url, headers=headers, timeout=30)
        client.get("/api/v1/me").raise_for_status()  # registers the user from the token's claims
        return client


@pytest.fixture(scope="session")
def server(
    web_dist: Path, e2e_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    port = _free_port()
    data = tmp_path_factory.mktemp("serve")
    env = {
        **os.environ,
        "DATABASE_URL": e2e_database_url,
        "DATA_DIR": str(data),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "JWT_SECRET": SECRET,
        # The tests script the API (150 messages in a row); the limits have their own tests.
        "RATE_LIMITS_ENABLED": "false",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "WEB_DIST": str(web_dist),
        "LOG_LEVEL": "WARNING",
        # Ticket emails carry reply addresses, so a test can answer one by email.
        "REPLY_DOMAIN": "reply.localhost",
    }
    env.pop("REDIS_URL", None)
    log = (data / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ticket_comms.cli", "serve"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"serve exited: {(data / 'serve.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("serve did not become ready")
        settings = Settings(_env_file=None, jwt_secret=SECRET)  # type: ignore[call-arg]
        yield Server(base, settings)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@dataclass
class Person:
    id: str
    name: str
    http: httpx.Client
    token: str


@pytest.fixture
def people(server: Server) -> Iterator[Callable[..., Person]]:
    """`people("Alice Carter")` → a new user (unique id) with an HTTP client."""
    made: list[Person] = []

    def make(name: str, role: str | None = None) -> Person:
        user_id = f"{name.split()[0].lower()}-{uuid.uuid4().hex[:6]}"
        person = Person(user_id, name, server.client(user_id, name, role), server.token(user_id, name, role))
        made.append(person)
        return person

    yield make
    for p in made:
        p.http.close()


@dataclass
class Pages:
    browser: Browser
    server: Server
    contexts: list[BrowserContext] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Set by a test that provokes a refused request on purpose (Chromium logs it as a console error).
    allow_failed_requests: bool = False

    def open(self, person: Person | None, path: str = "/tickets", **context_args: Any) -> Page:
        context = self.browser.new_context(base_url=self.server.base_url, **context_args)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda m: self._console(m))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        if person is None:
            page.goto(path)
        else:
            page.goto(f"/auth?next={path}#token={person.token}")
            page.wait_for_url(lambda url: "/auth" not in url)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text} @ {message.location.get('url')}")


@pytest.fixture
def pages(browser: Browser, server: Server, browser_version: None) -> Iterator[Pages]:
    """Opens signed-in pages in fresh contexts; the test fails on any console error or uncaught exception."""
    opened = Pages(browser, server)
    yield opened
    for context in opened.contexts:
        context.close()
    unexpected = [
        e
        for e in opened.errors
        if not (opened.allow_failed_requests and "the server responded with a status of" in e)
    ]
    assert not unexpected, "errors in the browser console:\n" + "\n".join(unexpected)


def create_ticket(owner: Person, title: str, *others: Person, description: str = "") -> str:
    body = {"title": title, "description": description, "participantIds": [p.id for p in others]}
    response = owner.http.post("/api/v1/tickets", json=body)
    response.raise_for_status()
    return response.json()["id"]


def post(person: Person, ticket_id: str, content: str) -> dict[str, Any]:
    response = person.http.post(f"/api/v1/tickets/{ticket_id}/messages", json={"content": content})
    response.raise_for_status()
    return response.json()
