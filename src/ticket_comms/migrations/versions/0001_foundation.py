"""Foundation: users, tickets, participants with read marks, messages with search, reactions, attachments.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR, UUID

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

NOW = sa.text("now()")
UUID_DEFAULT = sa.text("gen_random_uuid()")
TSTZ = sa.DateTime(timezone=True)
SEARCH_VECTOR_SQL = (
    "to_tsvector('english'::regconfig, coalesce(content, '') || ' ' || "
    "coalesce(translate(attachment_name, '._-', '   '), ''))"
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("email", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("role", sa.Text, nullable=False, server_default=sa.text("'member'")),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("updated_at", TSTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
    )
    op.execute("CREATE INDEX ix_users_lower_email ON users (lower(email))")

    op.create_table(
        "tickets",
        sa.Column("id", UUID(as_uuid=True), server_default=UUID_DEFAULT),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("status", sa.Text, nullable=False, server_default=sa.text("'Open'")),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("assignee_id", sa.Text),
        sa.Column("last_seq", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("updated_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("last_activity_at", TSTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_tickets"),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_tickets_created_by_users"),
        sa.ForeignKeyConstraint(["assignee_id"], ["users.id"], name="fk_tickets_assignee_id_users"),
        sa.CheckConstraint(
            "status IN ('Open','Assigned','InProgress','OnHold','Completed','Cancelled')",
            name="ck_tickets_status",
        ),
    )
    op.create_index("ix_tickets_created_by", "tickets", ["created_by"])
    op.create_index("ix_tickets_assignee_id", "tickets", ["assignee_id"])
    op.execute("CREATE INDEX ix_tickets_last_activity ON tickets (last_activity_at DESC, id DESC)")

    op.create_table(
        "ticket_participants",
        sa.Column("ticket_id", UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("last_read_seq", sa.BigInteger, nullable=False, server_default=sa.text("0")),
        sa.Column("last_read_at", TSTZ),
        sa.Column("is_muted", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("joined_at", TSTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name="pk_ticket_participants"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], ondelete="CASCADE", name="fk_ticket_participants_ticket_id_tickets"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name="fk_ticket_participants_user_id_users"
        ),
    )
    op.create_index("ix_ticket_participants_user_ticket", "ticket_participants", ["user_id", "ticket_id"])

    op.create_table(
        "attachments",
        sa.Column("id", UUID(as_uuid=True), server_default=UUID_DEFAULT),
        sa.Column("ticket_id", UUID(as_uuid=True), nullable=False),
        sa.Column("uploader_id", sa.Text, nullable=False),
        sa.Column("message_id", UUID(as_uuid=True)),
        sa.Column("file_name", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("storage_key", sa.Text, nullable=False),
        sa.Column("thumbnail_key", sa.Text),
        sa.Column("width", sa.Integer),
        sa.Column("height", sa.Integer),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("id", name="pk_attachments"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], ondelete="CASCADE", name="fk_attachments_ticket_id_tickets"
        ),
        sa.ForeignKeyConstraint(["uploader_id"], ["users.id"], name="fk_attachments_uploader_id_users"),
        sa.UniqueConstraint("message_id", name="uq_attachments_message_id"),
    )
    op.create_index("ix_attachments_ticket_id", "attachments", ["ticket_id"])
    op.create_index("ix_attachments_uploader_id", "attachments", ["uploader_id"])
    op.create_index(
        "ix_attachments_unattached_created",
        "attachments",
        ["created_at"],
        postgresql_where=sa.text("message_id IS NULL"),
    )

    op.create_table(
        "messages",
        sa.Column("id", UUID(as_uuid=True), server_default=UUID_DEFAULT),
        sa.Column("ticket_id", UUID(as_uuid=True), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("sender_id", sa.Text),
        sa.Column("type", sa.Text, nullable=False, server_default=sa.text("'Text'")),
        sa.Column("content", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("attachment_id", UUID(as_uuid=True)),
        sa.Column("attachment_name", sa.Text),
        sa.Column("reply_to_id", UUID(as_uuid=True)),
        sa.Column("client_id", sa.Text),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.Column("edited_at", TSTZ),
        sa.Column("deleted_at", TSTZ),
        sa.Column("search", TSVECTOR, sa.Computed(SEARCH_VECTOR_SQL, persisted=True)),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], ondelete="CASCADE", name="fk_messages_ticket_id_tickets"
        ),
        sa.ForeignKeyConstraint(["sender_id"], ["users.id"], name="fk_messages_sender_id_users"),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            ondelete="SET NULL",
            name="fk_messages_attachment_id_attachments",
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_id"], ["messages.id"], ondelete="SET NULL", name="fk_messages_reply_to_id_messages"
        ),
        sa.CheckConstraint("type IN ('Text','Image','File','System')", name="ck_messages_type"),
        sa.UniqueConstraint("ticket_id", "seq", name="uq_messages_ticket_seq"),
    )
    op.create_index("ix_messages_sender_id", "messages", ["sender_id"])
    op.create_index("ix_messages_attachment_id", "messages", ["attachment_id"])
    op.create_index("ix_messages_reply_to_id", "messages", ["reply_to_id"])
    op.create_index(
        "uq_messages_sender_client",
        "messages",
        ["sender_id", "client_id"],
        unique=True,
        postgresql_where=sa.text("client_id IS NOT NULL"),
    )
    op.create_index("ix_messages_search", "messages", ["search"], postgresql_using="gin")

    op.create_table(
        "message_reactions",
        sa.Column("message_id", UUID(as_uuid=True), nullable=False),
        sa.Column("emoji", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("created_at", TSTZ, nullable=False, server_default=NOW),
        sa.PrimaryKeyConstraint("message_id", "emoji", "user_id", name="pk_message_reactions"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            ondelete="CASCADE",
            name="fk_message_reactions_message_id_messages",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], ondelete="CASCADE", name="fk_message_reactions_user_id_users"
        ),
    )
    op.create_index("ix_message_reactions_user_id", "message_reactions", ["user_id"])


def downgrade() -> None:
    for table in ("message_reactions", "messages", "attachments", "ticket_participants", "tickets", "users"):
        op.drop_table(table)
