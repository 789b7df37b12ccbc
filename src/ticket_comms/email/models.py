"""Email tables (for Alembic and the migrations-match-models test; services use plain SQL)."""

from sqlalchemy import Boolean, Column, DateTime, Table, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from ticket_comms.database import metadata

email_templates = Table(
    "email_templates",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("name", Text, nullable=False, unique=True),
    Column("subject", Text, nullable=False),
    Column("html_content", Text, nullable=False),
    # NULL: the text part is generated from the rendered HTML.
    Column("text_content", Text),
    # Dotted names (`ticket.title`) the render context must provide; checked before rendering.
    Column("variables", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Part of the compiled-template cache key, so every process sees an edit on its next render.
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
