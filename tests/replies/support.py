"""Helpers for the reply tests: tickets whose emails carry reply addresses, and replies sent back."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.email.support import Caught, Mail


async def new_ticket(
    mail: Mail, owner: str, *others: str, title: str = "Leaking tap"
) -> tuple[str, list[Caught]]:
    """A ticket of `owner` with `others` in it, and the TicketCreated emails they got."""
    await mail.users(owner, *others)
    r = await mail.client(owner).post(
        "/api/v1/tickets", json={"title": title, "participantIds": list(others)}
    )
    assert r.status_code == 201, r.text
    emails = await mail.sink.wait_for(len(others))
    mail.sink.messages.clear()
    return r.json()["id"], emails


async def raise_ticket_event(mail: Mail, ticket_id: str, user: str) -> Caught:
    """Another email about the ticket to `user` (a PaymentReceived)."""
    r = await mail.service.post(
        "/api/v1/events",
        json={
            "type": "PaymentReceived",
            "ticketId": ticket_id,
            "recipientIds": [user],
            "data": {"payment": {"amount": 7}},
        },
    )
    assert r.status_code == 202, r.text
    (email,) = await mail.sink.wait_for(1, predicate=lambda m: m.rcpt_tos == [f"{user}@example.com"])
    mail.sink.messages.clear()
    return email


async def inbound(mail: Mail, raw: bytes) -> Any:
    return await mail.service.post(
        "/api/v1/email/inbound", content=raw, headers={"Content-Type": "message/rfc822"}
    )


SAMPLES = Path(__file__).parent / "samples"


def sample(name: str, **values: str) -> bytes:
    """A sample mail with its placeholders ({{FROM}}, {{TO}}, ...) filled in."""
    text = (SAMPLES / name).read_bytes().decode("utf-8")
    defaults = {
        "FROM": "bob@example.com",
        "FROM_NAME": "Bob Smith",
        "DATE": "Thu, 03 Dec 2026 09:31:07 +0000",
        "MESSAGE_ID": f"<{uuid.uuid4().hex}@mail.example.com>",
        "SUBJECT": "New ticket: Leaking tap",
        "REFERENCES": "",
        "IN_REPLY_TO": "<unknown@tickets.test>",
    }
    for key, value in {**defaults, **values}.items():
        text = text.replace("{{" + key + "}}", value)
    return text.encode("utf-8")


def reply_to(email: Caught, name: str, **values: str) -> bytes:
    """`name` as a reply to `email` (to its Reply-To, quoting its ids) from its recipient."""
    given = {
        "TO": email.header("Reply-To"),
        "FROM": email.rcpt_tos[0],
        "IN_REPLY_TO": email.header("Message-ID"),
        "REFERENCES": email.header("References"),
        "SUBJECT": email.header("Subject"),
    }
    return sample(name, **{**given, **values})


async def messages(mail: Mail, ticket_id: str, as_user: str = "alice") -> list[dict[str, Any]]:
    r = await mail.client(as_user).get(f"/api/v1/tickets/{ticket_id}/messages", params={"limit": 100})
    assert r.status_code == 200, r.text
    return [m for m in r.json()["items"] if m["type"] != "System"]


async def reply_outcome(mail: Mail, raw: bytes) -> dict[str, Any]:
    r = await inbound(mail, raw)
    assert r.status_code == 200 and "reply" in r.json(), r.text
    return r.json()["reply"]
