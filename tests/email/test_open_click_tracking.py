"""Open and click tracking, per template and off by default: a pixel and signed redirect links (only to URLs
that were in the email), recorded as `opened`/`clicked` in the email's timeline and as rates in the stats;
never making an email Delivered."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape

import httpx
import pytest

from tests.conftest import RunningApp, empty_tables, make_settings, start_app
from tests.email.support import MAIL_SETTINGS, Mail

TRACKED = "TicketCreated"


@pytest.fixture(scope="module")
async def mail_app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, sink
) -> AsyncIterator[RunningApp]:
    settings = make_settings(
        database_url,
        tmp_path_factory.mktemp("tracking"),
        smtp_url=sink.url,
        email_track_opens_templates=[TRACKED],
        email_track_clicks_templates=[TRACKED],
        **MAIL_SETTINGS,
    )
    await empty_tables(database_url)  # conftest.empty_tables says why
    running = await start_app(settings)
    yield running
    await running.stop()


async def ticket_emails(mail: Mail) -> list:
    await mail.users("alice", "bob")
    r = await mail.client("alice").post(
        "/api/v1/tickets", json={"title": "Leaking tap", "participantIds": ["bob"]}
    )
    assert r.status_code == 201, r.text
    return await mail.sink.wait_for(1)


def links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


async def test_a_tracked_template_gets_a_pixel_and_signed_links(mail: Mail):
    (email,) = await ticket_emails(mail)
    html = email.part("text/html")
    (pixel,) = re.findall(r'<img src="([^"]+/api/v1/email/t/o/[^"]+)"', html)
    tracked = [link for link in links(html) if "/api/v1/email/t/c/" in link]
    assert tracked, html
    log_id = email.header("X-Email-Log-Id")
    async with httpx.AsyncClient() as anyone:  # a mail client: no token
        # The relay has the email; its result reaches the log with the worker's next group commit.
        assert (await mail.wait_status(log_id, "Sent"))["status"] == "Sent"
        r = await anyone.get(pixel)
        assert r.status_code == 200 and r.headers["content-type"] == "image/gif"
        await anyone.get(pixel)  # fetched again: one open
        r = await anyone.get(tracked[0])
        assert r.status_code == 302
        target = r.headers["location"]
        assert target.startswith(mail.app.settings.base_url) and "/api/v1/email/t/" not in target

        # No open redirect: another URL with that signature, a forged signature, another email's id.
        base, _, _ = tracked[0].partition("?u=")
        for bad in (
            f"{base}?u=https%3A%2F%2Fevil.example%2F",
            re.sub(r"/t/c/([0-9a-f]{32})/[^?]+", r"/t/c/\1/AAAAAAAAAAAAAAAAAAAAAA", tracked[0]),
            re.sub(r"/t/c/[0-9a-f]{32}/", "/t/c/" + "0" * 32 + "/", tracked[0]),
        ):
            r = await anyone.get(bad)
            assert r.status_code == 404 and "location" not in r.headers, bad
        r = await anyone.get(pixel.replace("/t/o/", "/t/o/").rsplit("/", 1)[0] + "/forged.gif")
        assert r.status_code == 200  # the image regardless; nothing recorded

    entry = await mail.log(log_id)
    assert entry["status"] == "Sent"  # never Delivered by a pixel
    kinds = [e["type"] for e in entry["events"]]
    assert kinds.count("opened") == 1 and kinds.count("clicked") == 1
    assert next(e for e in entry["events"] if e["type"] == "clicked")["detail"]["url"] == target

    stats = (await mail.admin.get("/api/v1/email/stats")).json()
    assert stats["opened"] == 1 and stats["clicked"] == 1
    assert stats["openRate"] == 1.0 and stats["clickRate"] == 1.0


async def test_other_templates_are_not_tracked(mail: Mail):
    await mail.users("carol")
    r = await mail.service.post(
        "/api/v1/events",
        json={"type": "PaymentReceived", "recipientIds": ["carol"], "data": {"payment": {"amount": 3}}},
    )
    assert r.status_code == 202, r.text
    (email,) = await mail.sink.wait_for(1)
    html = email.part("text/html")
    assert "/api/v1/email/t/" not in html
    stats = (await mail.admin.get("/api/v1/email/stats")).json()
    assert stats["opened"] == 0 and stats["openRate"] == 0.0
