"""The dev mailbox: a real SMTP sink started by the app, mail sent to it with aiosmtplib, shown over HTTP."""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import pytest

from tests.conftest import make_settings, start_app
from ticket_comms.email import templates
from ticket_comms.email.dev_mailbox import sink as mailbox

CONTEXT = {
    "recipient": {"name": "Carol", "email": "carol@example.com"},
    "links": {
        "ticket": "https://t.example.com/t/1",
        "preferences": "https://t.example.com/p",
        "unsubscribe": "https://t.example.com/u?token=x",
    },
    "ticket": {"title": "Broken heater", "status": "Open"},
    "actor": {"name": "Alice"},
}


async def send(
    port: int,
    subject: str,
    html: str | None = "<p>Hello <b>there</b></p>",
    text: str = "Hello there",
    **headers: str,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Tickets <no-reply@localhost>"
    message["To"] = "Carol <carol@example.com>"
    message["Subject"] = subject
    message["Message-ID"] = f"<{uuid.uuid4().hex}@tickets.test>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    await aiosmtplib.send(
        message, hostname="127.0.0.1", port=port, sender="bounces@localhost", recipients=["carol@example.com"]
    )
    return message


async def find(client: httpx.AsyncClient, subject: str) -> dict[str, Any]:
    items = (await client.get("/dev/mailbox.json")).json()["items"]
    matches = [m for m in items if m["subject"] == subject]
    assert len(matches) == 1, items
    return matches[0]


async def test_mail_sent_over_smtp_shows_in_the_list_html_text_and_json(app: Any) -> None:
    dev = app.ctx.dev_mailbox
    assert dev is not None and dev.host == "127.0.0.1" and dev.url == f"smtp://127.0.0.1:{dev.port}"
    assert mailbox.relay_url(app.settings) == dev.url
    rendered = await templates.render(app.ctx, "TicketCreated", CONTEXT)
    subject = f"{rendered.subject} {uuid.uuid4().hex[:6]}"
    sent = await send(
        dev.port, subject, rendered.html, rendered.text, List_Unsubscribe="<https://t.example.com/u?token=x>"
    )

    async with httpx.AsyncClient(base_url=app.base_url) as client:
        response = await client.get("/dev/mailbox.json")
        assert response.status_code == 200
        assert response.json()["smtp"] == {"host": "127.0.0.1", "port": dev.port, "url": dev.url}
        item = await find(client, subject)
        assert item["mailFrom"] == "bounces@localhost"
        assert item["rcptTos"] == ["carol@example.com"]
        assert item["from"] == "Tickets <no-reply@localhost>" and item["to"] == "Carol <carol@example.com>"
        assert item["messageId"] == sent["Message-ID"]
        message_id = item["id"]

        page = await client.get("/dev/mailbox")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert f'href="/dev/mailbox/{message_id}"' in page.text and subject in page.text
        assert "localhost" in page.text and "never delivered" in page.text

        detail = (await client.get(f"/dev/mailbox/{message_id}.json")).json()
        assert detail["subject"] == subject
        assert "Alice opened a new ticket" in detail["html"] and "Alice opened a new ticket" in detail["text"]
        headers = {h["name"]: h["value"] for h in detail["headers"]}
        assert headers["List-Unsubscribe"] == "<https://t.example.com/u?token=x>"
        assert headers["Message-ID"] == sent["Message-ID"]
        assert "Content-Type: multipart/alternative" in detail["raw"]

        # The message page frames the HTML part in a sandboxed iframe served from its own URL.
        view = await client.get(f"/dev/mailbox/{message_id}")
        assert view.status_code == 200
        assert (
            f'<iframe sandbox="" referrerpolicy="no-referrer" title="HTML part" src="/dev/mailbox/{message_id}/html">'
            in view.text
        )
        html = await client.get(f"/dev/mailbox/{message_id}/html")
        assert html.status_code == 200
        assert html.headers["content-security-policy"].startswith("sandbox;")
        assert html.headers["x-content-type-options"] == "nosniff"
        assert (
            "Alice opened a new ticket" in html.text and 'href="https://t.example.com/u?token=x"' in html.text
        )

        text = await client.get(f"/dev/mailbox/{message_id}?view=text")
        assert "<pre>Hi Carol," in text.text
        headers_view = await client.get(f"/dev/mailbox/{message_id}?view=headers")
        assert "List-Unsubscribe" in headers_view.text
        raw_view = await client.get(f"/dev/mailbox/{message_id}?view=raw")
        assert "multipart/alternative" in raw_view.text
        raw = await client.get(f"/dev/mailbox/{message_id}/raw")
        assert raw.headers["content-type"] == "text/plain; charset=utf-8"
        assert raw.content.startswith(b"From: Tickets <no-reply@localhost>")
        assert (await client.get(f"/dev/mailbox/{message_id}?view=bogus")).status_code == 422


