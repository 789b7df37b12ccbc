"""The admin console in a real browser against a running `serve`: template editing with live preview,
errors at their line, saving, the email log and an email's timeline, the delivery dashboard, lifting a
suppression, and the "not allowed" page for members."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from .conftest import Person

expect.set_options(timeout=15_000)  # a shared 2-core machine: CodeMirror and the preview take a moment

OTP = {"otp": {"code": "246810", "expiresInMinutes": 5}}


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def editor(page: Page, name: str):
    """A CodeMirror editor by its accessible name ("Subject", "HTML", "Text")."""
    return page.get_by_role("textbox", name=name, exact=True)


def replace_text(page: Page, name: str, text: str) -> None:
    box = editor(page, name)
    box.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def preview(page: Page):
    return page.frame_locator('iframe[title="Preview"]')


def send_otp(admin: Person, recipient: Person) -> str:
    r = admin.http.post(
        "/api/v1/events", json={"type": "OTPRequested", "recipientIds": [recipient.id], "data": OTP}
    )
    assert r.status_code == 202, r.text
    return r.json()["deliveries"][0]["emailLogId"]


def send_quote(admin: Person, recipient: Person) -> str:
    """A QuoteCreated email (a bounce of an OTP email warns but never suppresses: security mail still goes)."""
    r = admin.http.post(
        "/api/v1/events",
        json={
            "type": "QuoteCreated",
            "recipientIds": [recipient.id],
            "data": {"quote": {"number": "Q-9", "total": 80}},
        },
    )
    assert r.status_code == 202, r.text
    return next(d["emailLogId"] for d in r.json()["deliveries"] if d["channel"] == "email")


def wait_status(admin: Person, log_id: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        log = admin.http.get(f"/api/v1/email/logs/{log_id}").json()
        if log["status"] == status:
            return log
        time.sleep(0.2)
    raise AssertionError(f"email {log_id} never became {status}: {log}")


def bounce_report(message_id: str, recipient: str) -> bytes:
    """An RFC 3464 hard bounce for the email with `message_id`, as a relay writes it."""
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\n"
        "To: bounces@localhost\r\nSubject: Undelivered Mail\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail system.\r\n\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 mailbox unavailable\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\nTo: {recipient}\r\n\r\n"
        "--B--\r\n"
    ).encode()


def create_template(admin: Person, name: str, html: str = "<p>Hello {{ recipient.name }}</p>") -> dict:
    r = admin.http.post(
        "/api/v1/email/templates",
        json={"name": name, "subject": "Hi {{ recipient.name }}", "htmlContent": html},
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_admin_edits_a_template_with_live_preview_and_errors_at_their_line(people, pages):
    admin = people("Ada Admin", "admin")
    name = unique("Welcome")
    create_template(admin, name)
    pages.allow_failed_requests = True  # the refused save below is a 422 that Chromium logs
    page = pages.open(admin, "/admin/templates")

    # The list shows the template; its link opens the editor.
    expect(page.get_by_role("heading", name="Email templates")).to_be_visible()
    page.get_by_role("searchbox", name="Filter templates").fill(name)
    expect(page.get_by_role("row")).to_have_count(2)  # header + the one match
    page.get_by_role("link", name=name).click()
    expect(page).to_have_url(re.compile(rf"/admin/templates/{name}$"))

    # The preview renders the template with the sample data.
    expect(preview(page).get_by_text("Hello Alice Carter")).to_be_visible()
    expect(page.get_by_test_id("preview-subject")).to_have_text("Hi Alice Carter")

    # Changing the sample data re-renders the preview (debounced, nothing saved).
    sample = page.get_by_label(re.compile(r"^Sample data \(JSON\)"))
    sample.fill(sample.input_value().replace('"name": "Alice Carter"', '"name": "Bea Lund"', 1))
    expect(preview(page).get_by_text("Hello Bea Lund")).to_be_visible()

    # A syntax error is refused on save and shown at its line in the HTML editor.
    replace_text(page, "HTML", "<p>Line one</p>\n<p>{% if recipient.name %}unclosed</p>\n<p>three</p>")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Not saved")
    expect(page.get_by_text(re.compile(r"HTML line \d+:"))).to_be_visible()
    expect(page.locator(".cm-lintRange-error, .cm-lint-marker-error").first).to_be_visible()
    assert admin.http.get(f"/api/v1/email/templates/{name}").json()["htmlContent"] == (
        "<p>Hello {{ recipient.name }}</p>"
    )

    # A valid edit saves; the preview shows the new text; a reload keeps it.
    replace_text(page, "HTML", "<h1>Welcome aboard, {{ recipient.name }}!</h1>")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved at")).to_be_visible()
    expect(preview(page).get_by_text("Welcome aboard, Bea Lund!")).to_be_visible()
    page.reload()
    expect(editor(page, "HTML")).to_contain_text("Welcome aboard, {{ recipient.name }}!")
    expect(preview(page).get_by_text("Welcome aboard, Bea Lund!")).to_be_visible()
    saved = admin.http.get(f"/api/v1/email/templates/{name}").json()
    assert saved["htmlContent"] == "<h1>Welcome aboard, {{ recipient.name }}!</h1>"

    # The preview iframe runs no scripts and has no access to the app's origin.
    assert page.locator('iframe[title="Preview"]').get_attribute("sandbox") == ""


def test_draft_preview_follows_typing_when_the_server_supports_it(people, pages, server):
    """With draft previews (`subject`/`htmlContent` overrides on preview), typing alone changes the
    preview; a server without them says the preview shows the saved version."""
    admin = people("Ada Admin", "admin")
    name = unique("Draft")
    create_template(admin, name)
    page = pages.open(admin, f"/admin/templates/{name}")
    expect(preview(page).get_by_text("Hello Alice Carter")).to_be_visible()
    replace_text(page, "HTML", "<p>Typed, not saved</p>")
    spec = httpx.get(f"{server.base_url}/openapi.json").json()
    if "htmlContent" in spec["components"]["schemas"]["PreviewTemplate"].get("properties", {}):
        expect(preview(page).get_by_text("Typed, not saved")).to_be_visible()
    else:
        expect(page.get_by_text("This server previews the saved version only")).to_be_visible()
        expect(preview(page).get_by_text("Hello Alice Carter")).to_be_visible()
    assert admin.http.get(f"/api/v1/email/templates/{name}").json()["htmlContent"].startswith("<p>Hello")


def test_builtin_template_can_be_switched_off_and_reset(people, pages):
    admin = people("Ada Admin", "admin")
    page = pages.open(admin, "/admin/templates/PaymentReceived")
    expect(preview(page).get_by_text("PAY-88231")).to_be_visible()
    replace_text(page, "Subject", "Paid: {{ payment.reference }}")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("preview-subject")).to_have_text("Paid: PAY-88231")
    page.get_by_role("button", name="Reset to built-in").click()
    page.get_by_role("dialog").get_by_role("button", name="Reset template").click()
    expect(page.get_by_test_id("preview-subject")).to_contain_text("Payment received")
    expect(editor(page, "Subject")).to_contain_text("Payment received:")

    switch = page.get_by_role("switch", name="Active")
    expect(switch).to_have_attribute("aria-checked", "true")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "false")
    assert admin.http.get("/api/v1/email/templates/PaymentReceived").json()["isActive"] is False
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    assert admin.http.get("/api/v1/email/templates/PaymentReceived").json()["isActive"] is True


def test_email_log_shows_a_sent_email_and_its_timeline(people, pages):
    admin, carol = people("Ada Admin", "admin"), people("Carol Diaz")
    log_id = send_otp(admin, carol)
    log = wait_status(admin, log_id, "Sent")
    email = f"{carol.id}@example.com"
    page = pages.open(admin, f"/admin/emails?recipient={email}")
    row = page.get_by_role("row").filter(has_text=log["subject"])
    expect(row).to_have_count(1)
    expect(row.get_by_text("Sent", exact=True)).to_be_visible()

    # Another status filter (kept in the URL) hides it.
    page.get_by_label("Status").select_option("Failed")
    expect(page).to_have_url(re.compile(r"status=Failed"))
    expect(page.get_by_text("No email matches these filters")).to_be_visible()
    page.get_by_label("Status").select_option("Sent")
    row.get_by_role("link").click()

    expect(page).to_have_url(re.compile(rf"/admin/emails/{log_id}$"))
    expect(page.get_by_role("heading", name=log["subject"])).to_be_visible()
    expect(page.get_by_text(log["messageId"])).to_be_visible()
    timeline = page.get_by_role("list", name="Timeline")
    expect(timeline.get_by_role("listitem")).to_have_count(3)
    expect(timeline.get_by_role("listitem").nth(0)).to_contain_text("Queued")
    expect(timeline.get_by_role("listitem").nth(1)).to_contain_text("Sending attempt 1")
    expect(timeline.get_by_role("listitem").nth(2)).to_contain_text("Accepted by the mail server")
    expect(timeline.get_by_role("listitem").nth(2)).to_contain_text("Server reply")


def test_delivery_dashboard_shows_the_counts_the_api_returns(people, pages):
    admin, dan = people("Ada Admin", "admin"), people("Dan Okafor")
    for _ in range(2):
        wait_status(admin, send_otp(admin, dan), "Sent")
    page = pages.open(admin, "/admin/delivery?period=7d")
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=6)
    stats = admin.http.get("/api/v1/email/stats", params={"from": start.isoformat(), "daily": "true"}).json()
    assert stats["sent"] >= 2
    for key in ("total", "pending", "sent", "delivered", "bounced", "failed"):
        expect(page.get_by_test_id(f"count-{key}")).to_have_text(f"{stats[key]:,}")
    expect(page.get_by_role("img", name=re.compile("chart of emails per day"))).to_be_visible()
    table = page.get_by_role("table", name=re.compile("Emails per day by status"))
    today = stats["daily"][-1]
    newest = table.get_by_role("row").nth(1)  # under the header: the table lists the newest day first
    expect(newest.get_by_role("cell").last).to_have_text(f"{today['total']:,}")


def test_a_suppression_is_lifted_after_confirming(people, pages):
    admin, erin = people("Ada Admin", "admin"), people("Erin Vale")
    log = wait_status(admin, send_quote(admin, erin), "Sent")
    email = f"{erin.id}@example.com"
    r = admin.http.post(
        "/api/v1/email/inbound",
        content=bounce_report(log["messageId"], email),
        headers={"Content-Type": "message/rfc822"},
    )
    assert r.json()["matched"][0]["status"] == "Bounced", r.text
    page = pages.open(admin, "/admin/suppressions")
    page.get_by_role("searchbox", name="Search suppressions").fill(erin.id)
    row = page.get_by_role("row").filter(has_text=email)
    expect(row).to_contain_text("Bounce")
    row.get_by_role("button", name=f"Lift suppression for {email}").click()
    dialog = page.get_by_role("dialog", name="Lift this suppression?")
    expect(dialog).to_contain_text(email)
    dialog.get_by_role("button", name="Lift suppression").click()
    expect(page.get_by_role("status").filter(has_text=f"{email} can get email again")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=email)).to_have_count(0)
    listed = admin.http.get("/api/v1/email/suppressions").json()["items"]
    assert email not in [s["email"] for s in listed]


def test_version_history_says_when_the_server_keeps_none(people, pages):
    """Until the versions endpoint exists the history shows the server's refusal, never made-up versions."""
    admin = people("Ada Admin", "admin")
    name = unique("History")
    create_template(admin, name)
    pages.allow_failed_requests = True
    page = pages.open(admin, f"/admin/templates/{name}")
    page.get_by_role("button", name="History").click()
    dialog = page.get_by_role("dialog")
    listed = admin.http.get(f"/api/v1/email/templates/{name}/versions")
    if listed.status_code == 200:
        expect(dialog.get_by_role("list", name="Versions")).to_be_visible()
    else:
        expect(dialog.get_by_text("Version history could not be loaded")).to_be_visible()
        expect(dialog.get_by_role("listitem")).to_have_count(0)


