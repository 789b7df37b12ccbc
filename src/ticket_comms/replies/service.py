"""A reply to a ticket email becomes the recipient's chat message, or a refusal on record.

In order: mail we cannot read, our own mail (a loop), a token we did not sign or that expired, automatic
mail, a From that is not the recipient (or fails DMARC), a recipient no longer in the ticket, nothing left
to say (a refusal after the token names the ticket and the recipient, for the admins' list). Then the accepted row is claimed (a repeated Message-ID becomes a Duplicate) and the message
is sent through the chat service exactly as the recipient would send it (same checks, same real-time
delivery, same digests); attachments go through the attachments service (same sniffing and limits).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import ValidationError

from ticket_comms.attachments import service as attachments
from ticket_comms.auth.service import CurrentUser
from ticket_comms.chat import service as chat
from ticket_comms.chat.schemas import MAX_CONTENT, SendMessage
from ticket_comms.context import AppContext
from ticket_comms.email.reply_addresses import parse_reply_address, tag_matches
from ticket_comms.errors import AppError
from ticket_comms.replies import records, screening
from ticket_comms.replies.parse import Attachment, ParsedMail
from ticket_comms.replies.text import reply_of

log = logging.getLogger(__name__)

TOKEN_LOG = """
SELECT l.id, l.recipient_id, l.recipient_email, l.created_at, e.ticket_id, u.email AS user_email, u.role,
       EXISTS (SELECT 1 FROM ticket_participants p WHERE p.ticket_id = e.ticket_id AND p.user_id = l.recipient_id)
           AS participant
FROM email_logs l
JOIN events e ON e.id = l.event_id
LEFT JOIN users u ON u.id = l.recipient_id
WHERE l.id = %s
"""


class Refusal(Exception):
    def __init__(self, reason: str, detail: str | None = None, **fields: Any):
        super().__init__(reason)
        self.reason = reason
        self.detail = detail
        self.fields = fields


async def _token(ctx: AppContext, address: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The email log a reply address names (and the record fields it gives), once its signature checks
    out and it has not expired."""
    parsed = parse_reply_address(ctx.settings, address)
    if parsed is None:
        raise Refusal("bad_token", "not one of our reply addresses")
    log_id, tag = parsed
    row = await ctx.db.fetch_one(TOKEN_LOG, (log_id,))
    if row is None or row["ticket_id"] is None or not row["recipient_id"]:
        raise Refusal("bad_token", "the address names no ticket email")
    if not tag_matches(ctx.settings, tag, log_id, row["ticket_id"], row["recipient_id"]):
        raise Refusal("bad_token", "the signature does not match")
    found = {"ticket_id": row["ticket_id"], "user_id": row["recipient_id"], "email_log_id": log_id}
    max_age = timedelta(days=ctx.settings.reply_token_max_age_days)
    if row["created_at"] < datetime.now(UTC) - max_age:
        raise Refusal("expired_token", f"the email is older than {max_age.days} days", **found)
    return dict(row), found


async def named_by(ctx: AppContext, address: str) -> dict[str, Any]:
    """The ticket, recipient and email a reply address names, as record fields, when its signature checks
    out (expired or not); nothing otherwise. For a mail refused before it is read (too large), so admins
    still find it under its ticket."""
    try:
        return (await _token(ctx, address))[1]
    except Refusal as refusal:
        return refusal.fields


def _check_sender(mail: ParsedMail, row: dict[str, Any], found: dict[str, Any]) -> None:
    """The From is the recipient the address was made for (their address then or now), not failing DMARC,
    and the recipient is still in the ticket."""
    senders = {a.lower() for a in (row["recipient_email"], row["user_email"]) if a}
    if mail.from_address not in senders:
        raise Refusal("sender_mismatch", f"From is not the recipient of {row['id']}", **found)
    if screening.failed_dmarc(mail):
        raise Refusal("sender_mismatch", "the From domain failed DMARC at our MTA", **found)
    if not row["participant"]:
        raise Refusal("not_participant", "the recipient is no longer in the ticket", **found)


def _client_id(dedupe_id: str, index: int) -> str:
    # Chat deduplicates per sender by clientId: a retry after a crash mid-way re-sends nothing.
    return f"email:{hashlib.sha256(dedupe_id.encode()).hexdigest()[:40]}:{index}"


