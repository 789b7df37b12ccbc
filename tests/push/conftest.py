"""Push fixtures: the local push service (tests/push/service.py) and an app whose in-process push worker
sends to it, with short retry, timeout and chat-message delays."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import RunningApp, make_settings, start_app
from tests.push.service import PushService, Subscriber
from ticket_comms.push import outbox

PUSH_SETTINGS: dict[str, Any] = {
    "worker": "inline",
    "push_retry_base_seconds": 0.2,
    "push_retry_max_seconds": 2,
    "push_timeout_seconds": 5,
    "push_message_delay_seconds": 1.5,
    "message_email_delay_seconds": 3600,
    "email_from": "Tickets <no-reply@tickets.test>",
}


@pytest.fixture(scope="module")
async def push_service() -> AsyncIterator[PushService]:
    service = PushService()
    await service.start()
    yield service
    await service.stop()


@pytest.fixture(scope="module")
async def push_app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, push_service: PushService
) -> AsyncIterator[RunningApp]:
    running = await start_app(make_settings(database_url, tmp_path_factory.mktemp("push"), **PUSH_SETTINGS))
    async with running.client("probe") as c:
        push_service.vapid_key = (await c.get("/api/v1/push/public-key")).json()["publicKey"]
    yield running
    await running.stop()


class Push:
    """One test's view: clients, subscribing devices, queueing pushes and reading their deliveries."""

    def __init__(self, app: RunningApp, service: PushService):
        self.app = app
        self.service = service
        self._clients: dict[tuple[str, str | None], httpx.AsyncClient] = {}

    def client(self, user_id: str, role: str | None = None) -> httpx.AsyncClient:
        """The user's client (one per user and role: making an httpx client costs an SSL context)."""
        if (user_id, role) not in self._clients:
            self._clients[user_id, role] = self.app.client(user_id, role)
        return self._clients[user_id, role]

    @property
    def admin(self) -> httpx.AsyncClient:
        return self.client("admin", "admin")

    async def subscribe(self, user_id: str, service: PushService | None = None) -> tuple[Subscriber, str]:
        """A new device of `user_id` subscribed at `service` (the default one); returns it and its id."""
        sub = (service or self.service).subscriber()
        r = await self.client(user_id).post("/api/v1/me/push-subscriptions", json=sub.subscription_json())
        assert r.status_code == 201, r.text
        return sub, r.json()["id"]

    async def subscribe_many(self, user_ids: list[str], service: PushService) -> list[Subscriber]:
        """One device each for many users at once, written straight to the tables (for load, not for
        the API, which the other tests cover)."""
        subs = [service.subscriber() for _ in user_ids]
        async with self.app.ctx.db.transaction() as conn:
            await conn.execute(
                "INSERT INTO users (id, name) SELECT u, u FROM unnest(%s::text[]) u", (user_ids,)
            )
            await conn.execute(
                "INSERT INTO push_subscriptions (user_id, endpoint, origin, p256dh, auth) "
                "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[])",
                (
                    user_ids,
                    [s.endpoint for s in subs],
                    [service.origin] * len(subs),
                    [s.subscription_json()["keys"]["p256dh"] for s in subs],
                    [s.subscription_json()["keys"]["auth"] for s in subs],
                ),
            )
        return subs

    async def enqueue(self, *items: outbox.PushItem) -> dict[str, list[str]]:
        async with self.app.ctx.db.transaction() as conn:
            return await outbox.enqueue(conn, list(items))

    async def deliveries(self, **params: Any) -> list[dict[str, Any]]:
        r = await self.admin.get("/api/v1/push/deliveries", params={"limit": 200, **params})
        assert r.status_code == 200, r.text
        return r.json()["items"]

    async def delivery(self, push_id: str) -> dict[str, Any]:
        found = [d for d in await self.deliveries() if d["id"] == push_id]
        assert found, f"no delivery {push_id}"
        return found[0]

    async def wait_status(self, push_id: str, *statuses: str, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            entry = await self.delivery(push_id)
            if entry["status"] in statuses:
                return entry
            if time.monotonic() > deadline:
                raise AssertionError(f"push {push_id} is {entry['status']}, expected {statuses}: {entry}")
            await asyncio.sleep(0.05)

    async def metric(self, name: str) -> float:
        text = (await self.admin.get("/metrics")).text  # operators only
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"no metric {name}")

    async def close(self) -> None:
        for c in self._clients.values():
            await c.aclose()


@pytest.fixture
async def push(push_app: RunningApp, push_service: PushService) -> AsyncIterator[Push]:
    push_service.reset()
    push_app.ctx.users._seen.clear()  # the tables were emptied: users must be written again
    helper = Push(push_app, push_service)
    yield helper
    await helper.close()
