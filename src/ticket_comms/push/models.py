"""Web Push tables: the browsers/devices subscribed per user, the push outbox (one row per push to one
subscription, with its attempts), and the pending chat-message pushes per ticket and user."""

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from ticket_comms.tables import metadata

push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    # The push service URL the browser gave; one browser profile has one, so it is unique.
    Column("endpoint", Text, nullable=False, unique=True),
    # The push service's origin (scheme://host[:port]): the VAPID `aud`, and the unit of concurrency
    # limits, so one slow push service cannot hold every sending slot.
    Column("origin", Text, nullable=False),
    # The browser's P-256 public key and auth secret (base64url, RFC 8291).
    Column("p256dh", Text, nullable=False),
    Column("auth", Text, nullable=False),
    Column("user_agent", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_success_at", DateTime(timezone=True)),
)

push_outbox = Table(
    "push_outbox",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    # SET NULL, not CASCADE: a push whose subscription expired (404/410) or was removed stays on
    # record with what happened to it.
    Column(
        "subscription_id",
        UUID(as_uuid=True),
        ForeignKey("push_subscriptions.id", ondelete="SET NULL"),
        index=True,
    ),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    # The event it belongs to (NULL for chat-message pushes, which have no event of their own).
    Column("event_id", UUID(as_uuid=True), ForeignKey("events.id", ondelete="CASCADE"), index=True),
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), index=True),
    # {id, type, title, body, ticketId, url}: what the service worker shows. Encrypted only when sent.
    Column("payload", JSONB, nullable=False),
    Column("topic", Text),
    Column("urgency", Text, nullable=False, server_default=text("'normal'")),
    Column("ttl", Integer, nullable=False),
    # Pending, Sent, Failed, Expired (the subscription is gone), Cancelled (removed before sending).
    Column("status", Text, nullable=False, server_default=text("'Pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    # The worker holding this row (a session advisory lock on the id proves it is alive).
    Column("claimed_by", BigInteger),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    Column("error_message", Text),
    # Every attempt and outcome: [{type, at, detail}].
    Column("events", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_push_outbox_due", "next_attempt_at", postgresql_where=text("status = 'Pending'")),
    Index("ix_push_outbox_created", text("created_at DESC"), text("id DESC")),
)

push_message_schedules = Table(
    "push_message_schedules",
    metadata,
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
    # Messages up to this seq were covered by an earlier push.
    Column("last_pushed_seq", BigInteger, nullable=False, server_default=text("0")),
    # When the pending push is due; NULL when none is pending. The push worker sweeps due rows.
    Column("due_at", DateTime(timezone=True)),
    Index("ix_push_message_schedules_due_at", "due_at", postgresql_where=text("due_at IS NOT NULL")),
)