async def _post_attachment(
    ctx: AppContext, user: CurrentUser, ticket_id: UUID, attachment: Attachment, client_id: str
) -> UUID:
    boundary = "tc-reply-" + hashlib.sha256(client_id.encode()).hexdigest()[:24]
    name = attachment.file_name.replace('"', "").replace("\r", "").replace("\n", "")
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {attachment.content_type}\r\n\r\n"
    ).encode()
    form = head + attachment.data + f"\r\n--{boundary}--\r\n".encode()

    async def chunks():
        yield form

    stored = await attachments.upload(
        ctx, user, ticket_id, chunks(), f"multipart/form-data; boundary={boundary}", len(form)
    )
    is_image = str(stored["contentType"]).startswith("image/")
    body = SendMessage(type="Image" if is_image else "File", attachmentId=stored["id"], clientId=client_id)
    message, _ = await chat.send_message(ctx, user, ticket_id, body)
    return UUID(str(message["id"]))


async def accept_reply(ctx: AppContext, mail: ParsedMail, *, address: str, channel: str) -> dict[str, Any]:
    """Decide on a mail to a reply address, record it, and post it when accepted. Never raises for the
    mail's sake: every refusal is a record."""
    base: dict[str, Any] = {"channel": channel, "to_address": address}
    try:
        if mail.malformed:
            raise Refusal("malformed", mail.malformed)
        loop = screening.our_own(ctx.settings, mail)
        if loop:
            raise Refusal("loop", loop)
        row, found = await _token(ctx, address)
        auto = screening.automatic(mail)
        if auto:
            raise Refusal("auto_reply", auto, **found)
        _check_sender(mail, row, found)
        text = reply_of(mail.text, mail.html)
        if len(text) > MAX_CONTENT:
            text = text[: MAX_CONTENT - 1].rstrip() + "…"
        if not text and not mail.attachments:
            raise Refusal("empty", "nothing left after the quotes", **found)
    except Refusal as refusal:
        async with ctx.db.connection() as conn:
            saved = await records.record(
                conn,
                mail,
                outcome="Refused",
                reason=refusal.reason,
                detail=refusal.detail,
                **base,
                **refusal.fields,
            )
        return records.InboundEmailOut.of(saved).model_dump()

    async with ctx.db.connection() as conn:
        claimed = await records.claim(conn, mail, **base, **found)
        if claimed is None:
            saved = await records.record(
                conn, mail, outcome="Duplicate", detail="this Message-ID was accepted before", **base, **found
            )
            return records.InboundEmailOut.of(saved).model_dump()
    user = CurrentUser(row["recipient_id"], row["role"] or "member")
    posted: list[UUID] = []
    problems: list[str] = []
    refused: str | None = None
    try:
        if text:
            message, _ = await chat.send_message(
                ctx, user, row["ticket_id"], SendMessage(content=text, clientId=_client_id(mail.dedupe_id, 0))
            )
            posted.append(UUID(str(message["id"])))
        for index, attachment in enumerate(mail.attachments, start=1):
            try:
                client_id = _client_id(mail.dedupe_id, index)
                posted.append(await _post_attachment(ctx, user, row["ticket_id"], attachment, client_id))
            except AppError as exc:  # too large, a type we refuse: the rest still arrives
                problems.append(f"{attachment.file_name}: {exc.message}")
    except AppError as exc:
        refused, problems = exc.code, [*problems, exc.message]
    except ValidationError as exc:  # a text the chat will not take (it is checked like any message)
        refused, problems = "not_storable", [*problems, str(exc.errors()[0].get("msg", ""))]
    if not posted and refused is None:
        refused = "attachments_refused"
    async with ctx.db.connection() as conn:
        await records.settle(
            conn,
            claimed["id"],
            message_ids=posted,
            refused=refused if not posted else None,
            detail="; ".join(problems) or None,
        )
        final = await conn.execute(
            f"SELECT {records.COLUMNS} FROM inbound_emails WHERE id = %s", (claimed["id"],)
        )
        out = await final.fetchone()
    assert out is not None
    return records.InboundEmailOut.of(out).model_dump()
