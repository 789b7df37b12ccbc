"""Tickets and their participants (for Alembic and the migrations-match-models test; services use plain SQL)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from ticket_comms.tables import metadata

tickets = Table(
    "tickets",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=text("''")),
    Column("status", Text, nullable=False, server_default=text("'Open'")),
    Column("created_by", Text, ForeignKey("users.id"), nullable=False, index=True),
    Column("assignee_id", Text, ForeignKey("users.id"), index=True),
    # The last `seq` handed out in this ticket's chat; bumped under the ticket's row lock.
    Column("last_seq", BigInteger, nullable=False, server_default=text("0")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_activity_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "status IN ('Open','Assigned','InProgress','OnHold','Completed','Cancelled')", name="status"
    ),
    Index("ix_tickets_last_activity", text("last_activity_at DESC"), text("id DESC")),
)

ticket_participants = Table(
    "ticket_participants",
    metadata,
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("last_read_seq", BigInteger, nullable=False, server_default=text("0")),
    Column("last_read_at", DateTime(timezone=True)),
    Column("is_muted", Boolean, nullable=False, server_default=text("false")),
    Column("joined_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_ticket_participants_user_ticket", "user_id", "ticket_id"),
)
