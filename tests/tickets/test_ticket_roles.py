"""Permissions inside a ticket over HTTP: who may change what, transitions, the participant cap."""

from __future__ import annotations

from tests.chat.helpers import register, ticket_with
from tests.realtime.conftest import open_socket


async def _history(client, tid: str) -> list[str]:
    return [m["content"] for m in (await client.get(f"/api/v1/tickets/{tid}/messages")).json()["items"]]


async def test_an_ordinary_participant_cannot_complete_reassign_or_invite(app, as_user):
    await register(app, "bob", "tech", "eve")
    alice, bob = as_user("alice"), as_user("bob")
    tid = (await ticket_with(alice, "bob"))["id"]
    await as_user("boss", role="admin").patch(f"/api/v1/tickets/{tid}", json={"assigneeId": "tech"})
    for method, path, body in (
        ("PATCH", "", {"status": "Completed"}),
        ("PATCH", "", {"status": "InProgress"}),
        ("PATCH", "", {"assigneeId": "bob"}),
        ("PATCH", "", {"title": "Mine now"}),
        ("POST", "/participants", {"userId": "eve"}),
        ("DELETE", "/participants/alice", None),
    ):
        r = await bob.request(method, f"/api/v1/tickets/{tid}{path}", json=body)
        assert r.status_code == 403, (method, path, body, r.text)
        assert r.json()["error"]["code"] == "not_allowed"
    ticket = (await alice.get(f"/api/v1/tickets/{tid}")).json()
    assert ticket["status"] == "Open" and ticket["assigneeId"] == "tech" and ticket["title"] == "A ticket"
    # Leaving is theirs to do.
    assert (await bob.delete(f"/api/v1/tickets/{tid}/participants/bob")).status_code == 204


