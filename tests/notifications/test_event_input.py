"""`POST /events` with hostile `data`: nesting and size are bounded (422 naming the field), never a 500."""

from __future__ import annotations


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"x": value}
    return value


async def test_deeply_nested_event_data_is_a_422(app, as_user):
    service = as_user("billing", "service")
    r = await service.put("/api/v1/users/carol", json={"email": "carol@example.com", "name": "Carol"})
    assert r.status_code in (200, 201), r.text
    for depth in (300, 600):  # past orjson's 254 levels (and a list variant below)
        r = await service.post(
            "/api/v1/events",
            json={"type": "PaymentReceived", "recipientIds": ["carol"], "data": nested(depth)},
        )
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"][0]["field"].startswith("data")
    deep_list: list = [1]
    for _ in range(300):
        deep_list = [deep_list]
    r = await service.post(
        "/api/v1/events",
        json={
            "type": "PaymentReceived",
            "recipientIds": ["carol"],
            "data": {"payment": {"amount": 1}, "l": deep_list},
        },
    )
    assert r.status_code == 422, r.text
    wide = {"payment": {"amount": 1}, "many": list(range(20_000))}
    r = await service.post(
        "/api/v1/events", json={"type": "PaymentReceived", "recipientIds": ["carol"], "data": wide}
    )
    assert r.status_code == 422, r.text
    # A payload of ordinary depth still goes.
    ok = {"payment": {"amount": 1}, "meta": nested(20)}
    r = await service.post(
        "/api/v1/events", json={"type": "PaymentReceived", "recipientIds": ["carol"], "data": ok}
    )
    assert r.status_code == 202, r.text


PAYMENT = {"payment": {"amount": 3400, "currency": "USD", "reference": "PAY-9"}}


async def test_idempotency_keys_are_the_callers_own_and_a_reused_key_must_repeat_the_request(app, as_user):
    billing, shop = as_user("billing", "service"), as_user("shop", "service")
    r = await billing.put("/api/v1/users/carol", json={"email": "carol@example.com", "name": "Carol"})
    assert r.status_code in (200, 201), r.text
    event = {"type": "PaymentReceived", "recipientIds": ["carol"], "data": PAYMENT, "idempotencyKey": "pay-1"}

    first = await billing.post("/api/v1/events", json=event)
    assert first.status_code == 202, first.text
    again = await billing.post("/api/v1/events", json=event)
    assert again.status_code == 202 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"

    # Another caller's same key is another event: it neither replays nor blocks billing's.
    other = await shop.post("/api/v1/events", json=event)
    assert other.status_code == 202 and "Idempotent-Replayed" not in other.headers
    assert other.json()["eventId"] != first.json()["eventId"]

    # The same key with another payload is a client bug: 409, and nothing is sent.
    changed = {**event, "data": {"payment": {**PAYMENT["payment"], "amount": 1}}}
    r = await billing.post("/api/v1/events", json=changed)
    assert r.status_code == 409 and r.json()["error"]["code"] == "idempotency_key_reused", r.text
    r = await billing.post("/api/v1/events", json={**event, "recipientIds": ["billing"]})
    assert r.status_code == 409
    async with app.ctx.db.connection() as conn:
        cur = await conn.execute("SELECT count(*) AS n FROM events WHERE type = 'PaymentReceived'")
        assert (await cur.fetchone())["n"] == 2