async def test_hostile_mail_is_shown_inert(app: Any) -> None:
    subject = f'<script>alert("s")</script> {uuid.uuid4().hex[:6]}'
    await send(app.ctx.dev_mailbox.port, subject, '<img src=x onerror="alert(1)"><script>alert(2)</script>')
    async with httpx.AsyncClient(base_url=app.base_url) as client:
        page = await client.get("/dev/mailbox")
        assert "<script>alert" not in page.text and "&lt;script&gt;" in page.text
        item = await find(client, subject)
        view = await client.get(f"/dev/mailbox/{item['id']}")
        assert "<script>alert" not in view.text
        assert "script-src" not in view.headers["content-security-policy"]
        html = await client.get(f"/dev/mailbox/{item['id']}/html")
        # The email's own HTML is served as is, but only inside a CSP sandbox: no scripts run.
        assert html.headers["content-security-policy"].startswith("sandbox;")
        assert "script-src" not in html.headers["content-security-policy"]


async def test_text_only_mail_and_unknown_ids(app: Any) -> None:
    subject = f"Plain {uuid.uuid4().hex[:6]}"
    await send(app.ctx.dev_mailbox.port, subject, html=None, text="Just text")
    async with httpx.AsyncClient(base_url=app.base_url) as client:
        item = await find(client, subject)
        detail = (await client.get(f"/dev/mailbox/{item['id']}.json")).json()
        assert detail["html"] is None and detail["text"].strip() == "Just text"
        assert "no HTML part" in (await client.get(f"/dev/mailbox/{item['id']}?view=html")).text
        assert (await client.get(f"/dev/mailbox/{item['id']}/html")).status_code == 404
        for bad in ("0000000000000000-00000000", "..%2F..%2Fetc%2Fpasswd", "relay-url", "x" * 300):
            for suffix in ("", ".json", "/html", "/raw"):
                response = await client.get(f"/dev/mailbox/{bad}{suffix}")
                assert response.status_code == 404, (bad, suffix, response.text)
                assert response.json()["error"]["code"] == "not_found"


async def test_only_this_machine_and_admins_may_look(app: Any) -> None:
    # A request relayed by a local reverse proxy for a remote client (uvicorn trusts X-Forwarded-For
    # from 127.0.0.1) is a remote request: hidden, unless it carries an admin token.
    remote = {"X-Forwarded-For": "203.0.113.9"}
    async with httpx.AsyncClient(base_url=app.base_url, headers=remote) as client:
        for path in ("/dev/mailbox", "/dev/mailbox.json"):
            assert (await client.get(path)).status_code == 404
        assert (await client.delete("/dev/mailbox")).status_code == 404
        member = {"Authorization": f"Bearer {app.token('mallory')}"}
        assert (await client.get("/dev/mailbox.json", headers=member)).status_code == 404
        assert (
            await client.get("/dev/mailbox.json", headers={"Authorization": "Bearer junk"})
        ).status_code == 404
        admin = {"Authorization": f"Bearer {app.token('root', role='admin')}"}
        assert (await client.get("/dev/mailbox.json", headers=admin)).status_code == 200
    async with httpx.AsyncClient(base_url=app.base_url) as client:
        assert (await client.get("/dev/mailbox.json")).status_code == 200


