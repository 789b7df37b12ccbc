"""Orphan uploads are swept after a day; attachment file names are found by message search."""

from __future__ import annotations

import asyncio

from tests.attachments.helpers import PDF, jpeg_with_gps, send, uploaded
from tests.chat.helpers import register, ticket_with
from tests.conftest import make_settings, start_app

from ticket_comms.attachments import service


async def _keys(app, attachment_id):
    async with app.ctx.db.connection() as conn:
        cur = await conn.execute(
            "SELECT storage_key, thumbnail_key FROM attachments WHERE id = %s", (attachment_id,)
        )
        return await cur.fetchone()


async def test_orphan_uploads_are_swept_after_a_day(backend):
    alice = backend.client("alice")
    tid = (await ticket_with(alice))["id"]
    old_orphan = await uploaded(alice, tid, "old.jpg", jpeg_with_gps((300, 300)))
    old_sent = await uploaded(alice, tid, "sent.pdf", PDF)
    new_orphan = await uploaded(alice, tid, "new.pdf", PDF)
    assert (await send(alice, tid, old_sent["id"])).status_code == 201
    orphan_keys = await _keys(backend.app, old_orphan["id"])
    async with backend.app.ctx.db.connection() as conn:
        await conn.execute(
            "UPDATE attachments SET created_at = now() - interval '25 hours' WHERE id = ANY(%s)",
            ([old_orphan["id"], old_sent["id"]],),
        )

    assert await service.sweep_orphans(backend.app.ctx) == 1
    storage = backend.app.ctx.storage
    assert not await storage.exists(orphan_keys["storage_key"])
    assert not await storage.exists(orphan_keys["thumbnail_key"])
    assert (await alice.get(f"/api/v1/attachments/{old_orphan['id']}")).status_code == 404
    for kept in (old_sent, new_orphan):
        assert await storage.exists((await _keys(backend.app, kept["id"]))["storage_key"])
        assert (await alice.get(f"/api/v1/attachments/{kept['id']}")).status_code == 200
    assert await service.sweep_orphans(backend.app.ctx) == 0
    # A swept upload can no longer be sent.
    r = await send(alice, tid, old_orphan["id"], "Image")
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_attachment"


async def test_sweep_works_in_batches(app, as_user, monkeypatch):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    for i in range(5):
        await uploaded(alice, tid, f"{i}.txt", b"x\n")
    async with app.ctx.db.connection() as conn:
        await conn.execute("UPDATE attachments SET created_at = now() - interval '2 days'")
    monkeypatch.setattr(service, "SWEEP_BATCH", 2)
    assert await service.sweep_orphans(app.ctx) == 5
    assert (await app.ctx.db.fetch_one("SELECT count(*) AS n FROM attachments"))["n"] == 0


async def test_file_names_are_searchable(app, as_user):
    await register(app, "bob")
    alice, bob = as_user("alice"), as_user("bob")
    tid = (await ticket_with(alice, "bob"))["id"]
    att = await uploaded(alice, tid, "quarterly-invoice_2026.pdf", PDF)
    r = await send(alice, tid, att["id"])
    assert r.status_code == 201, r.text
    message_id = r.json()["id"]
    for q in ("invoice", "quarterly", "quarterly invoice"):
        r = await bob.get(f"/api/v1/tickets/{tid}/messages/search", params={"q": q})
        assert r.status_code == 200, r.text
        items = r.json()["items"]
        assert [i["id"] for i in items] == [message_id], q
        assert items[0]["attachment"]["fileName"] == "quarterly-invoice_2026.pdf"
        r = await bob.get("/api/v1/search/messages", params={"q": q})
        assert r.status_code == 200 and len(r.json()["items"]) == 1


async def test_the_app_sweeps_orphans_when_it_starts(app, as_user, database_url):
    alice = as_user("alice")
    tid = (await ticket_with(alice))["id"]
    att = await uploaded(alice, tid, "old.txt", b"x\n")
    keys = await _keys(app, att["id"])
    async with app.ctx.db.connection() as conn:
        await conn.execute("UPDATE attachments SET created_at = now() - interval '2 days'")
    # A second process on the same database and storage: its periodic sweep runs once at start-up.
    # It relays mail elsewhere, so it does not take over the first process's dev mailbox.
    other = await start_app(make_settings(database_url, app.settings.data_dir, smtp_url="smtp://127.0.0.1:9"))
    try:
        for _ in range(100):
            if await app.ctx.db.fetch_one("SELECT 1 FROM attachments WHERE id = %s", (att["id"],)) is None:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the orphan was not swept")
        assert not await app.ctx.storage.exists(keys["storage_key"])
    finally:
        await other.stop()
