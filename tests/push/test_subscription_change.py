"""`POST /api/v1/push/subscription-change`: the service worker's `pushsubscriptionchange`, with no JWT,
proven by the old subscription's auth secret. The subscription keeps its id and user and moves to the
new endpoint (queued pushes follow it); unknown endpoints, wrong secrets and bad bodies are 4xx; the
endpoint is rate-limited per client address."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import make_settings, start_app
from tests.push.conftest import Push
from ticket_comms.push import outbox

PATH = "/api/v1/push/subscription-change"


def _change(old: dict, new: dict | None) -> dict:
    body = {"oldEndpoint": old["endpoint"], "oldAuth": old["keys"]["auth"]}
    if new is not None:
        body["newSubscription"] = new
    return body


async def test_the_new_endpoint_takes_the_old_ones_place(push: Push):
    old, sub_id = await push.subscribe("alice")
    new = push.service.subscriber()
    async with push.app.client() as anonymous:  # a service worker: no token
        r = await anonymous.post(PATH, json=_change(old.subscription_json(), new.subscription_json()))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == sub_id and r.json()["endpoint"] == new.endpoint
    listed = (await push.client("alice").get("/api/v1/me/push-subscriptions")).json()
    assert [(s["id"], s["endpoint"]) for s in listed] == [(sub_id, new.endpoint)]

    # Pushes now go to the new endpoint, encrypted for the new keys; the old one hears nothing.
    await push.enqueue(
        outbox.PushItem(
            "alice",
            {
                "id": str(uuid.uuid4()),
                "type": "TicketCreated",
                "title": "T",
                "body": "B",
                "ticketId": None,
                "url": "/notifications",
            },
        )
    )
    [got] = await push.service.wait_for(1, new)
    assert got.payload["title"] == "T"
    assert push.service.to(old) == [] and push.service.rejected == []

    # The old secret no longer opens anything.
    async with push.app.client() as anonymous:
        r = await anonymous.post(PATH, json=_change(old.subscription_json(), None))
    assert r.status_code == 404


async def test_without_a_new_subscription_the_old_one_is_removed(push: Push):
    old, _ = await push.subscribe("alice")
    async with push.app.client() as anonymous:
        r = await anonymous.post(PATH, json=_change(old.subscription_json(), None))
    assert r.status_code == 204, r.text
    assert (await push.client("alice").get("/api/v1/me/push-subscriptions")).json() == []


async def test_a_wrong_secret_or_unknown_endpoint_changes_nothing(push: Push):
    old, sub_id = await push.subscribe("alice")
    other = push.service.subscriber()
    wrong = {**old.subscription_json(), "keys": other.subscription_json()["keys"]}
    async with push.app.client() as anonymous:
        for body in (
            _change(wrong, other.subscription_json()),  # right endpoint, someone else's secret
            _change(other.subscription_json(), push.service.subscriber().subscription_json()),  # unknown
        ):
            r = await anonymous.post(PATH, json=body)
            assert r.status_code == 404, r.text
            assert r.json()["error"]["code"] == "push_subscription_not_found"
    listed = (await push.client("alice").get("/api/v1/me/push-subscriptions")).json()
    assert [(s["id"], s["endpoint"]) for s in listed] == [(sub_id, old.endpoint)]


async def test_bad_bodies_are_422(push: Push):
    old, _ = await push.subscribe("alice")
    good = push.service.subscriber().subscription_json()
    bodies = [
        {},
        {"oldEndpoint": old.endpoint},
        {"oldEndpoint": "", "oldAuth": "x"},
        {"oldEndpoint": old.endpoint, "oldAuth": "x" * 101},
        _change(old.subscription_json(), {**good, "endpoint": "ftp://push.example/x"}),
        _change(
            old.subscription_json(),
            {**good, "keys": {"p256dh": "bm90IGEga2V5", "auth": good["keys"]["auth"]}},
        ),
        _change(
            old.subscription_json(), {**good, "keys": {"p256dh": good["keys"]["p256dh"], "auth": "c2hvcnQ"}}
        ),
        _change(old.subscription_json(), {"endpoint": good["endpoint"]}),
        [1, 2],
    ]
    async with push.app.client() as anonymous:
        for body in bodies:
            r = await anonymous.post(PATH, json=body)
            assert r.status_code == 422, (body, r.text)
            assert r.json()["error"]["code"] in {
                "validation_failed",
                "bad_endpoint",
                "endpoint_not_https",
                "bad_key",
            }
        r = await anonymous.post(PATH, content=b"{not json", headers={"Content-Type": "application/json"})
        assert 400 <= r.status_code < 500
    # Nothing moved.
    listed = (await push.client("alice").get("/api/v1/me/push-subscriptions")).json()
    assert [s["endpoint"] for s in listed] == [old.endpoint]


async def test_a_new_endpoint_registered_elsewhere_becomes_this_subscription(push: Push):
    # The page registered the new endpoint before the service worker's request (or another user did
    # on this browser): one row per endpoint remains, the old subscription's.
    old, sub_id = await push.subscribe("alice")
    new, _ = await push.subscribe("bob")
    async with push.app.client() as anonymous:
        r = await anonymous.post(PATH, json=_change(old.subscription_json(), new.subscription_json()))
    assert r.status_code == 200 and r.json()["id"] == sub_id
    assert (await push.client("bob").get("/api/v1/me/push-subscriptions")).json() == []
    assert [
        s["endpoint"] for s in (await push.client("alice").get("/api/v1/me/push-subscriptions")).json()
    ] == [new.endpoint]


async def test_it_is_rate_limited_per_client(database_url: str, tmp_path_factory: pytest.TempPathFactory):
    app = await start_app(
        make_settings(
            database_url,
            tmp_path_factory.mktemp("push-limits"),
            rate_limits_enabled=True,
            rate_limit_push_subscription_change="3 per minute",
        )
    )
    try:
        async with httpx.AsyncClient(base_url=app.base_url) as anonymous:
            body = {
                "oldEndpoint": "https://fcm.googleapis.com/fcm/send/x",
                "oldAuth": "AAAAAAAAAAAAAAAAAAAAAA",
            }
            codes = [(await anonymous.post(PATH, json=body)).status_code for _ in range(4)]
            assert codes == [404, 404, 404, 429]
            r = await anonymous.post(PATH, json=body)
            assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
            assert r.json()["error"]["code"] == "rate_limited"
    finally:
        await app.stop()
