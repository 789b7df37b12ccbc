import asyncio

from tests.chat.helpers import register, ticket_with


async def test_create_makes_the_creator_and_participants_members(app, as_user):
    await register(app, "bob", "carol")
    alice = as_user("alice")
    r = await alice.post(
        "/api/v1/tickets",
        json={"title": "  Leaking tap ", "description": "Kitchen", "participantIds": ["bob", "bob"]},
    )
    assert r.status_code == 201, r.text
    ticket = r.json()
    assert ticket["title"] == "Leaking tap"
    assert ticket["status"] == "Open"
    assert ticket["createdBy"] == "alice"
    assert ticket["unreadCount"] == 0 and ticket["lastMessage"] is None
    parts = (await alice.get(f"/api/v1/tickets/{ticket['id']}/participants")).json()
    assert sorted(p["userId"] for p in parts) == ["alice", "bob"]
    assert (await as_user("bob").get(f"/api/v1/tickets/{ticket['id']}")).status_code == 200
    r = await as_user("carol").get(f"/api/v1/tickets/{ticket['id']}")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "ticket_not_found"
    assert (await as_user("boss", role="admin").get(f"/api/v1/tickets/{ticket['id']}")).status_code == 200


async def test_unknown_participants_are_refused_without_saying_which_ids_exist(app, as_user):
    await register(app, "bob")
    alice = as_user("alice")
    answers = []
    for ids in (["ghost"], ["bob", "ghost"], ["ghost", "phantom"]):
        r = await alice.post("/api/v1/tickets", json={"title": "x", "participantIds": ids})
        assert r.status_code == 422
        answers.append(r.json())
    # The same answer whichever of the ids exist, with no list of the unknown ones.
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["error"]["code"] == "unknown_users" and "details" not in answers[0]["error"]
    assert "ghost" not in str(answers[0])
    assert await app.ctx.db.fetch_one("SELECT 1 FROM tickets") is None
    # Admins (who can register users anyway) are told which.
    r = await as_user("boss", role="admin").post(
        "/api/v1/tickets", json={"title": "x", "participantIds": ["bob", "ghost"]}
    )
    assert r.status_code == 422 and r.json()["error"]["details"] == {"userIds": ["ghost"]}


async def test_list_is_newest_activity_first_with_unread_and_last_message_and_keyset_pages(app, as_user):
    await register(app, "bob")
    alice, bob = as_user("alice"), as_user("bob")
    ids = []
    for i in range(5):
        r = await alice.post("/api/v1/tickets", json={"title": f"T{i}", "participantIds": ["bob"]})
        ids.append(r.json()["id"])
    await alice.post(f"/api/v1/tickets/{ids[1]}/messages", json={"content": "ping"})
    page1 = (await bob.get("/api/v1/tickets", params={"limit": 2})).json()
    assert [t["id"] for t in page1["items"]] == [ids[1], ids[4]]
    assert page1["items"][0]["unreadCount"] == 1
    assert page1["items"][0]["lastMessage"]["content"] == "ping"
    page2 = (await bob.get("/api/v1/tickets", params={"limit": 2, "cursor": page1["nextCursor"]})).json()
    page3 = (await bob.get("/api/v1/tickets", params={"limit": 2, "cursor": page2["nextCursor"]})).json()
    assert [t["id"] for t in page2["items"] + page3["items"]] == [ids[3], ids[2], ids[0]]
    assert page3["nextCursor"] is None
    assert (await as_user("carol").get("/api/v1/tickets")).json() == {"items": [], "nextCursor": None}
    everything = (await as_user("boss", role="admin").get("/api/v1/tickets")).json()
    assert len(everything["items"]) == 5
    assert (await bob.get("/api/v1/tickets", params={"cursor": "garbage!"})).status_code == 400