def test_members_get_not_allowed_and_see_no_admin_links(people, pages):
    member = people("Max Member")
    page = pages.open(member, "/admin/templates")
    expect(page.get_by_text("You do not have access to this page")).to_be_visible()
    expect(page.get_by_role("textbox", name="HTML")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin")).to_have_count(0)
    assert member.http.get("/api/v1/email/templates").status_code == 403
    # No admin code was downloaded for the member.
    scripts = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
    assert not [s for s in scripts if "AdminRoutes" in s or "CodeEditor" in s], scripts

    admin = people("Ada Admin", "admin")
    page = pages.open(admin, "/tickets")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    expect(page).to_have_url(re.compile(r"/admin/templates$"))
    expect(page.get_by_role("navigation", name="Admin")).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_admin_screens_have_no_serious_accessibility_problems(people, pages, scheme):
    admin, fay = people("Ada Admin", "admin"), people("Fay Moreau")
    log_id = wait_status(admin, send_otp(admin, fay), "Sent")["id"]
    page = pages.open(admin, "/admin/templates")
    axe = Axe()
    problems = []
    screens = {
        "/admin/templates": "Email templates",
        "/admin/templates/TicketCreated": "Preview",
        "/admin/emails": "Email log",
        f"/admin/emails/{log_id}": "Timeline",
        "/admin/delivery": "Delivery",
        "/admin/suppressions": "Suppressions",
    }
    page.emulate_media(color_scheme=scheme)
    for path, heading in screens.items():
        page.goto(path)
        expect(page.get_by_role("heading", name=heading, exact=True).first).to_be_visible()
        page.wait_for_timeout(500)
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                targets = [n["target"] for n in violation["nodes"]][:3]
                problems.append(f"{path} ({scheme}): {violation['id']} {violation['help']} {targets}")
    assert not problems, "\n".join(problems)
