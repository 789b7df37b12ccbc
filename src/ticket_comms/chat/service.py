"""Chat messages: send (gapless per-ticket seq), history, edit, delete, reactions (read marks: read_marks.py).

Every operation runs in one transaction; realtime events are emitted only after it commits.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import psycopg

from ticket_comms import ratelimits, textcheck
from ticket_comms.attachments import service as attachments
from ticket_comms.attachments import sniffing
from ticket_comms.auth.service import CurrentUser
from ticket_comms.chat.reactions import MAX_DISTINCT_REACTIONS, NotAnEmoji, TooManyReactions, checked_emoji
from ticket_comms.chat.readers import announce, for_reader
from ticket_comms.chat.schemas import MAX_CONTENT, EditMessage, SendMessage, message_out
from ticket_comms.chat.writer import insert_message
from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.errors import Forbidden, NotFound, ValidationFailed
from ticket_comms.notifications import digests
from ticket_comms.push import messages as push_messages
from ticket_comms.ticket_access import TicketNotFound, require_access


class AttachmentUsed(ValidationFailed):
    """That attachment is already attached to a message."""

    code = "attachment_used"


class MessageNotFound(NotFound):
    """Message not found."""

    code = "message_not_found"


MESSAGE_COLUMNS = """
    m.id, m.ticket_id, m.seq, m.sender_id, m.type, m.content, m.reply_to_id, m.client_id,
    m.created_at, m.edited_at, m.deleted_at,
    a.id AS att_id, a.file_name AS att_file_name, a.content_type AS att_content_type, a.size AS att_size,
    a.width AS att_width, a.height AS att_height, a.thumbnail_key AS att_thumbnail_key
"""
REACTIONS_COLUMN = """
    (SELECT jsonb_object_agg(emoji, users) FROM (
        SELECT emoji, jsonb_agg(user_id ORDER BY created_at) AS users
        FROM message_reactions r WHERE r.message_id = m.id GROUP BY emoji) x) AS reactions
"""
SELECT_MESSAGES = (
    f"SELECT {MESSAGE_COLUMNS}, {REACTIONS_COLUMN} FROM messages m "
    "LEFT JOIN attachments a ON a.id = m.attachment_id"
)


def _validate_content(body: SendMessage) -> None:
    if len(body.content) > MAX_CONTENT:
        raise ValidationFailed(f"content must be at most {MAX_CONTENT} characters", code="content_too_long")
    if body.type == "Text":
        if body.attachment_id is not None:
            raise ValidationFailed("A Text message cannot carry an attachment; use type Image or File.")
        if not body.content:
            raise ValidationFailed("content must not be empty", code="content_empty")
    elif body.attachment_id is None:
        raise ValidationFailed(f"A {body.type} message needs an attachmentId.", code="attachment_required")


async def _fetch_message(conn: Connection, ticket_id: UUID, message_id: UUID) -> dict[str, Any]:
    cur = await conn.execute(
        f"{SELECT_MESSAGES} WHERE m.id = %s AND m.ticket_id = %s", (message_id, ticket_id)
    )
    row = await cur.fetchone()
    if row is None:
        raise MessageNotFound()
    return row


async def _existing_by_client_id(
    conn: Connection, sender_id: str, ticket_id: UUID, client_id: str
) -> dict[str, Any] | None:
    cur = await conn.execute(
        f"{SELECT_MESSAGES} WHERE m.sender_id = %s AND m.ticket_id = %s AND m.client_id = %s",
        (sender_id, ticket_id, client_id),
    )
    return await cur.fetchone()


async def post_system_message(conn: Connection, ticket_id: UUID, content: str) -> dict[str, Any]:
    """Insert a System message (senderId null) inside the caller's transaction."""
    row = await insert_message(
        conn,
        {
            "ticket_id": ticket_id,
            "sender_id": None,
            "is_admin": True,
            "type": "System",
            "content": content,
            "attachment_id": None,
            "attachment_name": None,
            "reply_to_id": None,
            "client_id": None,
            "digest_delay": 0,  # System messages are never emailed
            **push_messages.schedule_params(None),  # nor pushed
        },
    )
    if row is None:
        raise TicketNotFound()
    return row


