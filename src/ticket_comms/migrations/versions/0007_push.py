"""Web Push: subscriptions, the push outbox and pending chat-message pushes.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
UUID_DEFAULT = sa.text("gen_random_uuid()")
TSTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("id", UUID(as_uuid=True), server_default=UUID_DEFAULT),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("endpoint", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("p256dh", sa.Text, nullable=False),
        sa.Column("auth", sa.Text, nullable=False),
        sa.Column("user_agent", sa.Text),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("updated_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("last_success_at", TSTZ),
        sa.PrimaryKeyConstraint("id", name="pk_push_subscriptions"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_push_subscriptions_user_id_users", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("endpoint", name="uq_push_subscriptions_endpoint"),
    )
    op.create_index("ix_push_subscriptions_user_id", "push_subscriptions", ["user_id"])

    op.create_table(
        "push_outbox",
        sa.Column("id", UUID(as_uuid=True), server_default=UUID_DEFAULT),
        sa.Column("subscription_id", UUID(as_uuid=True)),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("event_id", UUID(as_uuid=True)),
        sa.Column("ticket_id", UUID(as_uuid=True)),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("topic", sa.Text),
        sa.Column("urgency", sa.Text, nullable=False, server_default=sa.text("'normal'")),
        sa.Column("ttl", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default=sa.text("'Pending'")),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("claimed_by", sa.BigInteger),
        sa.Column("next_attempt_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("sent_at", TSTZ),
        sa.Column("error_message", sa.Text),
        sa.Column("events", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("updated_at", TSTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_push_outbox"),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["push_subscriptions.id"],
            name="fk_push_outbox_subscription_id_push_subscriptions",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_push_outbox_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_push_outbox_event_id_events", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_push_outbox_ticket_id_tickets", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_push_outbox_subscription_id", "push_outbox", ["subscription_id"])
    op.create_index("ix_push_outbox_user_id", "push_outbox", ["user_id"])
    op.create_index("ix_push_outbox_event_id", "push_outbox", ["event_id"])
    op.create_index("ix_push_outbox_ticket_id", "push_outbox", ["ticket_id"])
    op.create_index(
        "ix_push_outbox_due",
        "push_outbox",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'Pending'"),
    )
    op.create_index("ix_push_outbox_created", "push_outbox", [sa.text("created_at DESC"), sa.text("id DESC")])

    op.create_table(
        "push_message_schedules",
        sa.Column("ticket_id", UUID(as_uuid=True)),
        sa.Column("user_id", sa.Text),
        sa.Column("last_pushed_seq", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("due_at", TSTZ),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name="pk_push_message_schedules"),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name="fk_push_message_schedules_ticket_id_tickets",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_push_message_schedules_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_push_message_schedules_user_id", "push_message_schedules", ["user_id"])
    op.create_index(
        "ix_push_message_schedules_due_at",
        "push_message_schedules",
        ["due_at"],
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("push_message_schedules")
    op.drop_table("push_outbox")
    op.drop_table("push_subscriptions")
