"""Inbound mail in the admin console, in a real browser against a running `serve`: a real reply to a
ticket email (its Reply-To taken from the dev mailbox) and a forged one, both posted to
POST /api/v1/email/inbound, are listed with their outcomes; the outcome filter, a refusal's reason in
the row's details, the ticket link; members get the "not allowed" page."""

from __future__ import annotations

import re
import time
import uuid
from email import message_from_string
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .conftest import Person, create_ticket

expect.set_options(timeout=15_000)  # a shared 2-core machine

ONLY_THIS_TICKET = "Only this ticket\u2019s mail"  # the button's words, with a typographic apostrophe


def ticket_email_to(admin: Person, recipient: Person) -> dict[str, Any]:
    """The newest email the dev mailbox caught for `recipient`, with its headers parsed."""
    address = f"{recipient.id}@example.com"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items = admin.http.get("/dev/mailbox.json").json()["items"]
        found = [m for m in items if address in m["rcptTos"]]
        if found:
            raw = admin.http.get(f"/dev/mailbox/{found[0]['id']}.json").json()["raw"]
            return dict(message_from_string(raw).items())
        time.sleep(0.2)
    raise AssertionError(f"no email reached {address}")


def reply(email: dict[str, Any], sender: str, subject: str, text: str) -> bytes:
    """A plain reply to `email`, as a mail client writes it (quoted history included)."""
    return (
        f"From: {sender}\r\nTo: {email['Reply-To']}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@mail.example.com>\r\nIn-Reply-To: {email['Message-ID']}\r\n"
        "Date: Thu, 03 Dec 2026 09:31:07 +0000\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"{text}\r\n\r\nOn Thu, 3 Dec 2026 at 09:00, Tickets <tickets@localhost> wrote:\r\n> New ticket\r\n"
    ).encode()


def post_inbound(admin: Person, raw: bytes) -> dict[str, Any]:
    r = admin.http.post("/api/v1/email/inbound", content=raw, headers={"Content-Type": "message/rfc822"})
    assert r.status_code == 200, r.text
    return r.json()["reply"]


def test_admin_sees_replies_and_refusals_filters_and_opens_the_ticket(people, pages):
    admin, alice, bob = people("Ada Admin", "admin"), people("Alice Carter"), people("Bob Smith")
    title = f"Leaking tap {uuid.uuid4().hex[:6]}"
    ticket_id = create_ticket(alice, title, bob)
    email = ticket_email_to(admin, bob)
    tag = uuid.uuid4().hex[:6]
    accepted = post_inbound(admin, reply(email, f"{bob.id}@example.com", f"Re: tap {tag}", "Thursday works."))
    assert accepted["outcome"] == "Accepted", accepted
    forged = post_inbound(admin, reply(email, "mallory@evil.example", f"Re: forged {tag}", "Pay here."))
    assert (forged["outcome"], forged["reason"]) == ("Refused", "sender_mismatch")

    page = pages.open(admin, "/admin/emails")
    page.get_by_role("navigation", name="Admin").get_by_role("link", name="Inbound mail").click()
    expect(page).to_have_url(re.compile(r"/admin/inbound$"))
    expect(page.get_by_role("heading", name="Inbound mail", exact=True)).to_be_visible()
    good = page.get_by_role("row").filter(has_text=f"Re: tap {tag}")
    bad = page.get_by_role("row").filter(has_text=f"Re: forged {tag}")
    expect(good).to_contain_text("Accepted")
    expect(good).to_contain_text(f"{bob.id}@example.com")
    expect(bad).to_contain_text("Refused")
    expect(bad).to_contain_text("Sender mismatch")

    # The refusal's details say why, in words.
    toggle = bad.get_by_role("button", name=f"Re: forged {tag}")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    details = page.locator(f"#inbound-{forged['id']}")
    expect(details).to_contain_text("Refused: Sender mismatch.")
    expect(details).to_contain_text("mallory@evil.example")

    # Filtered by outcome (kept in the URL): only the refusal is left.
    page.get_by_label("Outcome").select_option("Refused")
    expect(page).to_have_url(re.compile(r"outcome=Refused"))
    expect(bad).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=f"Re: tap {tag}")).to_have_count(0)
    page.get_by_label("Outcome").select_option("Accepted")
    expect(page.get_by_role("row").filter(has_text=f"Re: tap {tag}")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=f"Re: forged {tag}")).to_have_count(0)
    page.get_by_role("button", name="Clear").click()
    expect(page.get_by_role("row").filter(has_text=f"Re: forged {tag}")).to_be_visible()

    # The ticket link opens the ticket the reply went into, with the reply in it.
    good.get_by_role("link", name="Open ticket").click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket_id}$"))
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.get_by_text("Thursday works.")).to_be_visible()