async def send_message(
    ctx: AppContext, user: CurrentUser, ticket_id: UUID, body: SendMessage
) -> tuple[dict, bool]:
    """Post a message. Returns (message, created); a repeated clientId returns the first message."""
    _validate_content(body)
    await ratelimits.hit(ctx, "message_send", user.id)
    params = {
        "ticket_id": ticket_id,
        "sender_id": user.id,
        "is_admin": user.is_admin,
        "type": body.type,
        "content": body.content,
        "attachment_id": body.attachment_id,
        "attachment_name": None,
        "reply_to_id": body.reply_to_id,
        "client_id": body.client_id,
        "digest_delay": ctx.settings.message_email_delay_seconds,
        **push_messages.schedule_params(ctx.settings),
    }
    try:
        if body.reply_to_id is None and body.attachment_id is None:
            # A plain message is one statement, atomic on its own, written with those sent beside it
            # (chat/writer.py). Replies and attachments check and claim first, in a transaction.
            row = await ctx.messages.insert(params)
            if row is None:
                raise TicketNotFound()
        else:
            row, created = await _send_in_transaction(ctx, user, ticket_id, body, params)
            if not created:
                return for_reader(ctx, user, message_out(row, ctx.settings)), False
    except psycopg.errors.UniqueViolation:
        # The same sender repeated a clientId (a retry racing the first attempt, or a plain retry):
        # the transaction rolled back, so no seq was used; answer with the first message.
        if body.client_id is None:
            raise
        async with ctx.db.connection() as conn:
            existing = await _existing_by_client_id(conn, user.id, ticket_id, body.client_id)
        if existing is None:
            raise
        return for_reader(ctx, user, message_out(existing, ctx.settings)), False
    message = message_out(row, ctx.settings)
    await announce(ctx, "newMessage", ticket_id, message)
    return for_reader(ctx, user, message), True


async def _send_in_transaction(
    ctx: AppContext, user: CurrentUser, ticket_id: UUID, body: SendMessage, params: dict[str, Any]
) -> tuple[dict[str, Any], bool]:
    """A reply or an attachment message: (its row, True), or (the first message, False) for a retry."""
    async with ctx.db.transaction() as conn:
        if body.reply_to_id is not None:
            await _check_reply_target(conn, user, ticket_id, body.reply_to_id)
        attachment = None
        if body.attachment_id is not None and body.client_id is not None:
            # A retry of an Image/File message: its attachment is already claimed by the first
            # attempt, so answer with that message before the claim would refuse it.
            existing = await _existing_by_client_id(conn, user.id, ticket_id, body.client_id)
            if existing is not None:
                return existing, False
        if body.attachment_id is not None:
            try:
                attachment = await _claimable_attachment(conn, user, ticket_id, body.attachment_id, body)
            except AttachmentUsed:
                # A retry that waited on the first attempt's lock sees its commit only now.
                if body.client_id is None:
                    raise
                existing = await _existing_by_client_id(conn, user.id, ticket_id, body.client_id)
                if existing is None:
                    raise
                return existing, False
            params["attachment_name"] = attachment["file_name"]
        row = await insert_message(conn, params)
        if row is None:
            raise TicketNotFound()
        if attachment is not None:
            await attachments.attach_to_message(conn, attachment["id"], row["id"])
            row = await _fetch_message(conn, ticket_id, row["id"])
        return row, True


async def _check_reply_target(
    conn: Connection, user: CurrentUser, ticket_id: UUID, reply_to_id: UUID
) -> None:
    cur = await conn.execute(
        "SELECT 1 FROM messages WHERE id = %s AND ticket_id = %s", (reply_to_id, ticket_id)
    )
    if await cur.fetchone() is None:
        await require_access(conn, user, ticket_id)  # an outsider learns the ticket is unknown, nothing more
        raise ValidationFailed("replyToId is not a message of this ticket.", code="bad_reply_to")


async def _claimable_attachment(
    conn: Connection, user: CurrentUser, ticket_id: UUID, attachment_id: UUID, body: SendMessage
) -> dict:
    att = await attachments.lock_for_message(conn, attachment_id)
    if att is None or att["ticket_id"] != ticket_id or att["uploader_id"] != user.id:
        await require_access(conn, user, ticket_id)
        raise ValidationFailed(
            "attachmentId is not an upload of yours in this ticket.", code="bad_attachment"
        )
    if att["message_id"] is not None:
        raise AttachmentUsed()
    # Image messages are shown inline, so they take only the raster types we re-encode and serve inline.
    if body.type == "Image" and att["content_type"] not in sniffing.RASTER:
        raise ValidationFailed("An Image message needs an image attachment.", code="not_an_image")
    return att


async def list_messages(
    ctx: AppContext,
    user: CurrentUser,
    ticket_id: UUID,
    *,
    limit: int,
    before_seq: int | None,
    after_seq: int | None,
) -> dict[str, Any]:
    async with ctx.db.connection() as conn:
        await require_access(conn, user, ticket_id)
        rows, has_more = await page(conn, ticket_id, limit=limit, before_seq=before_seq, after_seq=after_seq)
    return {"items": [for_reader(ctx, user, message_out(r, ctx.settings)) for r in rows], "hasMore": has_more}


