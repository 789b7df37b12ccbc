"""A message's clientId is unique per (sender, ticket), not per sender across every ticket.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Two tickets' clients may generate the same id (a counter, a short random id): scoping the key to
    # the ticket means such ids never collide, and a retry is found within its own ticket.
    op.create_index(
        "uq_messages_sender_ticket_client",
        "messages",
        ["sender_id", "ticket_id", "client_id"],
        unique=True,
        postgresql_where=sa.text("client_id IS NOT NULL"),
    )
    op.drop_index("uq_messages_sender_client", table_name="messages")


def downgrade() -> None:
    # Ids reused across tickets would not fit the old key: keep the first of each.
    op.execute(
        """
        UPDATE messages m SET client_id = NULL
        WHERE client_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM messages o
            WHERE o.sender_id = m.sender_id AND o.client_id = m.client_id
              AND (o.created_at, o.id) < (m.created_at, m.id))
        """
    )
    op.create_index(
        "uq_messages_sender_client",
        "messages",
        ["sender_id", "client_id"],
        unique=True,
        postgresql_where=sa.text("client_id IS NOT NULL"),
    )
    op.drop_index("uq_messages_sender_ticket_client", table_name="messages")
