"""The installed app opens without a network: the service worker serves the shell, which says it is
offline (not "signed out"), and carries on by itself when the connection returns."""

from __future__ import annotations

from playwright.sync_api import expect


def test_the_app_shell_opens_offline_and_says_so(people, pages):
    alice = people("Alice Carter")
    page = pages.open(alice, "/tickets")
    expect(page.get_by_role("region", name="Tickets")).to_be_visible()
    # The worker is installed (its precache filled) and controls the page once `ready` resolves and
    # a reload happens under it.
    assert page.evaluate("navigator.serviceWorker.ready.then(r => !!r.active)")
    page.reload()
    page.wait_for_function("!!navigator.serviceWorker.controller")

    page.context.set_offline(True)
    try:
        _offline_then_back(page)
    finally:
        # Chromium logs each request refused while offline as a console error: that is the scenario here.
        pages.errors[:] = [e for e in pages.errors if "ERR_INTERNET_DISCONNECTED" not in e]


def _offline_then_back(page):
    page.reload()
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="back online")).to_be_visible()
    expect(page.get_by_role("heading", name="Your session has expired")).to_have_count(0)
    # Deep links open offline too (the worker answers every app route with the shell).
    page.goto("/settings/notifications")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()

    page.context.set_offline(False)
    expect(page.get_by_role("checkbox", name="Email notifications")).to_be_visible()
