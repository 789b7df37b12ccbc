import pytest

from tests.chat.helpers import ticket_with


async def test_bad_bodies_get_clear_4xx(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    url = f"/api/v1/tickets/{tid}/messages"
    cases = [
        (b"{not json", 400),
        (b"[]", 422),
        (b'{"content": 5}', 422),
        (b'{"content": ""}', 422),
        (b'{"content": "   "}', 422),
        (b'{"content": "x", "type": "Video"}', 422),
        (b'{"content": "x", "type": "System"}', 422),
        (b'{"content": "x", "replyToId": "nope"}', 422),
        (b'{"content": "", "type": "Image"}', 422),
        (b'{"content": null}', 422),
        ('{"content": "' + "x" * 10_001 + '"}', 422),
    ]
    for body, status in cases:
        r = await alice.post(url, content=body, headers={"content-type": "application/json"})
        assert r.status_code == status, (body[:40], r.text)
        assert set(r.json()["error"]) >= {"code", "message"}
    ok = await alice.post(url, json={"content": "x" * 10_000})
    assert ok.status_code == 201
    assert (await alice.get(url)).json()["items"][-1]["seq"] == 1  # nothing else was stored


async def test_huge_bodies_are_refused_without_reading_them(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    r = await alice.post(
        f"/api/v1/tickets/{tid}/messages",
        content=b'{"content": "' + b"a" * 3_000_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413
    assert r.json()["error"]["code"] == "too_large"

    async def chunks():
        yield b'{"content": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'"}'

    r = await alice.post(
        f"/api/v1/tickets/{tid}/messages", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/tickets/not-a-uuid",
        "/api/v1/tickets/123/messages",
        "/api/v1/tickets/%00/messages",
        "/api/v1/tickets/00000000-0000-0000-0000-000000000000/messages/xyz",
    ],
)
async def test_malformed_ids_are_4xx_and_unknown_routes_404(app, as_user, path):
    r = await as_user("alice").get(path)
    assert r.status_code in (400, 404, 405, 422), r.text
    assert "error" in r.json()


async def test_unknown_ids_are_404_and_bad_query_values_422(app, as_user):
    alice = as_user("alice")
    unknown = "00000000-0000-0000-0000-000000000000"
    assert (await alice.get(f"/api/v1/tickets/{unknown}")).status_code == 404
    assert (await alice.get("/api/v1/nowhere")).status_code == 404
    assert (await alice.delete("/api/v1/me")).status_code == 405
    tid = (await ticket_with(alice))["id"]
    for params in (
        {"limit": 0},
        {"limit": 10**9},
        {"beforeSeq": "abc"},
        {"afterSeq": -5},
        {"afterSeq": 10**30},
    ):
        r = await alice.get(f"/api/v1/tickets/{tid}/messages", params=params)
        assert r.status_code == 422, params
    r = await alice.post("/api/v1/tickets", json={"title": "x", "participantIds": "bob"})
    assert r.status_code == 422
    r = await alice.post("/api/v1/tickets", json={"title": "x" * 501})
    assert r.status_code == 422
