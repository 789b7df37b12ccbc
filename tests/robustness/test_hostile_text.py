"""Inputs that used to reach the database as a 500: bad cursors, NUL and lone surrogates in JSON text."""

from __future__ import annotations

import base64
import json

import pytest

from tests.chat.helpers import register, ticket_with


def cursor_of(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


WRONG_CURSORS = [
    cursor_of([123, 456]),
    cursor_of([{"a": 1}, []]),
    cursor_of(["2026-01-01T00:00:00+00:00", 7]),
    cursor_of([1.5, 7]),
    cursor_of(["x", "y"]),
    cursor_of([None, None]),
    cursor_of([True, "9b2e1f5c-0000-4000-8000-000000000000"]),
    cursor_of(["2026-01-01T00:00:00", "9b2e1f5c-0000-4000-8000-000000000000"]),
    cursor_of(["2026-01-01T00:00:00+00:00", "9b2e1f5c-0000-4000-8000-00000000000\u0000"]),
    "%%%",
    "e30",
]


async def test_empty_cursor_is_the_first_page_on_search(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    assert (
        await alice.post(f"/api/v1/tickets/{tid}/messages", json={"content": "findme"})
    ).status_code == 201
    for url in (f"/api/v1/tickets/{tid}/messages/search", "/api/v1/search/messages"):
        r = await alice.get(url, params={"q": "findme", "cursor": ""})
        assert r.status_code == 200, r.text
        assert [m["content"] for m in r.json()["items"]] == ["findme"]


@pytest.mark.parametrize("cursor", WRONG_CURSORS)
async def test_cursors_of_the_wrong_shape_or_types_are_400(app, as_user, cursor):
    alice = as_user("alice")
    admin = as_user("root", role="admin")
    tid = (await ticket_with(alice))["id"]
    for client, url, params in [
        (alice, "/api/v1/tickets", {}),
        (alice, "/api/v1/search/messages", {"q": "hello"}),
        (alice, f"/api/v1/tickets/{tid}/messages/search", {"q": "hello"}),
        (alice, "/api/v1/me/notifications", {}),
        (admin, "/api/v1/email/logs", {}),
    ]:
        r = await client.get(url, params={**params, "cursor": cursor})
        assert r.status_code == 400, (url, cursor, r.text)
        assert r.json()["error"]["code"] == "bad_cursor"


BAD_TEXT = [("\u0000", "NUL"), ("\ud800", "surrogate"), ("a\udfffb", "surrogate")]


def raw(body: dict) -> bytes:
    # json.dumps writes lone surrogates and NUL as \u escapes, as a hostile client would.
    return json.dumps(body).encode()


@pytest.mark.parametrize(("bad", "kind"), BAD_TEXT)
async def test_unstorable_text_anywhere_is_422_naming_the_field(app, as_user, bad, kind):
    await register(app, "bob")
    alice = as_user("alice")
    svc = as_user("svc", role="service")
    tid = (await ticket_with(alice, "bob"))["id"]
    mid = (await alice.post(f"/api/v1/tickets/{tid}/messages", json={"content": "hi"})).json()["id"]
    cases = [
        (alice, "POST", "/api/v1/tickets", {"title": f"t{bad}"}, "title"),
        (alice, "POST", "/api/v1/tickets", {"title": "t", "description": f"d{bad}"}, "description"),
        (
            alice,
            "POST",
            "/api/v1/tickets",
            {"title": "t", "participantIds": ["bob", bad]},
            "participantIds.1",
        ),
        (alice, "PATCH", f"/api/v1/tickets/{tid}", {"title": bad}, "title"),
        (alice, "POST", f"/api/v1/tickets/{tid}/participants", {"userId": f"x{bad}"}, "userId"),
        (alice, "POST", f"/api/v1/tickets/{tid}/messages", {"content": f"hello {bad}"}, "content"),
        (alice, "POST", f"/api/v1/tickets/{tid}/messages", {"content": "x", "clientId": bad}, "clientId"),
        (alice, "PATCH", f"/api/v1/tickets/{tid}/messages/{mid}", {"content": f"e{bad}"}, "content"),
        (svc, "POST", "/api/v1/events", {"type": "Custom", "data": {"note": f"n{bad}"}}, "data.note"),
        (svc, "POST", "/api/v1/events", {"type": "Custom", "data": {"deep": [{"k": bad}]}}, "data.deep.0.k"),
        (svc, "PUT", "/api/v1/users/carol", {"name": f"C{bad}", "email": "c@example.com"}, "name"),
    ]
    for client, method, url, body, field in cases:
        r = await client.request(method, url, content=raw(body), headers={"content-type": "application/json"})
        assert r.status_code == 422, (method, url, body, r.text)
        error = r.json()["error"]
        assert field in [d["field"] for d in error["details"]], (url, error)
        assert kind in json.dumps(error), error


async def test_unstorable_reaction_is_refused(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    mid = (await alice.post(f"/api/v1/tickets/{tid}/messages", json={"content": "hi"})).json()["id"]
    for emoji in ("%00", "%ED%A0%80", "%F0%9F%91%8D%00"):
        r = await alice.put(f"/api/v1/tickets/{tid}/messages/{mid}/reactions/{emoji}")
        assert 400 <= r.status_code < 500, (emoji, r.text)


async def test_deeply_nested_event_data_is_422(app, as_user):
    svc = as_user("svc", role="service")
    deep: object = "leaf"
    for _ in range(200):
        deep = {"a": deep}
    body = {"type": "PaymentReceived", "recipientIds": ["nobody"], "data": deep}
    r = await svc.post(
        "/api/v1/events", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["field"].startswith("data.a.a")
    # Deeper than the JSON decoder itself goes is a clear 400, not a crash.
    text = '{"type": "PaymentReceived", "data": ' + "[" * 100_000 + "]" * 100_000 + "}"
    r = await svc.post("/api/v1/events", content=text, headers={"content-type": "application/json"})
    assert r.status_code in (400, 413, 422), r.text
