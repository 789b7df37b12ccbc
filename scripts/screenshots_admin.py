"""Screenshots of every admin console screen (desktop and phone, light and dark) into docs/screenshots/.

Starts `ticket-comms serve` on a throwaway data directory (its own embedded PostgreSQL and dev
mailbox), fills it with a few real emails (sent, bounced and so suppressed, a custom template), and
drives Debian's Chromium through Playwright. Needs the built app (`npm run build` in web/).

    .venv/bin/python scripts/screenshots_admin.py [--only templates,emails]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from ticket_comms.auth.tokens import mint
from ticket_comms.config import DEV_JWT_SECRET, Settings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 360, "height": 780}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bounce(message_id: str, recipient: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.net\r\nTo: bounces@localhost\r\nSubject: Undelivered\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 mailbox unavailable\r\n\r\n"
        f"--B\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {message_id}\r\n\r\n--B--\r\n"
    ).encode()


def seed(base: str, settings: Settings) -> tuple[str, str]:
    """Users, emails and a suppression; returns (admin token, id of a sent email)."""

    def client(user: str, name: str, role: str | None = None) -> tuple[httpx.Client, str]:
        token = mint(settings, user, role=role, name=name, email=f"{user}@example.com", ttl_seconds=7200)
        c = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
        c.get("/api/v1/me").raise_for_status()
        return c, token

    admin, token = client("ada", "Ada Admin", "admin")
    ids = ["carol", "dan", "erin"]
    for user, name in zip(ids, ("Carol Diaz", "Dan Okafor", "Erin Vale"), strict=True):
        client(user, name)[0].close()  # signing in once registers the user and their address
    events = [
        ("OTPRequested", {"otp": {"code": "482913", "expiresInMinutes": 10}}),
        ("PaymentReceived", {"payment": {"amount": 1312.5, "currency": "AED", "reference": "PAY-88231"}}),
        ("QuoteCreated", {"quote": {"number": "Q-1042", "total": 1250, "currency": "AED"}}),
        ("InvoiceGenerated", {"invoice": {"number": "INV-2207", "total": 1312.5, "currency": "AED"}}),
    ]
    logs: list[str] = []
    for kind, data in events:
        r = admin.post("/api/v1/events", json={"type": kind, "recipientIds": ids, "data": data})
        r.raise_for_status()
        logs += [d["emailLogId"] for d in r.json()["deliveries"] if d.get("emailLogId")]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pending = admin.get("/api/v1/email/logs", params={"status": "Pending"}).json()["items"]
        if not pending:
            break
        time.sleep(0.3)
    first = admin.get(f"/api/v1/email/logs/{logs[0]}").json()
    erin = admin.get("/api/v1/email/logs", params={"recipient": "erin@example.com"}).json()["items"][0]
    admin.post(
        "/api/v1/email/inbound",
        content=bounce(erin["messageId"], "erin@example.com"),
        headers={"Content-Type": "message/rfc822"},
    ).raise_for_status()
    admin.post(
        "/api/v1/email/templates",
        json={
            "name": "WelcomeEmail",
            "subject": "Welcome to {{ app.name }}, {{ recipient.name }}",
            "htmlContent": "<h1>Welcome, {{ recipient.name }}</h1>\n<p>Your tickets, messages and "
            "updates are in one place.</p>\n{{ button(app.url, 'Open Tickets') }}\n",
            "isActive": False,
        },
    ).raise_for_status()
    # A second saved version, for the history dialog.
    admin.put(
        "/api/v1/email/templates/WelcomeEmail",
        json={
            "subject": "Welcome aboard, {{ recipient.name }}",
            "textContent": "Welcome, {{ recipient.name }}.",
        },
    ).raise_for_status()
    return token, first["id"]


def open_history(page: Page) -> None:
    page.get_by_role("button", name="History").click()
    page.get_by_role("dialog").get_by_role("button", name="Version 1").click()


def show_insights(page: Page) -> None:
    page.get_by_role("heading", name="Most common failure reasons").scroll_into_view_if_needed()


def show_sent(page: Page) -> None:
    page.get_by_role("button", name="Show the email").click()
    page.get_by_test_id("sent-subject").wait_for(timeout=30_000)
    page.get_by_role("heading", name="The email as sent").scroll_into_view_if_needed()


def shoot(page: Page, name: str, ready: str) -> None:
    page.get_by_text(ready, exact=False).first.wait_for(timeout=30_000)
    page.wait_for_timeout(900)  # debounced preview, chart drawing, fonts
    page.screenshot(path=OUT / f"{name}.png")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="", help="comma-separated screen names")
    only = {s for s in parser.parse_args().only.split(",") if s}
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="tc-shots-") as data:
        env = {
            **os.environ,
            "DATA_DIR": data,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "JWT_SECRET": DEV_JWT_SECRET,
            "PUBLIC_BASE_URL": base,
            "LOG_LEVEL": "WARNING",
        }
        for key in ("DATABASE_URL", "REDIS_URL", "SMTP_URL"):
            env.pop(key, None)
        proc = subprocess.Popen([sys.executable, "-m", "ticket_comms.cli", "serve"], cwd=ROOT, env=env)
        try:
            for _ in range(1200):
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            settings = Settings(_env_file=None, jwt_secret=DEV_JWT_SECRET)  # type: ignore[call-arg]
            token, email_id = seed(base, settings)
            screens = [
                ("templates", "/admin/templates", "WelcomeEmail"),
                ("template-editor", "/admin/templates/TicketAssigned", "Preview updated."),
                ("emails", "/admin/emails", "Payment received"),
                ("email-detail", f"/admin/emails/{email_id}", "Accepted by the mail server"),
                ("delivery", "/admin/delivery?period=7d", "Emails per day"),
                ("suppressions", "/admin/suppressions", "erin@example.com"),
                ("template-history", "/admin/templates/WelcomeEmail", "Preview updated."),
                ("email-sent", f"/admin/emails/{email_id}", "Accepted by the mail server"),
                ("delivery-insights", "/admin/delivery?period=7d", "Slowest from queued to sent"),
            ]
            actions = {
                "template-history": open_history,
                "email-sent": show_sent,
                "delivery-insights": show_insights,
            }
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                    args=["--disable-background-networking", "--disable-component-update", "--no-first-run"],
                )
                for device, viewport in VIEWPORTS.items():
                    for scheme in ("light", "dark"):
                        context = browser.new_context(
                            base_url=base, viewport=viewport, color_scheme=scheme, device_scale_factor=1
                        )
                        page = context.new_page()
                        page.goto(f"/auth?next=/admin/templates#token={token}")
                        page.wait_for_url(lambda url: "/auth" not in url)
                        for name, path, ready in screens:
                            if only and name not in only:
                                continue
                            page.goto(path)
                            if name in actions:
                                page.get_by_text(ready, exact=False).first.wait_for(timeout=30_000)
                                actions[name](page)
                            shoot(page, f"admin-{name}-{device}-{scheme}", ready)
                            print(f"admin-{name}-{device}-{scheme}.png")
                        context.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
