"""A ticket opens at its latest message, like Slack or Intercom, on desktop and phone, even when the last
messages include a photo: once the images have loaded and the layout is still, the list ends at its
bottom (a global CSS transition once animated the list's spacers, leaving it 40-110 px short)."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import Page, expect

from .conftest import create_ticket, post

VIEWPORTS = {
    "desktop": {"viewport": {"width": 1366, "height": 820}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}

# Resolves once every image in the list has loaded and the scroll geometry has not changed for 20
# consecutive frames: a stable layout, awaited rather than timed.
SETTLED = """el => new Promise(resolve => {
  let last = "", still = 0;
  const tick = () => {
    const images = [...el.querySelectorAll("img")];
    const now = [el.scrollTop, el.scrollHeight, el.clientHeight].join(",");
    still = images.length && images.every(i => i.complete && i.naturalWidth > 0) && now === last ? still + 1 : 0;
    last = now;
    if (still >= 20) resolve({ top: el.scrollTop, height: el.scrollHeight, client: el.clientHeight });
    else requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})"""


def photo() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (600, 800), (120, 160, 210)).save(buffer, "JPEG")
    return buffer.getvalue()


def send_photo(person, ticket_id: str) -> None:
    upload = person.http.post(
        f"/api/v1/tickets/{ticket_id}/attachments", files={"file": ("leak.jpg", photo(), "image/jpeg")}
    )
    upload.raise_for_status()
    body = {"content": "", "type": "Image", "attachmentId": upload.json()["id"]}
    person.http.post(f"/api/v1/tickets/{ticket_id}/messages", json=body).raise_for_status()


@pytest.mark.parametrize("device", VIEWPORTS)
def test_a_ticket_opens_at_its_latest_message_after_images_load(people, pages, device):
    alice, tom = people("Alice Carter"), people("Tom Reyes")
    ticket = create_ticket(alice, "Kitchen tap is leaking", tom)
    for i in range(1, 31):
        post(alice if i % 2 else tom, ticket, f"Earlier message {i:02d}\nwith a second line")
    send_photo(alice, ticket)
    post(alice, ticket, "Here is the photo of the **base** of the tap 🙏")
    last = post(alice, ticket, "Perfect, see you then")
    tom.http.post(f"/api/v1/tickets/{ticket}/read", json={"upToSeq": last["seq"]}).raise_for_status()

    page: Page = pages.open(tom, f"/tickets/{ticket}", **VIEWPORTS[device])
    log = page.get_by_role("log", name="Messages")
    expect(log.get_by_role("img", name="leak.jpg")).to_be_visible()
    geometry = log.evaluate(SETTLED)

    # Sub-pixel rounding aside, nothing is left below the view.
    assert geometry["height"] - geometry["client"] - geometry["top"] <= 1.5, geometry
    expect(log.get_by_role("article").filter(has_text="Perfect, see you then")).to_be_in_viewport(ratio=0.9)
    expect(page.get_by_role("button", name="Jump to latest")).to_have_count(0)
