"""The users table (for Alembic and the migrations-match-models test; services use plain SQL)."""

from sqlalchemy import Boolean, Column, DateTime, Index, Table, Text, func, text

from ticket_comms.tables import metadata

users = Table(
    "users",
    metadata,
    Column("id", Text, primary_key=True),
    Column("email", Text),
    Column("name", Text),
    Column("role", Text, nullable=False, server_default=text("'member'")),
    # True once the user's own token carried this address: the identity provider vouches for it, and
    # a `service` registering the user cannot replace it (only a newer token can).
    Column("email_asserted", Boolean, nullable=False, server_default=text("false")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("ix_users_lower_email", func.lower(users.c.email))
