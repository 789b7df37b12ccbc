"""Push notifications in Chromium: the preferences switch subscribes this browser, the server pushes to
a local push service (tests/push/service.py: checks VAPID, decrypts the aes128gcm body), the pushed
payload is delivered to the app's service worker with the DevTools protocol
(`ServiceWorker.deliverPushMessage`), which shows the notification; a click on it brings the tab to the
ticket. The device list shows and removes devices; a blocked permission is explained.

Headless Chromium has no push service (`pushManager.subscribe` cannot reach FCM), so the page's
`PushManager` is given a subscription at the local push service, with keys the test holds: everything
else (the app's code, the server, the worker, encryption, the service worker) is the real thing."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.push.service import PushService, Subscriber

from .conftest import Person, create_ticket

# A PushManager whose subscription lives at the local push service. `subscribe` checks the server key
# it is given, like a browser would; the subscription survives reloads (localStorage) like a real one.
FAKE_PUSH_MANAGER = """
(() => {
  const sub = %s;
  const b64 = (t) => Uint8Array.from(atob(t.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - t.length %% 4) %% 4)), (c) => c.charCodeAt(0)).buffer;
  const make = (key) => ({
    endpoint: sub.endpoint, expirationTime: null, options: { userVisibleOnly: true, applicationServerKey: key },
    getKey: (name) => b64(sub.keys[name]),
    toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }),
    unsubscribe: async () => { localStorage.removeItem("fake-push-key"); return true; },
  });
  const stored = () => localStorage.getItem("fake-push-key");
  PushManager.prototype.getSubscription = async function () { return stored() ? make(b64(stored())) : null; };
  PushManager.prototype.subscribe = async function (options) {
    const key = btoa(String.fromCharCode(...new Uint8Array(options.applicationServerKey))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
    localStorage.setItem("fake-push-key", key);
    return make(b64(key));
  };
})();
"""


class ThreadedPushService:
    """The local push service on its own event loop (the browser tests are synchronous)."""

    def __init__(self) -> None:
        self.service = PushService()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.service.start(), self.loop).result(10)

    def wait_for(self, sub: Subscriber, count: int = 1, timeout: float = 30) -> list[Any]:
        return asyncio.run_coroutine_threadsafe(self.service.wait_for(count, sub, timeout), self.loop).result(
            timeout + 5
        )

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.service.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def push_service() -> Iterator[ThreadedPushService]:
    threaded = ThreadedPushService()
    yield threaded
    threaded.close()


def open_with_push(pages, person: Person, sub: Subscriber) -> tuple[Page, BrowserContext]:
    page = pages.open(person, "/settings/notifications", permissions=["notifications"])
    context = page.context
    context.add_init_script(FAKE_PUSH_MANAGER % json.dumps(sub.subscription_json()))
    # The service worker installs on the first load and claims the tab; reloaded, the fake applies too.
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    return page, context


def push_switch(page: Page):
    return page.get_by_role("checkbox", name="Push notifications")


def sw_notifications(page: Page) -> list[dict[str, Any]]:
    return page.evaluate(
        """navigator.serviceWorker.ready.then((r) => r.getNotifications()).then((ns) =>
             ns.map((n) => ({ title: n.title, body: n.body, tag: n.tag, icon: n.icon, badge: n.badge, data: n.data })))"""
    )


def wait_notifications(page: Page, check, timeout: float = 15) -> list[dict[str, Any]]:
    """Polls the service worker's shown notifications until `check(them)` holds."""
    deadline = time.monotonic() + timeout
    while True:
        shown = sw_notifications(page)
        if check(shown):
            return shown
        assert time.monotonic() < deadline, f"notifications shown: {shown}"
        page.wait_for_timeout(100)


def deliver(context: BrowserContext, page: Page, origin: str, payload: dict[str, Any]) -> None:
    cdp = context.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(r["registrationId"] for r in e["registrations"] if not r["isDeleted"]),
    )
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert registrations, "no service worker registration"
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": origin, "registrationId": registrations[0], "data": json.dumps(payload)},
    )
    cdp.detach()


