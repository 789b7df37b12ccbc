import asyncio

from tests.chat.helpers import register, ticket_with


async def _send(client, tid, content, **extra):
    r = await client.post(f"/api/v1/tickets/{tid}/messages", json={"content": content, **extra})
    assert r.status_code in (200, 201), r.text
    return r.json()


async def test_send_and_page_through_history(app, as_user):
    await register(app, "bob")
    alice, bob = as_user("alice"), as_user("bob")
    tid = (await ticket_with(alice, "bob"))["id"]
    sent = [await _send(alice if i % 2 else bob, tid, f"message {i}") for i in range(1, 8)]
    assert [m["seq"] for m in sent] == list(range(1, 8))
    m = sent[0]
    assert set(m) >= {
        "id",
        "ticketId",
        "seq",
        "senderId",
        "type",
        "content",
        "attachment",
        "replyToId",
        "clientId",
        "createdAt",
        "editedAt",
        "deletedAt",
        "reactions",
    }
    assert (
        m["type"] == "Text" and m["senderId"] == "alice" and m["attachment"] is None and m["reactions"] == {}
    )
    latest = (await alice.get(f"/api/v1/tickets/{tid}/messages", params={"limit": 3})).json()
    assert [x["seq"] for x in latest["items"]] == [5, 6, 7] and latest["hasMore"] is True
    older = (await alice.get(f"/api/v1/tickets/{tid}/messages", params={"limit": 3, "beforeSeq": 5})).json()
    assert [x["seq"] for x in older["items"]] == [2, 3, 4] and older["hasMore"] is True
    oldest = (await alice.get(f"/api/v1/tickets/{tid}/messages", params={"limit": 3, "beforeSeq": 2})).json()
    assert [x["seq"] for x in oldest["items"]] == [1] and oldest["hasMore"] is False
    after = (await alice.get(f"/api/v1/tickets/{tid}/messages", params={"afterSeq": 4, "limit": 2})).json()
    assert [x["seq"] for x in after["items"]] == [5, 6] and after["hasMore"] is True
    r = await alice.get(f"/api/v1/tickets/{tid}/messages", params={"afterSeq": 1, "beforeSeq": 3})
    assert r.status_code == 422


async def test_reply_edit_delete_and_reactions(app, as_user):
    await register(app, "bob")
    alice, bob, admin = as_user("alice"), as_user("bob"), as_user("boss", role="admin")
    tid = (await ticket_with(alice, "bob"))["id"]
    first = await _send(alice, tid, "first")
    reply = await _send(bob, tid, "a reply", replyToId=first["id"])
    assert reply["replyToId"] == first["id"]
    other_tid = (await ticket_with(alice))["id"]
    r = await alice.post(
        f"/api/v1/tickets/{other_tid}/messages", json={"content": "x", "replyToId": first["id"]}
    )
    assert r.status_code == 422

    url = f"/api/v1/tickets/{tid}/messages/{first['id']}"
    assert (await bob.patch(url, json={"content": "hijack"})).status_code == 403
    edited = (await alice.patch(url, json={"content": " edited "})).json()
    assert edited["content"] == "edited" and edited["editedAt"] is not None
    assert (await alice.patch(url, json={"content": "   "})).status_code == 422

    r = await bob.put(f"{url}/reactions/👍")
    assert r.status_code == 200 and r.json()["reactions"] == {"👍": ["bob"]}
    await alice.put(f"{url}/reactions/👍")
    await alice.put(f"{url}/reactions/👍")  # idempotent
    r = await alice.put(f"{url}/reactions/🎉")
    assert r.json()["reactions"] == {"👍": ["bob", "alice"], "🎉": ["alice"]}
    r = await bob.delete(f"{url}/reactions/👍")
    assert r.json()["reactions"] == {"👍": ["alice"], "🎉": ["alice"]}

    assert (await bob.delete(url)).status_code == 403
    assert (await admin.delete(f"/api/v1/tickets/{tid}/messages/{reply['id']}")).status_code == 204
    assert (await alice.delete(url)).status_code == 204
    items = (await bob.get(f"/api/v1/tickets/{tid}/messages")).json()["items"]
    assert [(m["seq"], m["content"], m["deletedAt"] is not None, m["reactions"]) for m in items] == [
        (1, "", True, {}),
        (2, "", True, {}),
    ]
    assert (await alice.patch(url, json={"content": "again"})).status_code == 422
    missing = f"/api/v1/tickets/{tid}/messages/00000000-0000-0000-0000-000000000000"
    assert (await alice.patch(missing, json={"content": "x"})).status_code == 404