async def test_patch_changes_post_system_messages_and_assignment_adds_the_assignee(app, as_user):
    await register(app, "tech")
    alice = as_user("alice", name="Alice")
    ticket = await ticket_with(alice)
    tid = ticket["id"]
    boss = as_user("boss", role="admin", name="Boss")
    r = await boss.patch(f"/api/v1/tickets/{tid}", json={"assigneeId": "tech", "status": "Assigned"})
    assert r.status_code == 200, r.text
    assert r.json()["assigneeId"] == "tech" and r.json()["status"] == "Assigned"
    tech = as_user("tech")
    history = (await tech.get(f"/api/v1/tickets/{tid}/messages")).json()["items"]
    assert [m["type"] for m in history] == ["System", "System"]
    assert all(m["senderId"] is None for m in history)
    assert history[0]["content"] == "Boss assigned the ticket to Tech"
    assert history[1]["content"] == "Boss changed the status from Open to Assigned"
    # Unchanged values post nothing (and need no permission).
    assert (await alice.patch(f"/api/v1/tickets/{tid}", json={"status": "Assigned"})).status_code == 200
    assert len((await tech.get(f"/api/v1/tickets/{tid}/messages")).json()["items"]) == 2
    # System messages are not unread.
    assert (await tech.get("/api/v1/me/unread")).json() == {}


async def test_patch_validation(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    boss = as_user("boss", role="admin")
    for body in ({"status": "Closed"}, {"title": ""}, {"assigneeId": "nobody"}, {"title": 5}):
        r = await boss.patch(f"/api/v1/tickets/{tid}", json=body)
        assert r.status_code == 422, (body, r.text)
        assert "error" in r.json()
    r = await as_user("mallory").patch(f"/api/v1/tickets/{tid}", json={"status": "Completed"})
    assert r.status_code == 404


async def test_participants_add_remove_and_mute(app, as_user):
    await register(app, "bob", "carol")
    alice, bob, carol = as_user("alice"), as_user("bob"), as_user("carol")
    boss = as_user("boss", role="admin", name="Boss")
    tid = (await ticket_with(alice, "bob"))["id"]
    r = await alice.post(f"/api/v1/tickets/{tid}/participants", json={"userId": "carol"})
    assert r.status_code == 201, r.text
    assert r.json()["userId"] == "carol"
    again = await alice.post(f"/api/v1/tickets/{tid}/participants", json={"userId": "carol"})
    assert again.status_code == 200
    assert (await carol.get(f"/api/v1/tickets/{tid}/messages")).status_code == 200
    # Another participant may only leave; the creator may not remove anyone.
    assert (await carol.delete(f"/api/v1/tickets/{tid}/participants/bob")).status_code == 403
    assert (await alice.delete(f"/api/v1/tickets/{tid}/participants/carol")).status_code == 403
    assert (await boss.delete(f"/api/v1/tickets/{tid}/participants/carol")).status_code == 204
    assert (await carol.get(f"/api/v1/tickets/{tid}/messages")).status_code == 404
    assert (await carol.post(f"/api/v1/tickets/{tid}/messages", json={"content": "hi"})).status_code == 404
    assert (await boss.delete(f"/api/v1/tickets/{tid}/participants/carol")).status_code == 404
    assert (await bob.delete(f"/api/v1/tickets/{tid}/participants/bob")).status_code == 204
    contents = [m["content"] for m in (await alice.get(f"/api/v1/tickets/{tid}/messages")).json()["items"]]
    assert contents == ["Alice added Carol", "Boss removed Carol", "Bob left the ticket"]
    r = await alice.patch(f"/api/v1/tickets/{tid}/participants/me", json={"isMuted": True})
    assert r.status_code == 200 and r.json()["isMuted"] is True
    parts = (await alice.get(f"/api/v1/tickets/{tid}/participants")).json()
    assert parts == [
        {"userId": "alice", "name": "Alice", "lastReadSeq": 0, "lastReadAt": None, "isMuted": True}
    ]
    assert (
        await alice.patch(f"/api/v1/tickets/{tid}/participants/me", json={"isMuted": "yes"})
    ).status_code == 422
    assert (
        await carol.patch(f"/api/v1/tickets/{tid}/participants/me", json={"isMuted": True})
    ).status_code == 404


async def test_concurrent_assignments_leave_one_consistent_state(app, as_user):
    await register(app, "t1", "t2")
    alice, boss = as_user("alice"), as_user("boss", role="admin")
    tid = (await ticket_with(alice))["id"]
    answers = await asyncio.gather(
        *(boss.patch(f"/api/v1/tickets/{tid}", json={"assigneeId": f"t{i % 2 + 1}"}) for i in range(10))
    )
    assert all(r.status_code == 200 for r in answers)
    seqs = [m["seq"] for m in (await alice.get(f"/api/v1/tickets/{tid}/messages?limit=200")).json()["items"]]
    assert seqs == list(range(1, len(seqs) + 1))
