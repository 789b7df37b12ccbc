"""Signed links given to one person stop working the moment that person may no longer see the file."""

from __future__ import annotations

import asyncio

import httpx
from tests.attachments.helpers import PDF, path_of, png, send, uploaded
from tests.chat.helpers import register, ticket_with

from ticket_comms.attachments import signing


async def test_a_removed_participant_loses_the_links_given_to_them(app, as_user):
    await register(app, "bob", "carol")
    alice, boss = as_user("alice"), as_user("boss", role="admin")
    tid = (await ticket_with(alice, "bob", "carol"))["id"]
    assert (await boss.get("/api/v1/me")).status_code == 200  # the admin exists from their first request
    image = await uploaded(alice, tid, "leak.png", png())
    assert (await send(alice, tid, image["id"], "Image")).status_code == 201
    pending = await uploaded(alice, tid, "quote.pdf", PDF)  # uploaded, not sent yet

    def link(user_id: str, attachment_id: str = image["id"], thumbnail: bool = False) -> str:
        return path_of(signing.signed_url(app.settings, attachment_id, user_id=user_id, thumbnail=thumbnail))

    async with httpx.AsyncClient(base_url=app.base_url) as anyone:  # no token: the link is the pass
        for url in (link("bob"), link("bob", thumbnail=True), link("alice"), link("boss")):
            assert (await anyone.get(url)).status_code == 200, url
        # An upload not yet sent is its uploader's alone, link or not.
        assert (await anyone.get(link("alice", pending["id"]))).status_code == 200
        assert (await anyone.get(link("bob", pending["id"]))).status_code == 404
        # The user is part of what is signed.
        swapped = link("bob").replace("user=bob", "user=carol")
        r = await anyone.get(swapped)
        assert r.status_code == 403 and r.json()["error"]["code"] == "bad_signature"
        assert (await anyone.get(link("bob").replace("&user=bob", ""))).status_code == 403
        assert (await anyone.get(link("ghost"))).status_code == 404

        assert (await boss.delete(f"/api/v1/tickets/{tid}/participants/bob")).status_code == 204
        for url in (link("bob"), link("bob", thumbnail=True)):
            r = await anyone.get(url)
            assert r.status_code == 404 and r.json()["error"]["code"] == "attachment_not_found"
        # Everyone else's links keep working.
        assert (await anyone.get(link("carol"))).status_code == 200
        assert (await anyone.get(link("boss"))).status_code == 200
        # Carol leaves: her link dies with her membership.
        assert (await as_user("carol").delete(f"/api/v1/tickets/{tid}/participants/carol")).status_code == 204
        assert (await anyone.get(link("carol"))).status_code == 404
        # Added back, bob's old link works again: it stands for him, not for a moment in time.
        assert (
            await boss.post(f"/api/v1/tickets/{tid}/participants", json={"userId": "bob"})
        ).status_code == 201
        assert (await anyone.get(link("bob"))).status_code == 200


async def test_ticket_lists_hand_out_links_bound_to_the_caller(app, as_user):
    await register(app, "bob")
    alice, boss = as_user("alice"), as_user("boss", role="admin")
    tid = (await ticket_with(alice, "bob"))["id"]
    image = await uploaded(alice, tid, "leak.png", png())
    assert (await send(alice, tid, image["id"], "Image")).status_code == 201
    listed = (await as_user("bob").get("/api/v1/tickets")).json()["items"][0]["lastMessage"]["attachment"]
    one = (await as_user("bob").get(f"/api/v1/tickets/{tid}")).json()["lastMessage"]["attachment"]
    for attachment in (listed, one):
        assert "user=bob" in attachment["url"] and "user=bob" in attachment["thumbnailUrl"]
    async with httpx.AsyncClient(base_url=app.base_url) as anyone:
        assert (await anyone.get(path_of(listed["url"]))).status_code == 200
        assert (await boss.delete(f"/api/v1/tickets/{tid}/participants/bob")).status_code == 204
        assert (await anyone.get(path_of(listed["url"]))).status_code == 404
        assert (await anyone.get(path_of(listed["thumbnailUrl"]))).status_code == 404