async def test_clearing_refuses_other_sites(app: Any) -> None:
    await send(app.ctx.dev_mailbox.port, f"Doomed {uuid.uuid4().hex[:6]}")
    async with httpx.AsyncClient(base_url=app.base_url) as client:
        hostile = await client.post("/dev/mailbox/clear", headers={"Origin": "https://evil.example"})
        assert hostile.status_code == 404
        assert (await client.get("/dev/mailbox.json")).json()["items"]
        same = await client.post("/dev/mailbox/clear", headers={"Origin": app.base_url})
        assert same.status_code == 303 and same.headers["location"] == "/dev/mailbox"
        assert (await client.get("/dev/mailbox.json")).json()["items"] == []
        await send(app.ctx.dev_mailbox.port, "Again")
        assert (await client.delete("/dev/mailbox")).status_code == 204
        assert (await client.get("/dev/mailbox.json")).json()["items"] == []
        assert "No mail yet" in (await client.get("/dev/mailbox")).text


async def test_mail_survives_a_restart(database_url: str, tmp_path: Path) -> None:
    first = await start_app(make_settings(database_url, tmp_path))
    try:
        await send(first.ctx.dev_mailbox.port, "Kept across restarts")
    finally:
        await first.stop()
    assert mailbox.relay_url(first.settings) is None
    assert sorted(p.suffix for p in (tmp_path / "mailbox").iterdir()) == [".eml", ".json"]
    second = await start_app(make_settings(database_url, tmp_path))
    try:
        async with httpx.AsyncClient(base_url=second.base_url) as client:
            items = (await client.get("/dev/mailbox.json")).json()["items"]
            assert [m["subject"] for m in items] == ["Kept across restarts"]
    finally:
        await second.stop()


async def test_no_mailbox_when_a_real_relay_is_configured(database_url: str, tmp_path: Path) -> None:
    running = await start_app(make_settings(database_url, tmp_path, smtp_url="smtp://127.0.0.1:2525"))
    try:
        assert running.ctx.dev_mailbox is None
        async with httpx.AsyncClient(base_url=running.base_url) as client:
            assert (await client.get("/dev/mailbox")).status_code == 404
            assert (await client.get("/dev/mailbox.json")).status_code == 404
        assert not (tmp_path / "mailbox").exists()
    finally:
        await running.stop()


def test_the_store_keeps_only_the_newest(tmp_path: Path) -> None:
    store = mailbox.MailboxStore(tmp_path, max_messages=3)
    for i in range(5):
        store.save(f"Subject: n{i}\r\n\r\nbody {i}\r\n".encode(), "a@x", ["b@x"])
    assert [s.subject for s in store.list()] == ["n4", "n3", "n2"]
    assert len(list(tmp_path.iterdir())) == 6
    # Another process sharing the directory sees the same mail.
    assert [s.subject for s in mailbox.MailboxStore(tmp_path).list()] == ["n4", "n3", "n2"]


async def test_oversized_mail_is_refused(app: Any) -> None:
    big = "x" * (mailbox.MAX_MESSAGE_BYTES + 1024)
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await send(app.ctx.dev_mailbox.port, "Too big", html=None, text=big)
    assert refused.value.code == 552


async def test_outside_development_the_mailbox_needs_dev_mailbox(database_url: str, tmp_path: Path) -> None:
    production = {
        "public_base_url": "https://tickets.example.com",
        "signing_secret": "s" * 48,
        "demo_data": False,
    }
    for explicit, expected in ((None, 404), (True, 200), (False, 404)):
        extra = {} if explicit is None else {"dev_mailbox": explicit}
        running = await start_app(
            make_settings(database_url, tmp_path / str(explicit), **production, **extra)
        )
        try:
            assert (running.ctx.dev_mailbox is not None) == (expected == 200)
            async with httpx.AsyncClient(base_url=running.base_url) as local:
                assert (await local.get("/dev/mailbox.json")).status_code == expected
        finally:
            await running.stop()
    # In development it is on unless switched off.
    running = await start_app(make_settings(database_url, tmp_path / "dev-off", dev_mailbox=False))
    try:
        assert running.ctx.dev_mailbox is None
    finally:
        await running.stop()
