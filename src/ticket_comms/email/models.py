"""Email tables (for Alembic and the migrations-match-models test; services use plain SQL)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from ticket_comms.tables import metadata

email_templates = Table(
    "email_templates",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column("name", Text, nullable=False, unique=True),
    Column("subject", Text, nullable=False),
    Column("html_content", Text, nullable=False),
    # NULL: the text part is generated from the rendered HTML.
    Column("text_content", Text),
    # Dotted names (`ticket.title`) the render context must provide; checked before rendering.
    Column("variables", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("is_active", Boolean, nullable=False, server_default=text("true")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Part of the compiled-template cache key, so every process sees an edit on its next render.
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Every saved version of a template (restorable); `created_by` is the saving user's id.
email_template_versions = Table(
    "email_template_versions",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()")),
    Column(
        "template_id",
        UUID(as_uuid=True),
        ForeignKey("email_templates.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("version", Integer, nullable=False),
    Column("subject", Text, nullable=False),
    Column("html_content", Text, nullable=False),
    Column("text_content", Text),
    Column("variables", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("created_by", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("template_id", "version"),
)

# --- Sending, delivery tracking and suppressions (notifications/email worker) ---------------------

email_logs = Table(
    "email_logs",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), ForeignKey("events.id", ondelete="CASCADE"), index=True),
    Column("template_name", Text, nullable=False),
    Column("recipient_id", Text, ForeignKey("users.id", ondelete="SET NULL"), index=True),
    Column("recipient_email", Text, nullable=False),
    Column("recipient_name", Text),
    Column("subject", Text),
    Column("status", Text, nullable=False, server_default=text("'Pending'")),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    # Set at enqueue and reused by every attempt, so a resend after a crash is recognisably the same email.
    Column("message_id", Text, nullable=False, unique=True),
    Column("provider_message_id", Text, index=True),
    Column("error_message", Text),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The worker sending it right now (its advisory lock proves it is alive); NULL when nobody is.
    Column("claimed_by", BigInteger),
    Column("sent_at", DateTime(timezone=True)),
    Column("delivered_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The timeline: [{type, at, detail}], appended in the same statement as each state change.
    Column("events", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    # The email this one resends (an admin's resend of a Failed or Bounced email).
    Column("resent_from", UUID(as_uuid=True), ForeignKey("email_logs.id", ondelete="SET NULL")),
    CheckConstraint("status IN ('Pending','Sent','Delivered','Bounced','Failed')", name="status"),
    Index(
        "ix_email_logs_due",
        "next_attempt_at",
        postgresql_where=text("status = 'Pending' AND claimed_by IS NULL"),
    ),
    Index("ix_email_logs_claimed", "claimed_by", postgresql_where=text("claimed_by IS NOT NULL")),
    Index("ix_email_logs_created", text("created_at DESC"), text("id DESC")),
    Index("ix_email_logs_status_created", "status", text("created_at DESC"), text("id DESC")),
    Index("ix_email_logs_resent_from", "resent_from", postgresql_where=text("resent_from IS NOT NULL")),
    # The delivery dashboard (email/delivery_stats.py): index-only scans of a period, and the slowest sends.
    Index("ix_email_logs_created_at", "created_at", postgresql_include=["status", "sent_at"]),
)
Index("ix_email_logs_lower_recipient", func.lower(email_logs.c.recipient_email), email_logs.c.created_at)
Index(
    "ix_email_logs_queue_time",
    email_logs.c.sent_at - email_logs.c.created_at,
    postgresql_where=email_logs.c.sent_at.isnot(None),
)

email_suppressions = Table(
    "email_suppressions",
    metadata,
    # Lower-cased address.
    Column("email", Text, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("detail", Text),
    Column("email_log_id", UUID(as_uuid=True), ForeignKey("email_logs.id", ondelete="SET NULL"), index=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # NULL: until an admin lifts it. Set (repeated soft bounces): it lifts itself then.
    Column("expires_at", DateTime(timezone=True)),
    CheckConstraint("reason IN ('Bounce','Complaint','SoftBounce')", name="reason"),
)

# Soft bounces (4.x.x) per address within the current window (SOFT_BOUNCE_WINDOW_SECONDS).
email_soft_bounces = Table(
    "email_soft_bounces",
    metadata,
    Column("email", Text, primary_key=True),
    Column("count", Integer, nullable=False),
    Column("first_at", DateTime(timezone=True), nullable=False),
    Column("last_at", DateTime(timezone=True), nullable=False),
)

# The delivery dashboard's hourly rollups (migration 0013): kept exact by triggers on email_logs;
# `shard` (the writer's backend pid % 16) spreads concurrent writers of one hour over rows.
QUEUE_BUCKETS = (1, 5, 30, 60, 300, 3600)
email_stats_hourly = Table(
    "email_stats_hourly",
    metadata,
    Column("hour", DateTime(timezone=True), primary_key=True),
    Column("status", Text, primary_key=True),
    Column("shard", SmallInteger, primary_key=True),
    *[
        Column(name, BigInteger, nullable=False, server_default=text("0"))
        for name in ("total", "opened", "clicked", "sent_ever", *[f"le_{b}" for b in QUEUE_BUCKETS])
    ],
)

email_failure_reasons_hourly = Table(
    "email_failure_reasons_hourly",
    metadata,
    Column("hour", DateTime(timezone=True), primary_key=True),
    Column("reason", Text, primary_key=True),
    Column("shard", SmallInteger, primary_key=True),
    Column("n", BigInteger, nullable=False, server_default=text("0")),
)
