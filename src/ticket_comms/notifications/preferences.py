"""Notification preferences: read, change (fields left out keep their value), and the one-click
unsubscribe of one event type. Stored as the event types switched *off*, so new types start on."""

from __future__ import annotations

from typing import Any

from ticket_comms.auth.service import CurrentUser
from ticket_comms.catalogue import EVENT_TYPES
from ticket_comms.context import AppContext
from ticket_comms.errors import ValidationFailed
from ticket_comms.notifications.schemas import Preferences, PreferencesOut


def preferences_out(row: dict[str, Any] | None) -> PreferencesOut:
    off = set(row["email_events_off"]) if row else set()
    return PreferencesOut(
        emailEnabled=row["email_enabled"] if row else True,
        pushEnabled=row["push_enabled"] if row else True,
        chatEnabled=row["chat_enabled"] if row else True,
        emailEvents=[t for t in EVENT_TYPES if t not in off],
    )


async def get_preferences(ctx: AppContext, user: CurrentUser) -> PreferencesOut:
    row = await ctx.db.fetch_one("SELECT * FROM notification_preferences WHERE user_id = %s", (user.id,))
    return preferences_out(row)


async def put_preferences(ctx: AppContext, user: CurrentUser, body: Preferences) -> PreferencesOut:
    sent = body.model_fields_set
    events_off = None
    if "email_events" in sent and body.email_events is not None:
        unknown = sorted(set(body.email_events) - set(EVENT_TYPES))
        if unknown:
            raise ValidationFailed(
                "Unknown event types in emailEvents.",
                code="unknown_event_type",
                details={"unknown": unknown, "allowed": list(EVENT_TYPES)},
            )
        events_off = [t for t in EVENT_TYPES if t not in body.email_events]
    row = await ctx.db.fetch_one(
        """
        INSERT INTO notification_preferences AS np (user_id, email_enabled, push_enabled, chat_enabled,
                                                    email_events_off)
        VALUES (%(user_id)s, coalesce(%(email)s, true), coalesce(%(push)s, true), coalesce(%(chat)s, true),
                coalesce(%(off)s::text[], '{}'))
        ON CONFLICT (user_id) DO UPDATE SET
            email_enabled = coalesce(%(email)s, np.email_enabled),
            push_enabled = coalesce(%(push)s, np.push_enabled),
            chat_enabled = coalesce(%(chat)s, np.chat_enabled),
            email_events_off = coalesce(%(off)s::text[], np.email_events_off),
            updated_at = now()
        RETURNING *
        """,
        {
            "user_id": user.id,
            "email": body.email_enabled,
            "push": body.push_enabled,
            "chat": body.chat_enabled,
            "off": events_off,
        },
    )
    return preferences_out(row)


async def unsubscribe(ctx: AppContext, user_id: str, event_type: str) -> bool:
    """Turn one event type's emails off for a user (the one-click link). False if the user is unknown."""
    row = await ctx.db.fetch_one(
        """
        INSERT INTO notification_preferences AS np (user_id, email_events_off)
        SELECT u.id, ARRAY[%(type)s] FROM users u WHERE u.id = %(user_id)s
        ON CONFLICT (user_id) DO UPDATE SET
            email_events_off = CASE WHEN %(type)s = ANY(np.email_events_off) THEN np.email_events_off
                                    ELSE np.email_events_off || %(type)s END,
            updated_at = now()
        RETURNING user_id
        """,
        {"user_id": user_id, "type": event_type},
    )
    return row is not None
