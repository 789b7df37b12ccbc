"""Retries of Image/File messages, clientId scoped to (sender, ticket), and what a reaction may be."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

from tests.attachments.helpers import PDF, png, uploaded
from tests.chat.helpers import ticket_with


async def test_retrying_an_image_or_file_message_returns_the_first(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    url = f"/api/v1/tickets/{tid}/messages"
    for type_, name, data in (("Image", "p.png", png()), ("File", "doc.pdf", PDF)):
        att = await uploaded(alice, tid, name, data)
        body = {"type": type_, "attachmentId": att["id"], "clientId": f"retry-{type_}"}
        first = await alice.post(url, json=body)
        assert first.status_code == 201, first.text
        again = await alice.post(url, json=body)
        assert again.status_code == 200, again.text
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["attachment"]["id"] == att["id"]
    # Racing retries: one message each, every answer is that message.
    att = await uploaded(alice, tid, "race.png", png())
    body = {"type": "Image", "attachmentId": att["id"], "clientId": "race-img"}
    answers = await asyncio.gather(*(alice.post(url, json=body) for _ in range(6)))
    assert sorted(r.status_code for r in answers) == [200] * 5 + [201], [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    items = (await alice.get(url)).json()["items"]
    assert len(items) == 3
    # The same attachment under another clientId is still refused: it is not a retry.
    other = await alice.post(url, json={**body, "clientId": "another"})
    assert other.status_code == 422 and other.json()["error"]["code"] == "attachment_used"


async def test_client_id_is_scoped_to_sender_and_ticket(app, as_user):
    alice = as_user("alice")
    one = (await ticket_with(alice, title="one"))["id"]
    two = (await ticket_with(alice, title="two"))["id"]
    a = await alice.post(f"/api/v1/tickets/{one}/messages", json={"content": "in one", "clientId": "1"})
    b = await alice.post(f"/api/v1/tickets/{two}/messages", json={"content": "in two", "clientId": "1"})
    assert a.status_code == 201 and b.status_code == 201, (a.text, b.text)
    assert a.json()["id"] != b.json()["id"] and b.json()["ticketId"] == two
    again = await alice.post(f"/api/v1/tickets/{two}/messages", json={"content": "in two", "clientId": "1"})
    assert again.status_code == 200 and again.json()["id"] == b.json()["id"]


async def test_a_reaction_is_exactly_one_emoji(app, as_user):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    mid = (await alice.post(f"/api/v1/tickets/{tid}/messages", json={"content": "hi"})).json()["id"]
    url = f"/api/v1/tickets/{tid}/messages/{mid}/reactions/"
    for good in ("👍", "👍🏽", "👨‍👩‍👧", "🇫🇷", "❤️", "#️⃣"):
        r = await alice.put(url + quote(good))
        assert r.status_code == 200, (good, r.text)
        assert "alice" in r.json()["reactions"][good]
    for bad in ("a", "ok", "👍👍", "😀x", "lol" * 10, "\u200d", "1"):
        r = await alice.put(url + quote(bad))
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["code"] == "invalid_reaction"
    assert set((await alice.get(f"/api/v1/tickets/{tid}/messages")).json()["items"][0]["reactions"]) == {
        "👍",
        "👍🏽",
        "👨‍👩‍👧",
        "🇫🇷",
        "❤️",
        "#️⃣",
    }


async def test_distinct_reactions_per_message_are_capped(app, as_user):
    from ticket_comms.chat.reactions import MAX_DISTINCT_REACTIONS

    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    mid = (await alice.post(f"/api/v1/tickets/{tid}/messages", json={"content": "hi"})).json()["id"]
    url = f"/api/v1/tickets/{tid}/messages/{mid}/reactions/"
    emojis = [chr(0x1F600 + i) for i in range(MAX_DISTINCT_REACTIONS + 5)]
    results = await asyncio.gather(*(alice.put(url + e) for e in emojis))
    ok = [r for r in results if r.status_code == 200]
    refused = [r for r in results if r.status_code == 422]
    assert len(ok) == MAX_DISTINCT_REACTIONS and len(refused) == 5, [r.text for r in results]
    assert all(r.json()["error"]["code"] == "too_many_reactions" for r in refused)
    # An existing kind still takes more people.
    taken = next(e for e, r in zip(emojis, results, strict=True) if r.status_code == 200)
    bob = as_user("bob", role="admin")
    r = await bob.put(url + taken)
    assert r.status_code == 200 and r.json()["reactions"][taken] == ["alice", "bob"]