def test_for_viewer_binds_both_links_and_leaves_other_messages_alone(app):
    text = {"id": "m1", "attachment": None, "content": "hi"}
    assert signing.for_viewer(text, app.settings, "bob") is text
    message = {"id": "m2", "attachment": {"id": "a1", "url": "x", "thumbnailUrl": None}}
    bound = signing.for_viewer(message, app.settings, "bob")
    assert bound["attachment"]["url"] == signing.signed_url(app.settings, "a1", user_id="bob")
    assert bound["attachment"]["thumbnailUrl"] is None and message["attachment"]["url"] == "x"


def _bound_to(attachment: dict, user_id: str) -> bool:
    return all(
        f"user={user_id}&" in url
        for url in (attachment["url"], attachment["thumbnailUrl"])
        if url is not None
    )


async def test_every_message_answered_or_broadcast_carries_links_of_its_reader_only(app, as_user):
    from tests.realtime.conftest import open_socket

    await register(app, "bob", "carol")
    alice, boss = as_user("alice"), as_user("boss", role="admin")
    tid = (await ticket_with(alice, "bob", "carol"))["id"]
    assert (await boss.get("/api/v1/me")).status_code == 200
    socks = {
        u: await open_socket(app.base_url, u, app.token(u, name=u.title())) for u in ("alice", "bob", "carol")
    }
    watcher = await open_socket(app.base_url, "boss", app.token("boss", "admin"))
    try:
        assert (await watcher.call("joinTicket", tid))["ok"]
        image = await uploaded(alice, tid, "plan.png", png())
        assert "user=alice&" in image["url"], image  # the upload's own answer is the uploader's
        sent = await alice.post(
            f"/api/v1/tickets/{tid}/messages",
            json={"type": "Image", "attachmentId": image["id"], "content": "floorplan"},
        )
        assert sent.status_code == 201
        assert _bound_to(sent.json()["attachment"], "alice")
        mid = sent.json()["id"]

        # Broadcasts: each participant's sockets get their own links; the admin watching gets none.
        for user_id, sock in socks.items():
            event = await sock.wait("newMessage", lambda d: d["message"]["id"] == mid)
            assert _bound_to(event["message"]["attachment"], user_id), (user_id, event)
            await asyncio.sleep(0.05)
            assert len(sock.got("newMessage", lambda d: d["message"]["id"] == mid)) == 1
        watched = await watcher.wait("newMessage", lambda d: d["message"]["id"] == mid)
        assert (
            watched["message"]["attachment"]["url"] is None
            and watched["message"]["attachment"]["thumbnailUrl"] is None
        )
        assert len(watcher.got("newMessage")) == 1

        bob = as_user("bob")
        answers = {
            "history": (await bob.get(f"/api/v1/tickets/{tid}/messages")).json()["items"][-1],
            "search": (
                await bob.get(f"/api/v1/tickets/{tid}/messages/search", params={"q": "floorplan"})
            ).json()["items"][0],
            "search all": (await bob.get("/api/v1/search/messages", params={"q": "floorplan"})).json()[
                "items"
            ][0],
            "react": (await bob.put(f"/api/v1/tickets/{tid}/messages/{mid}/reactions/👍")).json(),
            "join": (await socks["bob"].call("joinTicket", tid))["messages"][-1],
            "sync": (await socks["bob"].call("sync", {"ticketId": tid, "afterSeq": 0}))["messages"][-1],
        }
        for where, message in answers.items():
            assert message["id"] == mid and _bound_to(message["attachment"], "bob"), (where, message)
        edited = await alice.patch(f"/api/v1/tickets/{tid}/messages/{mid}", json={"content": "floorplan v2"})
        assert _bound_to(edited.json()["attachment"], "alice")
        for user_id, sock in socks.items():
            event = await sock.wait("messageUpdated", lambda d: d["message"]["content"] == "floorplan v2")
            assert _bound_to(event["message"]["attachment"], user_id), (user_id, event)

        # Bob's broadcast link dies with his membership; a link bound to no one never worked.
        bobs = path_of((await socks["bob"].wait("newMessage"))["message"]["attachment"]["url"])
        async with httpx.AsyncClient(base_url=app.base_url) as anyone:
            assert (await anyone.get(bobs)).status_code == 200
            unbound = path_of(signing.signed_url(app.settings, image["id"]))
            r = await anyone.get(unbound)
            assert r.status_code == 403 and r.json()["error"]["code"] == "bad_signature"
            assert (await boss.delete(f"/api/v1/tickets/{tid}/participants/bob")).status_code == 204
            assert (await anyone.get(bobs)).status_code == 404
    finally:
        for sock in [*socks.values(), watcher]:
            await sock.client.disconnect()
