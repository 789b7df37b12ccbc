"""Events, in-app notifications, notification preferences and chat-message digest state."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from ticket_comms.tables import metadata

events = Table(
    "events",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("type", Text, nullable=False),
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="SET NULL"), index=True),
    Column("actor_id", Text),
    # The data every recipient's email is rendered from (ticket details filled in by the service).
    Column("data", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    # `POST /events` keys are stored scoped to their caller (events.caller_scoped_key).
    Column("idempotency_key", Text, unique=True),
    # The fingerprint of the request that used the key: the same key with another request is a 409.
    Column("request_hash", Text),
    # The answer given when the event was accepted, repeated verbatim for a repeated idempotency key.
    Column("deliveries", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column(
        "event_id",
        UUID(as_uuid=True),
        ForeignKey("events.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("type", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), index=True),
    Column("data", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("read_at", DateTime(timezone=True)),
    Index("ix_notifications_user_created", "user_id", text("created_at DESC"), text("id DESC")),
    Index("ix_notifications_user_unread", "user_id", postgresql_where=text("read_at IS NULL")),
)

notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("email_enabled", Boolean, nullable=False, server_default=text("true")),
    Column("push_enabled", Boolean, nullable=False, server_default=text("true")),
    Column("chat_enabled", Boolean, nullable=False, server_default=text("true")),
    # The event types switched OFF, so event types added later start switched on for everyone.
    Column("email_events_off", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

message_digests = Table(
    "message_digests",
    metadata,
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
    # Messages up to this seq were covered by an earlier digest email.
    Column("last_emailed_seq", BigInteger, nullable=False, server_default=text("0")),
    # When the pending digest is due; NULL when none is pending (at most one per ticket and user).
    # The email worker sweeps due rows, so the row itself is the durable record of the digest.
    Column("due_at", DateTime(timezone=True)),
    Index("ix_message_digests_due_at", "due_at", postgresql_where=text("due_at IS NOT NULL")),
)
