"""Events remember the fingerprint of the request that used an idempotency key (a reused key with
another payload is then a 409), and `POST /events` keys are scoped to their caller.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("request_hash", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("events", "request_hash")
