"""Demo data: `serve` in development fills an empty database, `ticket-comms seed` writes it once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import RunningApp, make_settings, start_app
from ticket_comms.config import DEV_JWT_SECRET
from ticket_comms.demo import seed
from ticket_comms.demo.cast import JAMES, LINA, SARA

STATUSES = {"Open", "Assigned", "InProgress", "OnHold", "Completed", "Cancelled"}


@pytest.fixture
async def dev_app(database_url, tmp_path) -> AsyncIterator[RunningApp]:
    """`serve` as `make run` starts it: dev secret, no SMTP_URL (the dev mailbox), the inline worker."""
    settings = make_settings(database_url, tmp_path, jwt_secret=DEV_JWT_SECRET, worker="inline")
    running = await start_app(settings)
    yield running
    await running.stop()


def signed_in(app: RunningApp, person) -> httpx.AsyncClient:
    role = "admin" if person.role == "admin" else None
    token = app.token(person.id, role, name=person.name, email=person.email)
    return httpx.AsyncClient(base_url=app.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


async def messages_of(client: httpx.AsyncClient, ticket_id: str) -> list[dict]:
    r = await client.get(f"/api/v1/tickets/{ticket_id}/messages", params={"limit": 100})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_serve_fills_an_empty_development_database_with_a_live_demo(dev_app):
    async with (
        signed_in(dev_app, SARA) as sara,
        signed_in(dev_app, JAMES) as james,
        signed_in(dev_app, LINA) as lina,
    ):
        everything = (await lina.get("/api/v1/tickets")).json()["items"]
        assert 5 <= len(everything) <= 7
        assert {t["status"] for t in everything} == STATUSES
        # Newest activity first, and it happened over the last days, not all at once.
        activity = [t["lastMessage"]["createdAt"] for t in everything]
        assert activity == sorted(activity, reverse=True)
        assert len({a[:10] for a in activity}) >= 3

        mine = (await sara.get("/api/v1/tickets")).json()["items"]
        assert mine and all(t["createdBy"] == SARA.id for t in mine)
        unread = (await sara.get("/api/v1/me/unread")).json()
        assert sum(unread.values()) >= 2
        assert {t["id"]: t["unreadCount"] for t in mine if t["unreadCount"]} == unread

        ac = next(t for t in mine if "Air conditioner" in t["title"])
        thread = await messages_of(sara, ac["id"])
        assert [m["seq"] for m in thread] == list(range(1, len(thread) + 1))
        image = next(m for m in thread if m["type"] == "Image")
        assert image["attachment"]["contentType"] == "image/png"
        assert image["attachment"]["width"] > 0 and image["attachment"]["thumbnailUrl"]
        assert image["reactions"]
        photo = await sara.get(image["attachment"]["url"])
        assert photo.status_code == 200 and photo.content.startswith(b"\x89PNG")
        reply = next(m for m in thread if m["replyToId"])
        assert reply["replyToId"] in {m["id"] for m in thread}
        assert any(m["editedAt"] for m in thread)
        system = [m for m in thread if m["type"] == "System"]
        assert any("Lina Farouk assigned the ticket to Omar Haddad" in m["content"] for m in system)
        participants = (await sara.get(f"/api/v1/tickets/{ac['id']}/participants")).json()
        assert {p["name"] for p in participants} == {"Sara Al Mansouri", "Omar Haddad"}

        theirs = (await james.get("/api/v1/tickets")).json()["items"]
        files = [m for t in theirs for m in await messages_of(james, t["id"]) if m["type"] == "File"]
        assert files and files[0]["attachment"]["contentType"] == "application/pdf"
        pdf = await james.get(files[0]["attachment"]["url"])
        assert pdf.content.startswith(b"%PDF-") and pdf.content.rstrip().endswith(b"%%EOF")
        notes = (await james.get("/api/v1/me/notifications")).json()["items"]
        assert "QuoteCreated" in {n["type"] for n in notes}

        # The worker sends the queued notification emails to the dev mailbox.
        for _ in range(200):
            caught = (await lina.get("/dev/mailbox.json")).json()["items"]
            if len(caught) >= 3:
                break
            await asyncio.sleep(0.1)
        assert len(caught) >= 3, caught
        recipients = {to for m in caught for to in m["rcptTos"]}
        assert JAMES.email in recipients and SARA.email in recipients


async def test_seeding_twice_adds_nothing_and_a_restart_does_not_seed_again(dev_app, database_url, tmp_path):
    count = "SELECT (SELECT count(*) FROM tickets) AS t, (SELECT count(*) FROM messages) AS m"
    before = await dev_app.ctx.db.fetch_one(count)
    assert before is not None and before["t"] > 0
    assert (await seed.seed(dev_app.ctx)).created is False
    again = await start_app(make_settings(database_url, tmp_path, jwt_secret=DEV_JWT_SECRET))
    await again.stop()
    assert await dev_app.ctx.db.fetch_one(count) == before


async def test_serve_with_a_real_secret_leaves_an_empty_database_empty(app):
    # A production-like secret: even an empty database stays empty.
    assert await seed.seed_empty_development_database(app.ctx) is False
    assert await app.ctx.db.fetch_one("SELECT 1 FROM tickets") is None


def _seed_command(database_url: str, data_dir: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "DATA_DIR": data_dir, "LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "ticket_comms.cli", "seed"],
        env=env,
        cwd=data_dir,  # no .env file there
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_seed_command_writes_the_demo_once(app, database_url, tmp_path):
    first = await asyncio.to_thread(_seed_command, database_url, str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert "demo data written" in first.stdout
    tickets = await app.ctx.db.fetch_one("SELECT count(*) AS n FROM tickets")
    assert tickets is not None and 5 <= tickets["n"] <= 7
    second = await asyncio.to_thread(_seed_command, database_url, str(tmp_path))
    assert second.returncode == 0, second.stderr
    assert "already present" in second.stdout
    assert await app.ctx.db.fetch_one("SELECT count(*) AS n FROM tickets") == tickets
    # The uploads went to the command's DATA_DIR through the normal storage.
    assert any((tmp_path / "uploads").rglob("*"))
