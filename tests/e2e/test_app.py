"""The rest of the product in a browser: tickets list, search with jump, preferences, the live bell,
sign-in and signed-out screens, phone width, accessibility scan."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from .conftest import create_ticket, post
from .test_chat import log, message


def test_ticket_list_is_live_and_creates_tickets(people, pages):
    alice, tom = people("Alice Carter"), people("Tom Reyes")
    ticket = create_ticket(alice, "Dishwasher makes noise", tom)
    page = pages.open(alice, "/tickets")
    tickets = page.get_by_role("region", name="Tickets")
    row = tickets.get_by_role("link", name=re.compile("Dishwasher makes noise"))
    expect(row).to_be_visible()
    post(tom, ticket, "On my way")
    expect(row).to_contain_text("Tom: On my way")
    expect(row).to_contain_text("1 unread")

    page.get_by_role("button", name="New ticket").click()
    page.get_by_label("Title").fill("Garage door stuck")
    page.get_by_label("Description").fill("It stops half way.")
    picker = page.get_by_role("combobox", name="Participants")
    picker.fill("tom")
    page.get_by_role("listbox", name="People").get_by_role("option", name=re.compile("Tom Reyes")).click()
    expect(page.get_by_role("list", name="Chosen participants")).to_contain_text("Tom Reyes")
    page.get_by_role("button", name="Create ticket").click()
    expect(page).to_have_url(re.compile(r"/tickets/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name="Garage door stuck")).to_be_visible()
    expect(tickets.get_by_role("link", name=re.compile("Garage door stuck"))).to_be_visible()


def test_the_people_picker_finds_only_people_who_share_a_ticket(people, pages):
    alice, tom, sam, stranger = (
        people("Alice Carter"),
        people("Tom Reyes"),
        people("Sam Okafor"),
        people("Sally Stranger"),
    )
    create_ticket(alice, "Old job", sam)
    ticket = create_ticket(alice, "Fence repair", tom)
    page = pages.open(alice, f"/tickets/{ticket}")
    toggle = page.get_by_role("button", name="Ticket details")
    expect(toggle).to_be_visible()
    if toggle.get_attribute("aria-expanded") != "true":  # open by default on wide screens
        toggle.click()
    picker = page.get_by_role("combobox", name="Add a participant")
    picker.fill("Sa")
    options = page.get_by_role("listbox", name="People").get_by_role("option")
    expect(options.first).to_contain_text("Sam Okafor")
    expect(options.filter(has_text="Sally Stranger")).to_have_count(0)
    picker.press("ArrowDown")
    picker.press("ArrowUp")
    expect(options.first).to_have_attribute("aria-selected", "true")
    picker.press("Enter")
    details = page.get_by_role("complementary", name="Ticket details")
    expect(details.get_by_role("listitem").filter(has_text="Sam Okafor")).to_be_visible()
    expect(picker).to_have_value("")
    # Someone the caller has never worked with is still added by exact id.
    picker.fill(stranger.id)
    expect(page.get_by_role("option", name=re.compile("Add user id"))).to_be_visible()
    picker.press("Enter")
    expect(details.get_by_role("listitem").filter(has_text="Sally Stranger")).to_be_visible()


def test_search_across_tickets_finds_and_jumps_to_the_message(people, pages):
    alice, tom = people("Alice Carter"), people("Tom Reyes")
    ticket = create_ticket(alice, "Boiler service", tom)
    post(tom, ticket, "The pressure valve needs replacing")
    for i in range(120):
        post(alice, ticket, f"filler message {i}")
    page = pages.open(alice, "/tickets")
    page.get_by_role("region", name="Tickets").get_by_role("searchbox", name="Search messages").fill("valve")
    results = page.get_by_role("list", name="Search results")
    hit = results.get_by_role("link").filter(has_text="pressure")
    expect(hit.locator("mark")).to_have_text("valve")
    hit.click()
    expect(page).to_have_url(re.compile(rf"/tickets/{ticket}\?message="))
    target = message(page, "The pressure valve needs replacing")
    expect(target).to_be_visible()
    expect(target).to_have_class(re.compile("message-highlight"))


def test_search_in_a_ticket_jumps_to_the_message(people, pages):
    alice, tom = people("Alice Carter"), people("Tom Reyes")
    ticket = create_ticket(alice, "Roof", tom)
    post(tom, ticket, "Found a cracked tile near the chimney")
    for i in range(80):
        post(alice, ticket, f"more chatter {i}")
    page = pages.open(alice, f"/tickets/{ticket}")
    expect(message(page, "more chatter 79")).to_be_visible()
    page.get_by_role("button", name="Search in this ticket").click()
    page.get_by_role("region", name="Conversation").get_by_role("searchbox", name="Search messages").fill(
        "chimney"
    )
    page.get_by_role("list", name="Search results").get_by_role("button").filter(has_text="chimney").click()
    expect(message(page, "cracked tile")).to_be_visible()
    expect(page).to_have_url(re.compile(r"\?message="))


def test_preferences_are_saved_at_once_and_persist(people, pages):
    alice = people("Alice Carter")
    page = pages.open(alice, "/settings/notifications")
    quote = page.get_by_role("checkbox", name="Quote approved")
    expect(quote).to_be_checked()
    quote.uncheck()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    # "Saved" is still on screen from the first change: wait for the second one's own save before reloading.
    with page.expect_response(
        lambda r: r.url.endswith("/me/notification-preferences") and r.request.method != "GET"
    ) as saved:
        page.get_by_role("checkbox", name="In-app notifications").uncheck()
    assert saved.value.ok
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    page.reload()
    expect(page.get_by_role("checkbox", name="Quote approved")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="In-app notifications")).not_to_be_checked()
    expect(page.get_by_role("checkbox", name="Email notifications")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Push notifications")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Ticket assigned")).to_be_checked()
    prefs = alice.http.get("/api/v1/me/notification-preferences").json()
    assert "QuoteApproved" not in prefs["emailEvents"] and prefs["chatEnabled"] is False


def test_quick_changes_each_show_at_once_and_all_persist(people, pages):
    # Three switches flipped while the first saves are still in flight: each shows its new state on
    # the click itself (uncheck() fails when a click leaves the box as it was), and the saves, sent
    # one at a time in order, leave all three changes on the server.
    alice = people("Alice Carter")
    page = pages.open(alice, "/settings/notifications")
    names = ["Quote declined", "Invoice generated", "In-app notifications"]
    expect(page.get_by_role("checkbox", name=names[0])).to_be_checked()
    for name in names:
        page.get_by_role("checkbox", name=name).uncheck()
    for name in names:
        expect(page.get_by_role("checkbox", name=name)).not_to_be_checked()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    prefs = alice.http.get("/api/v1/me/notification-preferences").json()
    assert {"QuoteDeclined", "InvoiceGenerated"}.isdisjoint(prefs["emailEvents"])
    assert prefs["chatEnabled"] is False
    page.reload()
    for name in names:
        expect(page.get_by_role("checkbox", name=name)).not_to_be_checked()


def test_the_bell_counts_a_new_notification_live(people, pages):
    alice, admin = people("Alice Carter"), people("Ada Admin", role="admin")
    page = pages.open(alice, "/tickets")
    expect(page.get_by_role("button", name="Notifications", exact=True)).to_be_visible()
    response = admin.http.post(
        "/api/v1/events",
        json={
            "type": "QuoteCreated",
            "recipientIds": [alice.id],
            "data": {"quote": {"number": "Q-7", "total": 120}},
        },
    )
    assert response.status_code == 202, response.text
    bell = page.get_by_role("button", name="Notifications, 1 unread")
    expect(bell).to_be_visible()
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    bell.click()
    expect(page).to_have_url(re.compile("/notifications$"))
    page.get_by_role("button", name="Mark all read").click()
    expect(page.get_by_role("button", name="Notifications", exact=True)).to_be_visible()


def test_sign_in_link_keeps_the_token_out_of_the_address_bar(people, pages):
    alice = people("Alice Carter")
    page = pages.open(alice, "/settings/notifications")
    expect(page).to_have_url(re.compile("/settings/notifications$"))
    assert "token" not in page.url
    history = page.evaluate("() => [location.hash, history.length]")
    assert history[0] == ""
    assert page.evaluate("() => sessionStorage.getItem('tc.token')") == alice.token


def test_signed_out_and_expired_screens_offer_sign_in(people, pages, server):
    page = pages.open(None, "/tickets")
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_have_attribute("href", re.compile("^/dev/login"))

    pages.allow_failed_requests = True
    expired = server.token("old-user", "Old User", ttl=-10)
    page.goto(f"/auth?next=/tickets#token={expired}")
    expect(page.get_by_role("heading", name="Your session has expired")).to_be_visible()


@pytest.mark.parametrize("path", ["/tickets", "/ticket", "/notifications", "/settings/notifications"])
def test_phone_width_has_no_horizontal_overflow(people, pages, path):
    alice, tom = people("Alice Carter"), people("Tom Reyes")
    ticket = create_ticket(alice, "A rather long ticket title that must truncate nicely on small phones", tom)
    post(tom, ticket, "A long message " + "with many words " * 20 + "https://example.com/" + "x" * 120)
    target = f"/tickets/{ticket}" if path == "/ticket" else path
    page = pages.open(alice, target, viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.wait_for_load_state("networkidle")
    if path == "/ticket":
        expect(log(page)).to_be_visible()
        expect(page.get_by_role("link", name="Back to tickets")).to_be_visible()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, f"{target} is {width}px wide at 360px"


@pytest.mark.parametrize("dark", [False, True])
def test_main_pages_have_no_serious_accessibility_issues(people, pages, dark):
    alice, tom = people("Alice Carter"), people("Tom Reyes")
    ticket = create_ticket(alice, "Accessibility check", tom, description="Checking **contrast**")
    post(tom, ticket, "Hello, how can I help?")
    post(alice, ticket, "The `door` is *stuck*")
    page = pages.open(alice, "/tickets", color_scheme="dark" if dark else "light")
    axe = Axe()
    problems = []
    for path in ["/tickets", f"/tickets/{ticket}", "/notifications", "/settings/notifications"]:
        page.goto(path)
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(300)
        results = axe.run(page)
        for violation in results.response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                problems.append(
                    f"{path}: {violation['id']} {violation['help']} {[n['target'] for n in violation['nodes']][:3]}"
                )
    assert not problems, "\n".join(problems)
