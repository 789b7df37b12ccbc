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
        assert r.json()["error"]["details"][0]["field"] == "data"
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