def test_push_reaches_the_service_worker_and_a_click_opens_the_ticket(
    people, pages, server, push_service: ThreadedPushService
):
    alice, bob = people("Alice Carter"), people("Bob Stone", "admin")
    push_service.service.vapid_key = alice.http.get("/api/v1/push/public-key").json()["publicKey"]
    sub = push_service.service.subscriber()
    page, context = open_with_push(pages, alice, sub)

    switch = push_switch(page)
    expect(switch).not_to_be_checked()
    switch.click()
    expect(switch).to_be_checked()
    devices = page.get_by_role("list", name="Devices")
    expect(devices.get_by_role("listitem")).to_have_count(1)
    expect(devices).to_contain_text("Chrome on Linux")
    expect(devices).to_contain_text("This device")
    assert alice.http.get("/api/v1/me/notification-preferences").json()["pushEnabled"] is True

    # A ticket event for Alice: the worker encrypts and signs it for the local push service.
    ticket_id = create_ticket(bob, "Boiler service", alice)
    r = bob.http.post(
        "/api/v1/events",
        json={
            "type": "TicketAssigned",
            "ticketId": ticket_id,
            "recipientIds": [alice.id],
            "data": {"assignee": {"name": "Alice Carter"}},
        },
    )
    assert r.status_code == 202, r.text
    assert {"recipientId": alice.id, "channel": "push", "status": "Pending"}.items() <= next(
        d for d in r.json()["deliveries"] if d["channel"] == "push"
    ).items()
    # Creating the ticket pushed Alice its TicketCreated as well: both come, and often in one batch (the
    # test once took whichever arrived first and failed when both had).
    pushes = push_service.wait_for(sub, count=2)
    assert sorted(p.payload["type"] for p in pushes) == ["TicketAssigned", "TicketCreated"]
    [received] = [p for p in pushes if p.payload["type"] == "TicketAssigned"]
    assert push_service.service.rejected == []
    payload = received.payload
    assert payload["ticketId"] == ticket_id and payload["url"] == f"/tickets/{ticket_id}"
    assert received.headers["Topic"] == ticket_id.replace("-", "")

    # The browser's push service would hand the decrypted payload to the service worker: CDP does.
    page.goto("/notifications")
    deliver(context, page, server.base_url, payload)
    [shown] = wait_notifications(page, lambda ns: len(ns) == 1)
    assert shown["title"] == payload["title"] and shown["body"] == payload["body"]
    assert shown["tag"] == f"ticket-{ticket_id}"
    assert shown["icon"].endswith("/icons/icon-192.png") and shown["badge"].endswith("/icons/icon-192.png")
    assert shown["data"]["url"] == f"/tickets/{ticket_id}"

    # A newer push for the same ticket replaces the shown one (same tag), it does not pile up.
    deliver(context, page, server.base_url, {**payload, "id": "second", "body": "Assigned again"})
    wait_notifications(page, lambda ns: [n["body"] for n in ns] == ["Assigned again"])

    # Clicking it (headless shows no notification to click: the service worker gets the event from
    # script) brings this tab to the ticket.
    [worker] = context.service_workers
    worker.evaluate(
        """self.registration.getNotifications().then(([n]) =>
             self.dispatchEvent(new NotificationEvent("notificationclick", { notification: n })))"""
    )
    page.wait_for_url(f"**/tickets/{ticket_id}")
    expect(page.get_by_role("heading", name="Boiler service")).to_be_visible()
    wait_notifications(page, lambda ns: ns == [])


