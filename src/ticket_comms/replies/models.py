"""Inbound mail table: every mail that reached us (replies, delivery reports, anything else) and what
became of it (for Alembic and the migrations-match-models test; services use plain SQL)."""

from sqlalchemy import CheckConstraint, Column, DateTime, ForeignKey, Index, Integer, Table, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from ticket_comms.tables import metadata

OUTCOMES = ("Accepted", "Refused", "Duplicate", "DeliveryReport", "Ignored")

inbound_emails = Table(
    "inbound_emails",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # How it came: 'http' (POST /email/inbound) or 'smtp' (the inbound listener).
    Column("channel", Text, nullable=False),
    Column("message_id", Text),
    Column("from_address", Text),
    Column("to_address", Text),
    Column("subject", Text),
    Column("size_bytes", Integer, nullable=False),
    Column("outcome", Text, nullable=False),
    # Why it was refused or ignored, a stable code ('bad_token', 'auto_reply', ...); NULL when accepted.
    Column("reason", Text),
    Column("detail", Text),
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="SET NULL"), index=True),
    Column("user_id", Text, ForeignKey("users.id", ondelete="SET NULL")),
    # The email the reply address (or the delivery report) named.
    Column("email_log_id", UUID(as_uuid=True), ForeignKey("email_logs.id", ondelete="SET NULL"), index=True),
    # The chat messages it became (its text, then one per attachment).
    Column("chat_message_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'")),
    CheckConstraint(
        "outcome IN ('Accepted','Refused','Duplicate','DeliveryReport','Ignored')", name="outcome"
    ),
    Index("ix_inbound_emails_received", text("received_at DESC"), text("id DESC")),
    # A repeated delivery of an accepted reply (same Message-ID) creates nothing new.
    Index(
        "ux_inbound_emails_accepted_message_id",
        "message_id",
        unique=True,
        postgresql_where=text("outcome = 'Accepted'"),
    ),
)
