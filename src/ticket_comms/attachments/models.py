"""The attachments table (for Alembic and the migrations-match-models test; services use plain SQL)."""

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, Table, Text, func, text
from sqlalchemy.dialects.postgresql import UUID

from ticket_comms.tables import metadata

attachments = Table(
    "attachments",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column(
        "ticket_id",
        UUID(as_uuid=True),
        ForeignKey("tickets.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("uploader_id", Text, ForeignKey("users.id"), nullable=False, index=True),
    # Set once, when a message claims the upload; an upload is attached at most once.
    Column("message_id", UUID(as_uuid=True), unique=True),
    Column("file_name", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("storage_key", Text, nullable=False),
    Column("thumbnail_key", Text),
    Column("width", Integer),
    Column("height", Integer),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Orphan uploads (never attached) are swept by age.
    Index("ix_attachments_unattached_created", "created_at", postgresql_where=text("message_id IS NULL")),
)
