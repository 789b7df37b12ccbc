"""`GET /api/v1/users?q=`: the people picker. A member finds only people who share a ticket with them,
and sees only id, name and role; admins find everyone; bad input is a 4xx."""

from __future__ import annotations


async def _signed_in(as_user, user_id: str, name: str, role: str | None = None):
    client = as_user(user_id, role=role, name=name, email=f"{user_id}@example.com")
    (await client.get("/api/v1/me")).raise_for_status()
    return client


async def test_a_member_finds_only_people_who_share_a_ticket_with_them(as_user):
    alice = await _signed_in(as_user, "alice", "Alice Carter")
    await _signed_in(as_user, "tom", "Tom Reyes")
    await _signed_in(as_user, "tina", "Tina Stranger")
    await _signed_in(as_user, "svc", "Billing", role="service")
    r = await alice.post("/api/v1/tickets", json={"title": "Tap", "participantIds": ["tom"]})
    assert r.status_code == 201, r.text

    r = await alice.get("/api/v1/users", params={"q": "t"})
    assert r.status_code == 200, r.text
    assert r.json() == {"items": [{"id": "tom", "name": "Tom Reyes", "role": "member"}], "nextCursor": None}
    # No email in the answer, and an email is not searchable by a member (it would leak letter by letter).
    assert (await alice.get("/api/v1/users", params={"q": "tom@example"})).json()["items"] == []
    # The caller is not among the results; an empty query lists everyone visible.
    assert [p["id"] for p in (await alice.get("/api/v1/users")).json()["items"]] == ["tom"]
    # A stranger finds nobody: no ticket in common.
    tina = await _signed_in(as_user, "tina", "Tina Stranger")
    assert (await tina.get("/api/v1/users", params={"q": "Alice"})).json()["items"] == []


async def test_admins_find_everyone_by_name_id_or_email_with_keyset_pages(as_user):
    root = await _signed_in(as_user, "root", "Root Admin", role="admin")
    for i in range(5):
        await _signed_in(as_user, f"tech-{i}", f"Technician {i}")
    await _signed_in(as_user, "svc", "Billing", role="service")
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": "tech", "limit": 2} | ({"cursor": cursor} if cursor else {})
        body = (await root.get("/api/v1/users", params=params)).json()
        seen += [p["name"] for p in body["items"]]
        cursor = body["nextCursor"]
        if not cursor:
            break
    assert seen == [f"Technician {i}" for i in range(5)]
    found = (await root.get("/api/v1/users", params={"q": "tech-3@EXAMPLE"})).json()["items"]
    assert found == [{"id": "tech-3", "name": "Technician 3", "role": "member"}]
    # Services are machines, not people to add; the LIKE wildcards in q are taken literally.
    assert (await root.get("/api/v1/users", params={"q": "Billing"})).json()["items"] == []
    assert (await root.get("/api/v1/users", params={"q": "%"})).json()["items"] == []


async def test_bad_input_is_a_4xx_and_strangers_are_401(app, as_user):
    alice = await _signed_in(as_user, "alice", "Alice Carter")
    for params in ({"limit": 0}, {"limit": 51}, {"limit": "x"}, {"q": "x" * 101}):
        r = await alice.get("/api/v1/users", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["error"]["code"] == "validation_failed"
    r = await alice.get("/api/v1/users", params={"q": "a\x00b"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_url"
    r = await alice.get("/api/v1/users", params={"cursor": "not-a-cursor"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_cursor"
    r = await as_user("x").get("/api/v1/users", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
