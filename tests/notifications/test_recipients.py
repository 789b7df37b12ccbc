"""`decide(recipient, event)`: who gets an event by email and in-app, and why not, one rule at a time."""

from __future__ import annotations

from typing import Any

import pytest

from ticket_comms.notifications.recipients import Decision, Event, decide


def recipient(**overrides: Any) -> dict[str, Any]:
    row = {
        "id": "u1",
        "email": "u1@example.com",
        "name": "U One",
        "email_enabled": True,
        "chat_enabled": True,
        "events_off": [],
        "is_muted": False,
        "suppressed": False,
        "push_enabled": True,
        "has_device": True,
    }
    return {**row, **overrides}


ON = Event("TicketCreated", email_on=True)


def test_everything_on_queues_the_email_and_creates_the_notification():
    assert decide(recipient(), ON) == Decision("Pending", "Created", "Pending")


@pytest.mark.parametrize(
    ("overrides", "event", "expected"),
    [
        ({"is_muted": True}, ON, Decision("Muted", "Muted", "Muted")),
        ({}, Event("TicketCreated", email_on=False), Decision("TemplateInactive", "Created", "Pending")),
        ({"email_enabled": False}, ON, Decision("Disabled", "Created", "Pending")),
        ({"events_off": ["TicketCreated"]}, ON, Decision("Disabled", "Created", "Pending")),
        ({"events_off": ["QuoteCreated"]}, ON, Decision("Pending", "Created", "Pending")),
        ({"email": None}, ON, Decision("NoAddress", "Created", "Pending")),
        ({"suppressed": True}, ON, Decision("Suppressed", "Created", "Pending")),
        ({"chat_enabled": False}, ON, Decision("Pending", "Disabled", "Pending")),
        ({"push_enabled": False}, ON, Decision("Pending", "Created", "Disabled")),
        ({"has_device": False}, ON, Decision("Pending", "Created", "NoDevice")),
        # A mute wins over a switched-off template and preferences: the recipient asked for silence.
        (
            {"is_muted": True, "email_enabled": False},
            Event("TicketCreated", False),
            Decision("Muted", "Muted", "Muted"),
        ),
        # Chat messages have their own push; their email digest is not pushed.
        ({}, Event("MessageReceived", email_on=True), Decision("Pending", "Created", None)),
    ],
)
def test_each_reason_not_to_send(overrides, event, expected):
    assert decide(recipient(**overrides), event) == expected


def test_security_mail_ignores_mutes_and_preferences_but_not_a_missing_or_suppressed_address():
    otp = Event("OTPRequested", email_on=True)
    for overrides in ({"is_muted": True}, {"email_enabled": False}, {"events_off": ["OTPRequested"]}):
        assert decide(recipient(**overrides), otp).email == "Pending"
        assert decide(recipient(**overrides), otp).in_app is None
    assert decide(recipient(email=""), otp).email == "NoAddress"
    assert decide(recipient(suppressed=True), otp) == Decision("Suppressed", None, "Pending")
    assert decide(recipient(), Event("OTPRequested", email_on=False)) == Decision(
        "TemplateInactive", None, "Pending"
    )
    # The push only says a code was sent: it follows pushEnabled.
    assert decide(recipient(push_enabled=False), otp).push == "Disabled"
