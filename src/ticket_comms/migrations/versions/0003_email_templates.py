"""Email templates: the table and the built-in templates (one per event type plus the shared layout).

The templates inserted are the frozen copy in `migrations/frozen/0003_builtin_templates.json`, the
built-ins as they shipped with this revision, never the live files in `email/templates/builtin/`: a
migration must insert the same thing forever, whatever the templates become later.

Revision ID: 0003
Revises: 0001
"""

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
TSTZ = sa.DateTime(timezone=True)
FROZEN = Path(__file__).resolve().parent.parent / "frozen" / "0003_builtin_templates.json"


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
    op.bulk_insert(table, json.loads(FROZEN.read_text(encoding="utf-8")))


def downgrade() -> None:
    op.drop_table("email_templates")
