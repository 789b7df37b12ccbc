"""Email templates: the table and the built-in templates (one per event type plus the shared layout).

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from ticket_comms.email import builtin

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
TSTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    table = op.create_table(
        "email_templates",
        sa.Column("id", UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()")),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("html_content", sa.Text, nullable=False),
        sa.Column("text_content", sa.Text),
        sa.Column("variables", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("updated_at", TSTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_email_templates"),
        sa.UniqueConstraint("name", name="uq_email_templates_name"),
    )
    op.bulk_insert(
        table,
        [
            {
                "name": t.name,
                "subject": t.subject,
                "html_content": t.html_content,
                "text_content": t.text_content,
                "variables": t.variables,
            }
            for t in builtin.load_all()
        ],
    )


def downgrade() -> None:
    op.drop_table("email_templates")