async def page(
    conn: Connection,
    ticket_id: UUID,
    *,
    limit: int,
    before_seq: int | None = None,
    after_seq: int | None = None,
) -> tuple[list[dict[str, Any]], bool]:
    """A page of a thread in ascending seq: after `after_seq` (catch-up), before `before_seq`, or the latest."""
    if after_seq is not None:
        cur = await conn.execute(
            f"{SELECT_MESSAGES} WHERE m.ticket_id = %s AND m.seq > %s ORDER BY m.seq LIMIT %s",
            (ticket_id, after_seq, limit + 1),
        )
        rows = await cur.fetchall()
        return rows[:limit], len(rows) > limit
    if before_seq is not None:
        cur = await conn.execute(
            f"{SELECT_MESSAGES} WHERE m.ticket_id = %s AND m.seq < %s ORDER BY m.seq DESC LIMIT %s",
            (ticket_id, before_seq, limit + 1),
        )
    else:
        cur = await conn.execute(
            f"{SELECT_MESSAGES} WHERE m.ticket_id = %s ORDER BY m.seq DESC LIMIT %s", (ticket_id, limit + 1)
        )
    rows = await cur.fetchall()
    has_more = len(rows) > limit
    return rows[:limit][::-1], has_more


async def edit_message(
    ctx: AppContext, user: CurrentUser, ticket_id: UUID, message_id: UUID, body: EditMessage
) -> dict[str, Any]:
    await ratelimits.hit(ctx, "message_edit", user.id)
    async with ctx.db.transaction() as conn:
        await require_access(conn, user, ticket_id)
        row = await _fetch_message(conn, ticket_id, message_id)
        if row["sender_id"] != user.id:
            raise Forbidden("Only the sender can edit a message.")
        if row["deleted_at"] is not None:
            raise ValidationFailed("A deleted message cannot be edited.", code="message_deleted")
        await conn.execute(
            "UPDATE messages SET content = %s, edited_at = now() WHERE id = %s", (body.content, message_id)
        )
        row = await _fetch_message(conn, ticket_id, message_id)
    message = message_out(row, ctx.settings)
    await announce(ctx, "messageUpdated", ticket_id, message)
    return for_reader(ctx, user, message)


async def delete_message(
    ctx: AppContext, user: CurrentUser, ticket_id: UUID, message_id: UUID
) -> dict[str, Any]:
    """Soft delete: the message keeps its place in the thread, without content or attachment.

    Returns the updated message and the storage keys of the attachment that was removed; its
    objects are deleted from storage once the transaction has committed.
    """
    async with ctx.db.transaction() as conn:
        await require_access(conn, user, ticket_id)
        row = await _fetch_message(conn, ticket_id, message_id)
        if row["sender_id"] != user.id and not user.is_admin:
            raise Forbidden("Only the sender or an admin can delete a message.")
        if row["type"] == "System":
            raise Forbidden("System messages cannot be deleted.")
        removed: list[dict[str, Any]] = []
        if row["deleted_at"] is None:
            removed = await attachments.delete_of_message(conn, message_id)
            await conn.execute(
                "UPDATE messages SET content = '', attachment_id = NULL, attachment_name = NULL, deleted_at = now() "
                "WHERE id = %s",
                (message_id,),
            )
            await conn.execute("DELETE FROM message_reactions WHERE message_id = %s", (message_id,))
            await digests.forget_message(conn, ticket_id, row["seq"])
        row = await _fetch_message(conn, ticket_id, message_id)
    await attachments.remove_objects(ctx, removed)
    message = message_out(row, ctx.settings)
    await announce(ctx, "messageUpdated", ticket_id, message)
    return {"message": for_reader(ctx, user, message), "removed": removed}


async def set_reaction(
    ctx: AppContext, user: CurrentUser, ticket_id: UUID, message_id: UUID, emoji: str, *, on: bool
) -> dict[str, Any]:
    await ratelimits.hit(ctx, "reaction", user.id)
    async with ctx.db.transaction() as conn:
        await require_access(conn, user, ticket_id)  # an outsider learns nothing, not even about the emoji
        if on:
            emoji = checked_emoji(emoji)
        elif textcheck.problem(emoji):
            # Reactions stored before emoji were checked can still be removed; these never could exist.
            raise NotAnEmoji()
        row = await _fetch_message(conn, ticket_id, message_id)
        if row["deleted_at"] is not None or row["type"] == "System":
            raise ValidationFailed("This message cannot take reactions.", code="not_reactable")
        if on:
            # Locking the message row serialises new kinds: two at once cannot both squeeze past the cap.
            await conn.execute("SELECT 1 FROM messages WHERE id = %s FOR UPDATE", (message_id,))
            kinds = set((await _fetch_message(conn, ticket_id, message_id))["reactions"] or {})
            if emoji not in kinds and len(kinds) >= MAX_DISTINCT_REACTIONS:
                raise TooManyReactions(details={"max": MAX_DISTINCT_REACTIONS})
            await conn.execute(
                "INSERT INTO message_reactions (message_id, emoji, user_id) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
                (message_id, emoji, user.id),
            )
        else:
            await conn.execute(
                "DELETE FROM message_reactions WHERE message_id = %s AND emoji = %s AND user_id = %s",
                (message_id, emoji, user.id),
            )
        row = await _fetch_message(conn, ticket_id, message_id)
    message = message_out(row, ctx.settings)
    await announce(ctx, "messageUpdated", ticket_id, message)
    return for_reader(ctx, user, message)