async def test_the_creator_edits_invites_while_open_and_may_only_cancel(app, as_user):
    await register(app, "bob", "carol", "tech")
    alice = as_user("alice", name="Alice")
    tid = (await ticket_with(alice))["id"]
    r = await alice.patch(f"/api/v1/tickets/{tid}", json={"title": "Boiler", "description": "Cold water"})
    assert r.status_code == 200, r.text
    assert (
        await alice.post(f"/api/v1/tickets/{tid}/participants", json={"userId": "bob"})
    ).status_code == 201
    r = await alice.patch(f"/api/v1/tickets/{tid}", json={"assigneeId": "tech"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_allowed"
    r = await alice.patch(f"/api/v1/tickets/{tid}", json={"status": "Completed"})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "invalid_transition"
    assert r.json()["error"]["details"] == {"from": "Open", "to": "Completed", "allowed": ["Cancelled"]}
    r = await alice.patch(f"/api/v1/tickets/{tid}", json={"status": "OnHold"})
    assert r.status_code == 403
    # A refused part refuses the whole request: the title did not change either.
    r = await alice.patch(f"/api/v1/tickets/{tid}", json={"title": "Changed", "assigneeId": "tech"})
    assert r.status_code == 403
    assert (await alice.get(f"/api/v1/tickets/{tid}")).json()["title"] == "Boiler"
    r = await alice.patch(f"/api/v1/tickets/{tid}", json={"status": "Cancelled"})
    assert r.status_code == 200 and r.json()["status"] == "Cancelled"
    # Once it is not Open any more, the creator cannot invite or reopen.
    r = await alice.post(f"/api/v1/tickets/{tid}/participants", json={"userId": "carol"})
    assert r.status_code == 403
    assert (await alice.patch(f"/api/v1/tickets/{tid}", json={"status": "Open"})).status_code == 403
    assert await _history(alice, tid) == [
        'Alice renamed the ticket to "Boiler"',
        "Alice updated the description",
        "Alice added Bob",
        "Alice changed the status from Open to Cancelled",
    ]


async def test_the_assignee_works_the_ticket_and_hands_it_over(app, as_user):
    await register(app, "alice", "tech", "tech2", "bob")
    alice, tech = as_user("alice"), as_user("tech", name="Tech")
    tid = (await ticket_with(alice, "bob"))["id"]
    boss = as_user("boss", role="admin", name="Boss")
    assert (await boss.patch(f"/api/v1/tickets/{tid}", json={"assigneeId": "tech"})).status_code == 200
    for status in ("Assigned", "InProgress", "OnHold", "InProgress", "Completed"):
        r = await tech.patch(f"/api/v1/tickets/{tid}", json={"status": status})
        assert r.status_code == 200, (status, r.text)
    r = await tech.patch(f"/api/v1/tickets/{tid}", json={"status": "Open"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "not_allowed"
    # The chat says the statuses as the badges do.
    assert "Tech changed the status from In progress to On hold" in await _history(alice, tid)
    r = await tech.patch(f"/api/v1/tickets/{tid}", json={"status": "InProgress"})
    assert r.status_code == 409 and r.json()["error"]["details"]["allowed"] == []
    # Reopening: admins and services only.
    svc = as_user("billing", role="service", name="Billing")
    r = await svc.patch(f"/api/v1/tickets/{tid}", json={"status": "Open"})
    assert r.status_code == 200 and r.json()["status"] == "Open"
    # Hand over, not drop; and never remove the creator.
    r = await tech.patch(f"/api/v1/tickets/{tid}", json={"assigneeId": None})
    assert r.status_code == 403
    assert (await tech.delete(f"/api/v1/tickets/{tid}/participants/alice")).status_code == 403
    assert (await tech.delete(f"/api/v1/tickets/{tid}/participants/bob")).status_code == 204
    r = await tech.patch(f"/api/v1/tickets/{tid}", json={"assigneeId": "tech2"})
    assert r.status_code == 200 and r.json()["assigneeId"] == "tech2"
    # The former assignee is an ordinary participant now.
    assert (await tech.patch(f"/api/v1/tickets/{tid}", json={"status": "Assigned"})).status_code == 403
    history = await _history(alice, tid)
    assert "Billing changed the status from Completed to Open" in history
    assert "Tech removed Bob" in history
    assert history[-1] == "Tech assigned the ticket to Tech2"


async def test_outsiders_get_404_for_every_change(app, as_user):
    await register(app, "bob")
    tid = (await ticket_with(as_user("alice")))["id"]
    mallory = as_user("mallory")
    for method, path, body in (
        ("PATCH", "", {"status": "Cancelled"}),
        ("PATCH", "", {"title": "x"}),
        ("POST", "/participants", {"userId": "mallory"}),
        ("POST", "/participants", {"userId": "bob"}),
        ("DELETE", "/participants/alice", None),
    ):
        r = await mallory.request(method, f"/api/v1/tickets/{tid}{path}", json=body)
        assert r.status_code == 404 and r.json()["error"]["code"] == "ticket_not_found", (method, path)


async def test_unknown_ids_are_answered_alike_when_adding(app, as_user):
    await register(app, "bob")
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    r = await alice.post(f"/api/v1/tickets/{tid}/participants", json={"userId": "ghost"})
    assert r.status_code == 422
    assert r.json() == {
        "error": {"code": "unknown_users", "message": "One or more of these users cannot be added."}
    }


async def test_a_ticket_has_at_most_50_participants(app, as_user):
    people = [f"p{i:02d}" for i in range(51)]
    await register(app, *people)
    alice = as_user("alice")
    r = await alice.post("/api/v1/tickets", json={"title": "Mass mail", "participantIds": people[:50]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "too_many_participants"
    assert await app.ctx.db.fetch_one("SELECT 1 FROM tickets") is None
    tid = (await ticket_with(alice, *people[:49]))["id"]  # alice and 49 others: the cap
    r = await alice.post(f"/api/v1/tickets/{tid}/participants", json={"userId": people[49]})
    assert r.status_code == 422 and r.json()["error"]["details"] == {"max": 50}
    # Assigning someone new would add a 51st participant: refused, and nothing changed.
    boss = as_user("boss", role="admin")
    r = await boss.patch(f"/api/v1/tickets/{tid}", json={"assigneeId": people[50], "status": "Assigned"})
    assert r.status_code == 422
    ticket = (await alice.get(f"/api/v1/tickets/{tid}")).json()
    assert ticket["assigneeId"] is None and ticket["status"] == "Open"
    assert len((await alice.get(f"/api/v1/tickets/{tid}/participants")).json()) == 50
    # Assigning someone already in the ticket adds nobody.
    r = await boss.patch(f"/api/v1/tickets/{tid}", json={"assigneeId": people[0]})
    assert r.status_code == 200


async def test_removing_the_assignee_unassigns_the_ticket(app, as_user):
    await register(app, "tech", "tech2")
    alice, boss = as_user("alice"), as_user("boss", role="admin", name="Boss")
    tid = (await ticket_with(alice))["id"]
    await boss.patch(f"/api/v1/tickets/{tid}", json={"assigneeId": "tech", "status": "Assigned"})
    assert (await boss.delete(f"/api/v1/tickets/{tid}/participants/tech")).status_code == 204
    ticket = (await alice.get(f"/api/v1/tickets/{tid}")).json()
    assert ticket["assigneeId"] is None and ticket["status"] == "Assigned"
    assert (await _history(alice, tid))[-2:] == ["Boss removed Tech", "Boss unassigned the ticket"]
    # An assignee who leaves hands the ticket back too.
    await boss.patch(f"/api/v1/tickets/{tid}", json={"assigneeId": "tech2"})
    tech2 = as_user("tech2", name="Tech2")
    assert (await tech2.delete(f"/api/v1/tickets/{tid}/participants/tech2")).status_code == 204
    assert (await alice.get(f"/api/v1/tickets/{tid}")).json()["assigneeId"] is None
    assert (await _history(alice, tid))[-2:] == ["Tech2 left the ticket", "Tech2 unassigned the ticket"]


async def test_ticket_updates_carry_no_unread_count_of_the_actor(app, as_user):
    await register(app, "bob")
    alice = as_user("alice")
    tid = (await ticket_with(alice, "bob"))["id"]
    for i in range(3):
        await as_user("bob").post(f"/api/v1/tickets/{tid}/messages", json={"content": f"hi {i}"})
    bob = await open_socket(app.base_url, "bob", app.token("bob", name="Bob"))
    try:
        r = await alice.patch(f"/api/v1/tickets/{tid}", json={"title": "Renamed"})
        assert r.status_code == 200 and r.json()["unreadCount"] == 3  # alice's own answer has hers
        update = await bob.wait("ticketUpdate")
        assert update["ticket"]["title"] == "Renamed"
        assert "unreadCount" not in update["ticket"]
    finally:
        await bob.client.disconnect()
