"""Screenshots of the admin console's inbound mail page (desktop 1366x820 and phone 390x844, light and dark)
into docs/screenshots/admin-inbound-*.png, and a check that nothing overflows at 360 px.

Starts `ticket-comms serve` on a throwaway data directory (its own embedded PostgreSQL and dev mailbox)
with REPLY_DOMAIN set, answers real ticket emails (their Reply-To read from the dev mailbox) through
POST /api/v1/email/inbound: accepted replies, a repeat, a forged sender, an out-of-office, a stolen
address, a bounce report and mail for no one. Needs the built app (`make web`).

    .venv/bin/python scripts/screenshots_inbound.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from email import message_from_string
from pathlib import Path

import httpx
from playwright.sync_api import Page, sync_playwright

from ticket_comms.auth.tokens import mint
from ticket_comms.config import DEV_JWT_SECRET, Settings

ONLY_THIS_TICKET = "Only this ticket\u2019s mail"
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1366, "height": 820}, "phone": {"width": 390, "height": 844}}
REPLY_DOMAIN = "reply.localhost"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mail(sender: str, to: str, subject: str, body: str, *, in_reply_to: str = "", extra: str = "") -> bytes:
    return (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{uuid.uuid4().hex}@mail.example.com>\r\n"
        f"In-Reply-To: {in_reply_to}\r\nDate: Thu, 03 Dec 2026 09:31:07 +0000\r\n{extra}MIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def seed(base: str, settings: Settings) -> tuple[str, str]:
    """Tickets, their emails and the mail that came back; returns the admin's token and the forged subject."""

    def client(user: str, name: str, role: str | None = None) -> tuple[httpx.Client, str]:
        token = mint(settings, user, role=role, name=name, email=f"{user}@example.com", ttl_seconds=7200)
        c = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
        c.get("/api/v1/me").raise_for_status()
        return c, token

    admin, token = client("ada", "Ada Admin", "admin")
    alice, _ = client("alice", "Alice Carter")
    for user, name in (("bob", "Bob Smith"), ("carol", "Carol Diaz"), ("dan", "Dan Okafor")):
        client(user, name)[0].close()

    def ticket_email(title: str, user: str) -> dict[str, str]:
        alice.post("/api/v1/tickets", json={"title": title, "participantIds": [user]}).raise_for_status()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            items = admin.get("/dev/mailbox.json").json()["items"]
            found = [m for m in items if f"{user}@example.com" in m["rcptTos"] and title in m["subject"]]
            if found:
                raw = admin.get(f"/dev/mailbox/{found[0]['id']}.json").json()["raw"]
                return dict(message_from_string(raw).items())
            time.sleep(0.3)
        raise RuntimeError(f"no email to {user}")

    def inbound(raw: bytes) -> None:
        r = admin.post("/api/v1/email/inbound", content=raw, headers={"Content-Type": "message/rfc822"})
        assert r.status_code in (200, 413), r.text

    tap = ticket_email("Leaking kitchen tap", "bob")
    ac = ticket_email("Air conditioning not cooling", "carol")
    door = ticket_email("Front door lock sticks", "dan")
    inbound(
        mail(
            "Mail Delivery System <MAILER-DAEMON@mx.example.net>",
            "bounces@localhost",
            "Delivery Status Notification (Failure)",
            "Undeliverable.",
        )
    )
    inbound(
        mail(
            "newsletter@shop.example",
            f"reply+{'0' * 48}@{REPLY_DOMAIN}",
            "Re: Leaking kitchen tap",
            "Win a prize!",
        )
    )
    inbound(
        mail(
            "Dan Okafor <dan@example.com>",
            door["Reply-To"],
            "Automatic reply: Front door lock sticks",
            "I am out of the office until Monday.",
            extra="Auto-Submitted: auto-replied\r\n",
        )
    )
    first = mail(
        "Bob Smith <bob@example.com>",
        tap["Reply-To"],
        f"Re: {tap['Subject']}",
        "Thursday morning works for me, the key is with the concierge.",
        in_reply_to=tap["Message-ID"],
    )
    inbound(first)
    inbound(first)  # the MTA delivered it twice
    inbound(
        mail(
            "Mallory <mallory@evil.example>",
            ac["Reply-To"],
            f"Re: {ac['Subject']}",
            "Please pay the invoice to this account.",
            in_reply_to=ac["Message-ID"],
        )
    )
    inbound(
        mail(
            "Carol Diaz <carol@example.com>",
            ac["Reply-To"],
            f"Re: {ac['Subject']}",
            "It is still warm in the bedroom, around 29 degrees in the afternoon.",
            in_reply_to=ac["Message-ID"],
        )
    )
    return token, f"Re: {ac['Subject']}"


def shoot(page: Page, name: str) -> None:
    page.get_by_role("cell", name="Sender mismatch").first.wait_for(timeout=30_000)
    page.wait_for_timeout(600)
    page.screenshot(path=OUT / f"{name}.png")
    print(f"{name}.png")


def overflow(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="tc-inbound-shots-") as data:
        env = {
            **os.environ,
            "DATA_DIR": data,
            "PORT": str(port),
            "HOST": "127.0.0.1",
            "JWT_SECRET": DEV_JWT_SECRET,
            "PUBLIC_BASE_URL": base,
            "REPLY_DOMAIN": REPLY_DOMAIN,
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
            token, forged = seed(base, settings)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(
                    executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
                    args=["--disable-background-networking", "--disable-component-update", "--no-first-run"],
                )
                for device, viewport in {**VIEWPORTS, "narrow": {"width": 360, "height": 780}}.items():
                    for scheme in ("light", "dark"):
                        context = browser.new_context(base_url=base, viewport=viewport, color_scheme=scheme)
                        page = context.new_page()
                        page.goto(f"/auth?next=/admin/inbound#token={token}")
                        page.wait_for_url(lambda url: "/auth" not in url)
                        page.get_by_role("cell", name="Sender mismatch").first.wait_for(timeout=30_000)
                        # The forged reply opened, to show a refusal's reason.
                        page.get_by_role("button", name=forged).last.click()
                        if device == "narrow":
                            assert overflow(page) <= 0, f"the page overflows at 360 px ({scheme})"
                            page.get_by_role("button", name=ONLY_THIS_TICKET).click()
                            page.get_by_role("button", name="Show mail for every ticket").wait_for()
                            assert overflow(page) <= 0, f"one ticket's mail overflows at 360 px ({scheme})"
                            page.screenshot(path=Path(tempfile.gettempdir()) / f"inbound-narrow-{scheme}.png")
                        else:
                            shoot(page, f"admin-inbound-{device}-{scheme}")
                        context.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
