"""Chat tables: messages (with the search vector), reactions (for Alembic; services use plain SQL)."""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR, UUID

from ticket_comms.tables import metadata

# English stemming over the text and the attachment's file name (so "invoice.pdf" is findable).
SEARCH_VECTOR_SQL = (
    "to_tsvector('english'::regconfig, coalesce(content, '') || ' ' || "
    "coalesce(translate(attachment_name, '._-', '   '), ''))"
)

messages = Table(
    "messages",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("sender_id", Text, ForeignKey("users.id"), index=True),
    Column("type", Text, nullable=False, server_default=text("'Text'")),
    Column("content", Text, nullable=False, server_default=text("''")),
    Column(
        "attachment_id", UUID(as_uuid=True), ForeignKey("attachments.id", ondelete="SET NULL"), index=True
    ),
    # Denormalised from the attachment so the generated search vector can include it.
    Column("attachment_name", Text),
    Column("reply_to_id", UUID(as_uuid=True), ForeignKey("messages.id", ondelete="SET NULL"), index=True),
    Column("client_id", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("edited_at", DateTime(timezone=True)),
    Column("deleted_at", DateTime(timezone=True)),
    Column("search", TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True)),
    CheckConstraint("type IN ('Text','Image','File','System')", name="type"),
    UniqueConstraint("ticket_id", "seq", name="uq_messages_ticket_seq"),
    # A retry's key: clientId is the client's own id for a message it sends to one ticket.
    Index(
        "uq_messages_sender_ticket_client",
        "sender_id",
        "ticket_id",
        "client_id",
        unique=True,
        postgresql_where=text("client_id IS NOT NULL"),
    ),
    Index("ix_messages_search", "search", postgresql_using="gin"),
)

message_reactions = Table(
    "message_reactions",
    metadata,
    Column("message_id", UUID(as_uuid=True), ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True),
    Column("emoji", Text, primary_key=True),
    Column("user_id", Text, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
