"""Reply by email and the rest of delivery tracking: every inbound mail and what became of it; soft
bounces counted per address, and suppressions that lift themselves.

Revision ID: 0010
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TSTZ = sa.DateTime(timezone=True)
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "inbound_emails",
        sa.Column("id", UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()")),
        sa.Column("received_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("message_id", sa.Text),
        sa.Column("from_address", sa.Text),
        sa.Column("to_address", sa.Text),
        sa.Column("subject", sa.Text),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("ticket_id", UUID(as_uuid=True)),
        sa.Column("user_id", sa.Text),
        sa.Column("email_log_id", UUID(as_uuid=True)),
        sa.Column(
            "chat_message_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default=sa.text("'{}'")
        ),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_emails"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_inbound_emails_ticket_id_tickets", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_inbound_emails_user_id_users", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["email_log_id"],
            ["email_logs.id"],
            name="fk_inbound_emails_email_log_id_email_logs",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "outcome IN ('Accepted','Refused','Duplicate','DeliveryReport','Ignored')",
            name="ck_inbound_emails_outcome",
        ),
    )
    op.create_index(
        "ix_inbound_emails_received", "inbound_emails", [sa.text("received_at DESC"), sa.text("id DESC")]
    )
    op.create_index("ix_inbound_emails_ticket_id", "inbound_emails", ["ticket_id"])
    op.create_index("ix_inbound_emails_email_log_id", "inbound_emails", ["email_log_id"])
    op.create_index(
        "ux_inbound_emails_accepted_message_id",
        "inbound_emails",
        ["message_id"],
        unique=True,
        postgresql_where=sa.text("outcome = 'Accepted'"),
    )

    op.add_column("email_suppressions", sa.Column("expires_at", TSTZ))
    op.drop_constraint("ck_email_suppressions_reason", "email_suppressions", type_="check")
    op.create_check_constraint(
        "ck_email_suppressions_reason", "email_suppressions", "reason IN ('Bounce','Complaint','SoftBounce')"
    )
    op.create_table(
        "email_soft_bounces",
        sa.Column("email", sa.Text),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("first_at", TSTZ, nullable=False),
        sa.Column("last_at", TSTZ, nullable=False),
        sa.PrimaryKeyConstraint("email", name="pk_email_soft_bounces"),
    )


def downgrade() -> None:
    op.drop_table("email_soft_bounces")
    op.execute("DELETE FROM email_suppressions WHERE reason = 'SoftBounce'")
    op.drop_constraint("ck_email_suppressions_reason", "email_suppressions", type_="check")
    op.create_check_constraint(
        "ck_email_suppressions_reason", "email_suppressions", "reason IN ('Bounce','Complaint')"
    )
    op.drop_column("email_suppressions", "expires_at")
    op.drop_table("inbound_emails")