def test_devices_are_listed_and_removed(people, pages, push_service: ThreadedPushService):
    alice = people("Alice Carter")
    push_service.service.vapid_key = alice.http.get("/api/v1/push/public-key").json()["publicKey"]
    phone = push_service.service.subscriber()
    r = alice.http.post(
        "/api/v1/me/push-subscriptions",
        json={
            **phone.subscription_json(),
            "userAgent": "Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0",
        },
    )
    assert r.status_code == 201
    here = push_service.service.subscriber()
    page, _ = open_with_push(pages, alice, here)
    devices = page.get_by_role("list", name="Devices")
    expect(devices.get_by_role("listitem")).to_have_count(1)
    expect(devices).to_contain_text("Firefox on Android")
    expect(devices).to_contain_text("no push yet")

    push_switch(page).click()
    expect(devices.get_by_role("listitem")).to_have_count(2)

    page.get_by_role("button", name="Remove Firefox on Android").click()
    expect(devices.get_by_role("listitem")).to_have_count(1)
    assert [d["endpoint"] for d in alice.http.get("/api/v1/me/push-subscriptions").json()] == [here.endpoint]

    # Removing this device turns the switch off here and drops the browser's subscription.
    page.get_by_role("button", name="Remove Chrome on Linux (this device)").click()
    expect(page.get_by_text("No devices yet")).to_be_visible()
    expect(push_switch(page)).not_to_be_checked()
    assert alice.http.get("/api/v1/me/push-subscriptions").json() == []
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => r.pushManager.getSubscription())") is None


def test_blocked_notifications_are_explained(people, pages, server):
    alice = people("Alice Carter")
    page = pages.open(alice, "/settings/notifications")
    cdp = page.context.new_cdp_session(page)
    context_id = cdp.send("Target.getTargetInfo")["targetInfo"]["browserContextId"]
    cdp.send(
        "Browser.setPermission",
        {
            "origin": server.base_url,
            "permission": {"name": "notifications"},
            "setting": "denied",
            "browserContextId": context_id,
        },
    )
    page.reload()
    expect(page.get_by_role("note")).to_contain_text("Notifications are blocked for this site")
    expect(page.get_by_role("note")).to_contain_text("set Notifications to “Allow”")
    expect(push_switch(page)).to_be_disabled()
    # A screen reader hears why, with the switch.
    expect(push_switch(page)).to_have_accessible_description(re.compile("Notifications are blocked"))


def test_a_replaced_subscription_moves_the_device(people, pages, push_service: ThreadedPushService):
    """`pushsubscriptionchange` (the browser renewed the subscription; Chrome says not which one it
    replaced): the service worker names the old one from what the page remembered, proves it with its
    auth secret, and the server moves the device to the new endpoint, keeping its id."""
    alice = people("Alice Carter")
    push_service.service.vapid_key = alice.http.get("/api/v1/push/public-key").json()["publicKey"]
    old = push_service.service.subscriber()
    page, context = open_with_push(pages, alice, old)
    push_switch(page).click()
    expect(push_switch(page)).to_be_checked()
    [before] = alice.http.get("/api/v1/me/push-subscriptions").json()

    new = push_service.service.subscriber()
    [worker] = context.service_workers
    worker.evaluate(
        """(sub) => {
             const b64 = (t) => Uint8Array.from(atob(t.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - t.length % 4) % 4)), (c) => c.charCodeAt(0)).buffer;
             const event = new ExtendableEvent("pushsubscriptionchange");
             Object.defineProperty(event, "newSubscription", { value: {
               endpoint: sub.endpoint, getKey: (name) => b64(sub.keys[name]), toJSON: () => sub } });
             self.dispatchEvent(event);
           }""",
        new.subscription_json(),
    )
    deadline = time.monotonic() + 15
    while (listed := alice.http.get("/api/v1/me/push-subscriptions").json())[0]["endpoint"] != new.endpoint:
        assert time.monotonic() < deadline, listed
        time.sleep(0.1)
    assert [d["id"] for d in listed] == [before["id"]]
    # The service worker now remembers the new subscription, for the next change.
    remembered = worker.evaluate(
        """caches.open("push-state").then((c) => c.match("/push-state/subscription.json")).then((r) => r.json())"""
    )
    assert remembered["endpoint"] == new.endpoint
    assert remembered["auth"] == new.subscription_json()["keys"]["auth"]
