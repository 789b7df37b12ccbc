"""Notifications and email sending: events, in-app notifications, preferences, chat digests, email logs,
suppressions.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NOW = sa.text("now()")
UUID_DEFAULT = sa.text("gen_random_uuid()")
TSTZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", UUID(as_uuid=True), server_default=UUID_DEFAULT),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("ticket_id", UUID(as_uuid=True)),
        sa.Column("actor_id", sa.Text),
        sa.Column("data", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("idempotency_key", sa.Text),
        sa.Column("deliveries", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_events_ticket_id_tickets", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("idempotency_key", name="uq_events_idempotency_key"),
    )
    op.create_index("ix_events_ticket_id", "events", ["ticket_id"])

    op.create_table(
        "notifications",
        sa.Column("id", UUID(as_uuid=True), server_default=UUID_DEFAULT),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("ticket_id", UUID(as_uuid=True)),
        sa.Column("data", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("read_at", TSTZ),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_notifications_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_notifications_event_id_events", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_notifications_ticket_id_tickets", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_notifications_event_id", "notifications", ["event_id"])
    op.create_index("ix_notifications_ticket_id", "notifications", ["ticket_id"])
    op.create_index(
        "ix_notifications_user_created",
        "notifications",
        ["user_id", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.create_index(
        "ix_notifications_user_unread",
        "notifications",
        ["user_id"],
        postgresql_where=sa.text("read_at IS NULL"),
    )

    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Text),
        sa.Column("email_enabled", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("push_enabled", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("chat_enabled", sa.Boolean, nullable=False, server_default=sa.text("true")),
        sa.Column("email_events_off", ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'")),
        sa.Column("updated_at", TSTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("user_id", name="pk_notification_preferences"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_notification_preferences_user_id_users", ondelete="CASCADE"
        ),
    )

    op.create_table(
        "message_digests",
        sa.Column("ticket_id", UUID(as_uuid=True)),
        sa.Column("user_id", sa.Text),
        sa.Column("last_emailed_seq", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("due_at", TSTZ),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name="pk_message_digests"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_message_digests_ticket_id_tickets", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_message_digests_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_message_digests_user_id", "message_digests", ["user_id"])
    op.create_index(
        "ix_message_digests_due_at",
        "message_digests",
        ["due_at"],
        postgresql_where=sa.text("due_at IS NOT NULL"),
    )

    op.create_table(
        "email_logs",
        sa.Column("id", UUID(as_uuid=True)),
        sa.Column("event_id", UUID(as_uuid=True)),
        sa.Column("template_name", sa.Text, nullable=False),
        sa.Column("recipient_id", sa.Text),
        sa.Column("recipient_email", sa.Text, nullable=False),
        sa.Column("recipient_name", sa.Text),
        sa.Column("subject", sa.Text),
        sa.Column("status", sa.Text, nullable=False, server_default=sa.text("'Pending'")),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("error_message", sa.Text),
        sa.Column("next_attempt_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("claimed_by", sa.BigInteger),
        sa.Column("sent_at", TSTZ),
        sa.Column("delivered_at", TSTZ),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("updated_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("events", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.PrimaryKeyConstraint("id", name="pk_email_logs"),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name="fk_email_logs_event_id_events", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name="fk_email_logs_recipient_id_users", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("message_id", name="uq_email_logs_message_id"),
        sa.CheckConstraint(
            "status IN ('Pending','Sent','Delivered','Bounced','Failed')", name="ck_email_logs_status"
        ),
    )
    op.create_index("ix_email_logs_event_id", "email_logs", ["event_id"])
    op.create_index("ix_email_logs_recipient_id", "email_logs", ["recipient_id"])
    op.create_index("ix_email_logs_provider_message_id", "email_logs", ["provider_message_id"])
    op.create_index(
        "ix_email_logs_due",
        "email_logs",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'Pending' AND claimed_by IS NULL"),
    )
    op.create_index(
        "ix_email_logs_claimed",
        "email_logs",
        ["claimed_by"],
        postgresql_where=sa.text("claimed_by IS NOT NULL"),
    )
    op.create_index("ix_email_logs_created", "email_logs", [sa.text("created_at DESC"), sa.text("id DESC")])
    op.create_index(
        "ix_email_logs_status_created",
        "email_logs",
        ["status", sa.text("created_at DESC"), sa.text("id DESC")],
    )
    op.execute(
        "CREATE INDEX ix_email_logs_lower_recipient ON email_logs (lower(recipient_email), created_at)"
    )

    op.create_table(
        "email_suppressions",
        sa.Column("email", sa.Text),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("email_log_id", UUID(as_uuid=True)),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("email", name="pk_email_suppressions"),
        sa.ForeignKeyConstraint(
            ["email_log_id"],
            ["email_logs.id"],
            name="fk_email_suppressions_email_log_id_email_logs",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint("reason IN ('Bounce','Complaint')", name="ck_email_suppressions_reason"),
    )
    op.create_index("ix_email_suppressions_email_log_id", "email_suppressions", ["email_log_id"])


def downgrade() -> None:
    op.drop_table("email_suppressions")
    op.drop_table("email_logs")
    op.drop_table("message_digests")
    op.drop_table("notification_preferences")
    op.drop_table("notifications")
    op.drop_table("events")
