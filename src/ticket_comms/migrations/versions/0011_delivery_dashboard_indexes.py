"""The delivery dashboard's indexes: a period's counts, daily series and queue times as index-only
scans (created_at including status and sent_at), and the slowest sends read in queue-time order.

Revision ID: 0011
Revises: 0010
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_email_logs_created_at", "email_logs", ["created_at"], postgresql_include=["status", "sent_at"]
    )
    op.execute(
        "CREATE INDEX ix_email_logs_queue_time ON email_logs ((sent_at - created_at)) WHERE sent_at IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index("ix_email_logs_queue_time", table_name="email_logs")
    op.drop_index("ix_email_logs_created_at", table_name="email_logs")