def test_one_tickets_mail_and_the_empty_filter(people, pages):
    admin, alice, bob = people("Ada Admin", "admin"), people("Alice Carter"), people("Bob Smith")
    ticket_id = create_ticket(alice, "Broken window", bob)
    email = ticket_email_to(admin, bob)
    tag = uuid.uuid4().hex[:6]
    post_inbound(admin, reply(email, "eve@evil.example", f"Re: window {tag}", "Hello"))
    page = pages.open(admin, "/admin/inbound")
    page.get_by_role("button", name=f"Re: window {tag}").click()
    page.get_by_role("button", name=ONLY_THIS_TICKET).click()
    expect(page).to_have_url(re.compile(rf"ticket={ticket_id}"))
    row = page.get_by_role("row").filter(has_text=f"Re: window {tag}")
    expect(row).to_be_visible()
    expect(page.get_by_role("row")).to_have_count(3)  # the header, this ticket's one mail and its details
    expect(page.get_by_role("button", name=ONLY_THIS_TICKET)).to_have_count(0)
    page.get_by_label("Outcome").select_option("Duplicate")
    expect(page.get_by_text("No mail matches these filters")).to_be_visible()
    page.get_by_label("Outcome").select_option("")
    expect(row).to_be_visible()
    page.get_by_role("button", name="Show mail for every ticket").click()
    expect(page).to_have_url(re.compile(r"/admin/inbound$"))


def test_members_get_not_allowed(people, pages):
    member = people("Max Member")
    page = pages.open(member, "/admin/inbound")
    expect(page.get_by_text("You do not have access to this page")).to_be_visible()
    expect(page.get_by_role("heading", name="Inbound mail")).to_have_count(0)
    assert member.http.get("/api/v1/email/inbound").status_code == 403


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_inbound_page_has_no_serious_accessibility_problems(people, pages, scheme):
    admin, alice, bob = people("Ada Admin", "admin"), people("Alice Carter"), people("Bob Smith")
    create_ticket(alice, "Dripping radiator", bob)
    email = ticket_email_to(admin, bob)
    tag = uuid.uuid4().hex[:6]
    post_inbound(admin, reply(email, f"{bob.id}@example.com", f"Re: radiator {tag}", "Fine by me."))
    forged = post_inbound(admin, reply(email, "eve@evil.example", f"Re: forged {tag}", "Hello"))
    page = pages.open(admin, "/admin/inbound")
    page.emulate_media(color_scheme=scheme)
    page.get_by_role("button", name=f"Re: forged {tag}").click()
    expect(page.locator(f"#inbound-{forged['id']}")).to_be_visible()
    page.wait_for_timeout(500)
    problems = [
        f"{v['id']} {v['help']} {[n['target'] for n in v['nodes']][:3]}"
        for v in Axe().run(page).response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not problems, "\n".join(problems)


def test_older_mail_loads_on_demand(people, pages):
    """Pages of 50, newest first: the 51st and 52nd mail come with "Load older mail"."""
    admin = people("Ada Admin", "admin")
    tag = uuid.uuid4().hex[:6]
    for n in range(52):
        raw = (
            f"From: shop@example.net\r\nTo: sales@example.net\r\nSubject: Offer {tag} {n:02d}\r\n"
            f"Message-ID: <{uuid.uuid4().hex}@example.net>\r\n\r\nBuy now.\r\n"
        ).encode()
        r = admin.http.post("/api/v1/email/inbound", content=raw, headers={"Content-Type": "message/rfc822"})
        assert r.status_code == 200, r.text
    page = pages.open(admin, "/admin/inbound")
    page.get_by_label("Outcome").select_option("Ignored")
    ours = page.get_by_role("row").filter(has_text=f"Offer {tag}")
    expect(page.get_by_role("row").filter(has_text=f"Offer {tag} 51")).to_be_visible()
    expect(ours).to_have_count(50)
    expect(page.get_by_role("row").filter(has_text=f"Offer {tag} 00")).to_have_count(0)
    page.get_by_role("button", name="Load older mail").click()
    expect(ours).to_have_count(52)
    row = page.get_by_role("row").filter(has_text=f"Offer {tag} 00")
    expect(row).to_contain_text("Ignored")
    expect(row).to_contain_text("Not a reply")
    expect(page.get_by_text(re.compile(r"\d+ mails · that is all"))).to_be_visible()


def test_a_bad_filter_in_the_link_shows_the_error_state_and_clear_recovers(people, pages):
    admin = people("Ada Admin", "admin")
    pages.allow_failed_requests = True  # the server answers the bad filter 422, as it should
    page = pages.open(admin, "/admin/inbound")
    page.goto("/admin/inbound?outcome=Lost")
    expect(page.get_by_role("alert")).to_contain_text("Inbound mail could not be loaded")
    page.get_by_role("button", name="Clear").click()
    expect(page).to_have_url(re.compile(r"/admin/inbound$"))
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(
        page.get_by_role("table", name="Inbound mail, newest first").or_(
            page.get_by_text("No inbound mail yet")
        )
    ).to_be_visible()