async def test_client_id_makes_retries_safe(app, as_user):
    await register(app, "bob")
    alice, bob = as_user("alice"), as_user("bob")
    tid = (await ticket_with(alice, "bob"))["id"]
    url = f"/api/v1/tickets/{tid}/messages"
    first = await alice.post(url, json={"content": "once", "clientId": "c-1"})
    assert first.status_code == 201
    again = await alice.post(url, json={"content": "once", "clientId": "c-1"})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    # Another sender may use the same clientId.
    assert (await bob.post(url, json={"content": "mine", "clientId": "c-1"})).status_code == 201
    # Racing retries create one message and leave no gap in seq.
    results = await asyncio.gather(
        *(alice.post(url, json={"content": "race", "clientId": "c-2"}) for _ in range(10))
    )
    assert sorted(r.status_code for r in results) == [200] * 9 + [201]
    assert len({r.json()["id"] for r in results}) == 1
    seqs = [m["seq"] for m in (await alice.get(url)).json()["items"]]
    assert seqs == [1, 2, 3]


async def test_seq_is_gapless_under_fifty_concurrent_senders(app, as_user):
    users = [f"user{i}" for i in range(10)]
    await register(app, *users)
    alice = as_user("alice")
    tid = (await ticket_with(alice, *users))["id"]
    clients = [as_user(u) for u in users]
    results = await asyncio.gather(
        *(
            clients[i % 10].post(f"/api/v1/tickets/{tid}/messages", json={"content": f"m{i}"})
            for i in range(60)
        )
    )
    assert all(r.status_code == 201 for r in results)
    assert sorted(r.json()["seq"] for r in results) == list(range(1, 61))
    items = (await alice.get(f"/api/v1/tickets/{tid}/messages", params={"limit": 100})).json()["items"]
    assert [m["seq"] for m in items] == list(range(1, 61))


async def test_read_marks_move_forward_only_and_drive_unread_counts(app, as_user):
    await register(app, "bob")
    alice, bob = as_user("alice"), as_user("bob")
    t1 = (await ticket_with(alice, "bob"))["id"]
    t2 = (await ticket_with(alice, "bob"))["id"]
    for i in range(4):
        await _send(alice, t1, f"hello {i}")
    await _send(alice, t2, "other")
    await _send(bob, t2, "bob's own")  # own messages are never unread, and move bob's mark
    assert (await bob.get("/api/v1/me/unread")).json() == {t1: 4}
    assert (await alice.get("/api/v1/me/unread")).json() == {t2: 1}
    r = await bob.post(f"/api/v1/tickets/{t1}/read", json={"upToSeq": 3})
    assert r.status_code == 200
    assert r.json()["lastReadSeq"] == 3 and r.json()["userId"] == "bob" and r.json()["lastReadAt"]
    assert (await bob.get("/api/v1/me/unread")).json() == {t1: 1}
    r = await bob.post(f"/api/v1/tickets/{t1}/read", json={"upToSeq": 1})
    assert r.json()["lastReadSeq"] == 3
    r = await bob.post(f"/api/v1/tickets/{t1}/read", json={"upToSeq": 99})  # clamped to the thread's end
    assert r.json()["lastReadSeq"] == 4
    await _send(alice, t1, "more")
    r = await bob.post(f"/api/v1/tickets/{t1}/read")
    assert r.json()["lastReadSeq"] == 5
    assert (await bob.get("/api/v1/me/unread")).json() == {}
    parts = {p["userId"]: p for p in (await alice.get(f"/api/v1/tickets/{t1}/participants")).json()}
    assert parts["bob"]["lastReadSeq"] == 5
    assert (await as_user("mallory").post(f"/api/v1/tickets/{t1}/read")).status_code == 404
    assert (await bob.post(f"/api/v1/tickets/{t1}/read", json={"upToSeq": -1})).status_code == 422


async def test_only_participants_and_admins_reach_a_thread(app, as_user):
    alice, mallory, admin = as_user("alice"), as_user("mallory"), as_user("boss", role="admin")
    tid = (await ticket_with(alice))["id"]
    msg = await _send(alice, tid, "secret")
    base = f"/api/v1/tickets/{tid}"
    for method, path, body in [
        ("GET", f"{base}/messages", None),
        ("POST", f"{base}/messages", {"content": "x"}),
        ("PATCH", f"{base}/messages/{msg['id']}", {"content": "x"}),
        ("DELETE", f"{base}/messages/{msg['id']}", None),
        ("PUT", f"{base}/messages/{msg['id']}/reactions/x", None),
        ("GET", f"{base}/messages/search?q=secret", None),
        ("GET", f"{base}/participants", None),
        ("POST", f"{base}/participants", {"userId": "mallory"}),
        ("GET", base, None),
    ]:
        r = await mallory.request(method, path, json=body)
        assert r.status_code == 404, (method, path, r.text)
        assert r.json()["error"]["code"] == "ticket_not_found"
    assert (await admin.get(f"{base}/messages")).json()["items"][0]["content"] == "secret"
    assert (await admin.post(f"{base}/messages", json={"content": "admin here"})).status_code == 201
    assert (await admin.delete(f"{base}/messages/{msg['id']}")).status_code == 204
