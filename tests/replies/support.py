"""Helpers for the reply tests: tickets whose emails carry reply addresses, and replies sent back."""

from __future__ import annotations

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
