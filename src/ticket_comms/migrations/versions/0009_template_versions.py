"""Every saved version of an email template (who saved it and when, restorable), and resent emails
linked to the email they resend.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TSTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "email_template_versions",
        sa.Column("id", UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()")),
        sa.Column("template_id", UUID(as_uuid=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("html_content", sa.Text, nullable=False),
        sa.Column("text_content", sa.Text),
        sa.Column("variables", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        # The user id of who saved it; null for the version found in place before history was kept.
        sa.Column("created_by", sa.Text),
        sa.Column("created_at", TSTZ, nullable=False, server_default=sa.text("now()")),
        sa.PrimaryKeyConstraint("id", name="pk_email_template_versions"),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["email_templates.id"],
            name="fk_email_template_versions_template_id_email_templates",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("template_id", "version", name="uq_email_template_versions_template_id_version"),
    )
    op.add_column("email_logs", sa.Column("resent_from", UUID(as_uuid=True), nullable=True))
    op.create_foreign_key(
        "fk_email_logs_resent_from_email_logs",
        "email_logs",
        "email_logs",
        ["resent_from"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "ix_email_logs_resent_from",
        "email_logs",
        ["resent_from"],
        postgresql_where=sa.text("resent_from IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_email_logs_resent_from", table_name="email_logs")
    op.drop_constraint("fk_email_logs_resent_from_email_logs", "email_logs", type_="foreignkey")
    op.drop_column("email_logs", "resent_from")
    op.drop_table("email_template_versions")
