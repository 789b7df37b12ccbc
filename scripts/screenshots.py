"""Screenshots of the main screens, desktop and phone, light and dark, into docs/screenshots/.

Rerunnable: `make screenshots` (or `.venv/bin/python scripts/screenshots.py`) starts its own `serve` on a
temporary database, seeds a small realistic conversation through the public API, and drives Debian's
Chromium. Emoji need a colour emoji font (Debian: fonts-noto-color-emoji), installed here when missing.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

from PIL import Image, ImageDraw
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web_server import CHROMIUM_ARGS, chromium_path, post, running_server, user  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
VIEWPORTS = {"desktop": {"width": 1366, "height": 820}, "phone": {"width": 390, "height": 844}}


def photo() -> bytes:
    """A stand-in photo of a leaking tap (a drawn picture, so the repository ships no binary assets)."""
    img = Image.new("RGB", (960, 720), (214, 222, 230))
    d = ImageDraw.Draw(img)
    for y in range(720):
        d.line([(0, y), (960, y)], fill=(200 - y // 12, 210 - y // 14, 222 - y // 16))
    d.rectangle([0, 520, 960, 720], fill=(236, 238, 240))
    d.rounded_rectangle([380, 180, 580, 260], radius=30, fill=(160, 166, 174))
    d.rounded_rectangle([455, 250, 505, 420], radius=16, fill=(140, 146, 154))
    d.rounded_rectangle([420, 150, 540, 190], radius=16, fill=(120, 126, 134))
    for i, y in enumerate(range(440, 520, 22)):
        d.ellipse([472 - i, y, 488 + i, y + 18], fill=(90, 150, 220))
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + b"%" * 40_000


def seed(base: str) -> dict[str, str]:
    tag = uuid.uuid4().hex[:4]
    alice = user(base, f"alice-{tag}", "Alice Carter")
    tom = user(base, f"tom-{tag}", "Tom Reyes")
    ada = user(base, f"ada-{tag}", "Ada Lovelace", role="admin")

    def ticket(owner, title, description="", others=()):
        body = {"title": title, "description": description, "participantIds": [o.id for o in others]}
        return owner.http.post("/api/v1/tickets", json=body).json()["id"]

    other = ticket(alice, "Air conditioning not cooling", "The bedroom unit blows warm air.", [tom])
    post(tom, other, "I have ordered the replacement capacitor; it should arrive on Thursday.")
    done = ticket(alice, "Replace hallway light bulbs", "", [tom])
    post(tom, done, "All four bulbs are replaced. Anything else?")
    post(alice, done, "No, thank you — that was quick!")
    ada.http.patch(f"/api/v1/tickets/{done}", json={"assigneeId": tom.id})
    tom.http.patch(f"/api/v1/tickets/{done}", json={"status": "Completed"})
    held = ticket(alice, "Balcony door lock sticks", "Hard to turn the key.", [tom])
    ada.http.patch(f"/api/v1/tickets/{held}", json={"status": "OnHold"})

    main = ticket(
        alice,
        "Kitchen tap is leaking",
        "Water drips **constantly** from the base of the kitchen tap, since Monday.",
        [tom],
    )
    ada.http.patch(f"/api/v1/tickets/{main}", json={"assigneeId": tom.id})
    post(alice, main, "Hi Tom! The kitchen tap started leaking this morning and it is getting worse.")
    q = post(tom, main, "Thanks Alice. Could you send me a photo of the base of the tap?")
    up = alice.http.post(
        f"/api/v1/tickets/{main}/attachments", files={"file": ("tap.jpg", photo(), "image/jpeg")}
    ).json()
    post(alice, main, "", type="Image", attachmentId=up["id"], replyToId=q["id"])
    m = post(alice, main, "Also:\n- it drips every few seconds\n- the handle feels **loose**")
    tom.http.put(f"/api/v1/tickets/{main}/messages/{m['id']}/reactions/👍")
    tom.http.patch(f"/api/v1/tickets/{main}", json={"status": "InProgress"})
    f = tom.http.post(
        f"/api/v1/tickets/{main}/attachments", files={"file": ("quote-4711.pdf", pdf(), "application/pdf")}
    ).json()
    post(tom, main, "Here is the quote for the new cartridge.", type="File", attachmentId=f["id"])
    r = post(tom, main, "I can come by **tomorrow at 10:00** with a spare `cartridge` — does that work?")
    alice.http.put(f"/api/v1/tickets/{main}/messages/{r['id']}/reactions/🎉")
    alice.http.post(f"/api/v1/tickets/{main}/read", json={"upToSeq": r["seq"]})
    post(alice, main, "Perfect, see you then 🙏")
    tom.http.post(f"/api/v1/tickets/{main}/read")
    post(tom, other, "Quick update: the part has shipped.")
    ada.http.post(
        "/api/v1/events",
        json={
            "type": "QuoteCreated",
            "recipientIds": [alice.id],
            "data": {"quote": {"number": "Q-4711", "total": 240}},
        },
    )
    return {"alice": alice.token, "tom": tom.token, "main": main}


def ensure_emoji_font() -> None:
    apt = shutil.which("apt-get")
    if not Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf").exists() and apt:
        subprocess.run([apt, "install", "-y", "-qq", "fonts-noto-color-emoji"], check=False)  # noqa: S603


def main() -> None:
    ensure_emoji_font()
    OUT.mkdir(parents=True, exist_ok=True)
    with running_server() as base:
        data = seed(base)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            for device, viewport in VIEWPORTS.items():
                for scheme in ("light", "dark"):
                    phone = device == "phone"
                    ctx = browser.new_context(
                        base_url=base,
                        viewport=viewport,
                        color_scheme=scheme,
                        device_scale_factor=2 if phone else 1,
                        is_mobile=phone,
                        has_touch=phone,
                    )
                    page = ctx.new_page()
                    page.goto(f"/auth?next=/tickets/{data['main']}#token={data['alice']}")
                    page.get_by_role("log", name="Messages").wait_for()
                    page.wait_for_timeout(1200)
                    page.screenshot(path=OUT / f"{device}-{scheme}-chat.png")
                    page.goto("/tickets")
                    page.get_by_role("region", name="Tickets").get_by_role("link").first.wait_for()
                    page.wait_for_timeout(600)
                    page.screenshot(path=OUT / f"{device}-{scheme}-tickets.png")
                    search = page.get_by_role("region", name="Tickets").get_by_role(
                        "searchbox", name="Search messages"
                    )
                    search.fill("cartridge")
                    page.get_by_role("list", name="Search results").get_by_role("link").first.wait_for()
                    page.wait_for_timeout(300)
                    page.screenshot(path=OUT / f"{device}-{scheme}-search.png")
                    search.fill("")
                    page.get_by_role("button", name="New ticket").click()
                    page.get_by_label("Title").fill("Garage door stuck half way")
                    page.get_by_role("combobox", name="Participants").fill("t")
                    page.get_by_role("listbox", name="People").get_by_role("option").first.wait_for()
                    page.wait_for_timeout(300)
                    page.screenshot(path=OUT / f"{device}-{scheme}-new-ticket.png")
                    page.goto("/notifications")
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=OUT / f"{device}-{scheme}-notifications.png")
                    page.goto("/settings/notifications")
                    page.get_by_role("checkbox", name="Email notifications").wait_for()
                    page.wait_for_timeout(300)
                    page.screenshot(path=OUT / f"{device}-{scheme}-preferences.png")
                    ctx.close()
            browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
