"""The admin console's newer flows in a real browser: a stale save is refused, history restores an old
version, "Send a test to me", a bounced email is resent, the email as sent (secrets redacted), and
the suppression search."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from .test_admin_console import (
    bounce_report,
    create_template,
    editor,
    preview,
    replace_text,
    send_otp,
    send_quote,
    unique,
    wait_status,
)

expect.set_options(timeout=15_000)


def test_a_stale_save_is_refused_and_theirs_can_be_loaded(people, pages):
    admin = people("Ada Admin", "admin")
    name = unique("Stale")
    create_template(admin, name)
    pages.allow_failed_requests = True  # the refused save is a 409 that Chromium logs
    page = pages.open(admin, f"/admin/templates/{name}")
    expect(preview(page).get_by_text("Hello Alice Carter")).to_be_visible()
    # Someone else saves in the meantime.
    r = admin.http.put(f"/api/v1/email/templates/{name}", json={"htmlContent": "<p>Theirs</p>"})
    assert r.status_code == 200, r.text
    replace_text(page, "HTML", "<p>Mine</p>")
    page.get_by_role("button", name="Save").click()
    alert = page.get_by_role("alert").filter(has_text="Someone else saved this template")
    expect(alert).to_be_visible()
    assert admin.http.get(f"/api/v1/email/templates/{name}").json()["htmlContent"] == "<p>Theirs</p>"
    alert.get_by_role("button", name="Discard mine and load theirs").click()
    expect(editor(page, "HTML")).to_contain_text("<p>Theirs</p>")
    expect(preview(page).get_by_text("Theirs")).to_be_visible()


def test_history_shows_who_and_a_diff_and_restores_an_old_version(people, pages):
    admin = people("Ada Admin", "admin")
    name = unique("Hist")
    create_template(admin, name, html="<p>First draft</p>")
    page = pages.open(admin, f"/admin/templates/{name}")
    expect(preview(page).get_by_text("First draft")).to_be_visible()
    replace_text(page, "HTML", "<p>Second draft</p>")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status").filter(has_text="Saved at")).to_be_visible()

    page.get_by_role("button", name="History").click()
    dialog = page.get_by_role("dialog")
    versions = dialog.get_by_role("list", name="Versions")
    expect(versions.get_by_role("listitem")).to_have_count(2)
    expect(versions.get_by_role("listitem").first).to_contain_text("Ada Admin")
    versions.get_by_role("button", name=re.compile(r"^Version 1")).click()
    expect(dialog.get_by_text("removed: <p>First draft</p>")).to_be_attached()
    expect(dialog.get_by_text("added: <p>Second draft</p>")).to_be_attached()
    dialog.get_by_role("button", name="Restore version 1").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    expect(editor(page, "HTML")).to_contain_text("<p>First draft</p>")
    expect(preview(page).get_by_text("First draft")).to_be_visible()
    assert admin.http.get(f"/api/v1/email/templates/{name}").json()["htmlContent"] == "<p>First draft</p>"
    listed = admin.http.get(f"/api/v1/email/templates/{name}/versions").json()["items"]
    assert [v["version"] for v in listed] == [3, 2, 1]


def test_send_a_test_to_me_queues_it_and_links_to_the_log(people, pages):
    admin = people("Ada Admin", "admin")
    page = pages.open(admin, "/admin/templates/TicketCompleted")
    expect(page.get_by_test_id("preview-subject")).not_to_have_text("—")
    page.get_by_role("button", name="Send a test to me").click()
    status = page.get_by_role("status").filter(has_text="Test email queued to you")
    expect(status).to_be_visible()
    status.get_by_role("link", name="Follow it in the email log").click()
    expect(page).to_have_url(re.compile(r"/admin/emails/[0-9a-f-]{36}$"))
    expect(page.get_by_text(f"{admin.id}@example.com")).to_be_visible()
    expect(page.get_by_role("list", name="Timeline").get_by_role("listitem").first).to_contain_text(
        "Test send"
    )


def test_a_bounced_email_is_resent_once_its_address_is_lifted(people, pages):
    admin, gus = people("Ada Admin", "admin"), people("Gus Hale")
    log = wait_status(admin, send_quote(admin, gus), "Sent")
    email = f"{gus.id}@example.com"
    r = admin.http.post(
        "/api/v1/email/inbound",
        content=bounce_report(log["messageId"], email),
        headers={"Content-Type": "message/rfc822"},
    )
    assert r.json()["matched"][0]["status"] == "Bounced", r.text
    pages.allow_failed_requests = True  # the first resend is refused (409)
    page = pages.open(admin, f"/admin/emails/{log['id']}")
    page.get_by_role("button", name="Resend").click()
    expect(page.get_by_role("alert")).to_contain_text("is suppressed after a hard bounce")

    # The suppression search finds the address; lifting it lets the resend through.
    page.goto("/admin/suppressions")
    page.get_by_role("searchbox", name="Search suppressions").fill(gus.id.upper())
    rows = page.get_by_role("row")
    expect(rows).to_have_count(2)  # header + the match, searched by the server
    rows.get_by_role("button", name=f"Lift suppression for {email}").click()
    page.get_by_role("dialog").get_by_role("button", name="Lift suppression").click()
    expect(page.get_by_role("status").filter(has_text="can get email again")).to_be_visible()

    page.goto(f"/admin/emails/{log['id']}")
    page.get_by_role("button", name="Resend").click()
    done = page.get_by_role("status").filter(has_text=f"Queued again to {email}")
    expect(done).to_be_visible()
    done.get_by_role("link", name="Follow the new email").click()
    expect(page.get_by_role("link", name="the first email")).to_be_visible()
    expect(page.get_by_role("button", name="Resend")).to_have_count(0)


def test_the_email_as_sent_shows_with_its_code_redacted(people, pages):
    admin, hana = people("Ada Admin", "admin"), people("Hana Ito")
    log = wait_status(admin, send_otp(admin, hana), "Sent")
    page = pages.open(admin, f"/admin/emails/{log['id']}")
    page.get_by_role("button", name="Show the email").click()
    expect(page.get_by_test_id("sent-subject")).to_contain_text("[redacted]")
    frame = page.frame_locator('iframe[title="The email as sent"]')
    expect(frame.get_by_text("[redacted]", exact=True)).to_be_visible()
    assert "246810" not in page.content()
    assert page.locator('iframe[title="The email as sent"]').get_attribute("sandbox") == ""


def test_the_dashboard_shows_the_insights_the_api_returns(people, pages):
    admin, ivo = people("Ada Admin", "admin"), people("Ivo Petrov")
    wait_status(admin, send_quote(admin, ivo), "Sent")
    page = pages.open(admin, "/admin/delivery?period=7d")
    slowest = page.get_by_role("list", name="Slowest emails")
    expect(slowest.get_by_role("link").first).to_be_visible()
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=6)
    insights = admin.http.get("/api/v1/email/stats/insights", params={"from": start.isoformat()}).json()
    assert insights["slowest"], insights
    expect(slowest.get_by_role("listitem")).to_have_count(len(insights["slowest"]))
    expect(page.get_by_role("table", name=re.compile("by time from queued to sent"))).to_be_visible()
    slowest.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(r"/admin/emails/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name="Timeline")).to_be_visible()
