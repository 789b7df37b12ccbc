"""Emails an admin sends by hand, through the normal outbox (so they are logged, retried, tracked):
a test of a template to oneself with sample data, and a resend of a `Failed` or `Bounced` email.

Both queue one `Pending` email log row like an event does (the worker claims it with its event), and
wake the worker with the outbox NOTIFY on commit.
"""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from pydantic import BaseModel

from ticket_comms.auth.service import CurrentUser
from ticket_comms.catalogue import SECRET_VARIABLES
from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email import templates
from ticket_comms.email.addresses import message_id_for
from ticket_comms.email.outbox import OUTBOX_CHANNEL
from ticket_comms.email.templates.schemas import PreviewTemplate
from ticket_comms.email.templates.service import preview
from ticket_comms.errors import Conflict, NotFound, ValidationFailed
from ticket_comms.wire import jsonb

QUEUE_ONE = """
INSERT INTO email_logs (id, event_id, template_name, recipient_id, recipient_email, recipient_name,
                        message_id, resent_from, events)
VALUES (%(id)s, %(event_id)s, %(template)s, %(user_id)s, %(email)s, %(name)s, %(message_id)s, %(resent_from)s,
        jsonb_build_array(jsonb_build_object('type', 'queued', 'at', now(), 'detail', %(detail)s::jsonb)))
"""


class QueuedOut(BaseModel):
    emailLogId: str
    recipientEmail: str


async def _suppression(conn: Connection, email: str) -> dict[str, Any] | None:
    cur = await conn.execute(
        "SELECT reason, created_at FROM email_suppressions WHERE email = lower(%s)", (email,)
    )
    return await cur.fetchone()


def _refuse_suppressed(email: str, row: dict[str, Any]) -> Conflict:
    kind = "a hard bounce" if row["reason"] == "Bounce" else "a spam complaint"
    return Conflict(
        f"{email} is suppressed after {kind} and gets no email. Lift the suppression first if the address "
        "works again.",
        code="recipient_suppressed",
        details={"email": email, "reason": row["reason"]},
    )


async def _queue(conn: Connection, ctx: AppContext, **values: Any) -> UUID:
    log_id = uuid.uuid4()
    await conn.execute(
        QUEUE_ONE, {**values, "id": log_id, "message_id": message_id_for(ctx.settings, log_id)}
    )
    await conn.execute("SELECT pg_notify(%s, '')", (OUTBOX_CHANNEL,))
    return log_id


async def send_test(ctx: AppContext, admin: CurrentUser, name: str, context: dict[str, Any]) -> QueuedOut:
    """Render `name` with `context` (the sample data) and queue it to the caller's own address."""
    if name == templates.LAYOUT:
        raise ValidationFailed(
            "The layout is sent around every email: send a test of a template to see it.", code="layout_test"
        )
    if not admin.email:
        raise ValidationFailed("Your account has no email address to send the test to.", code="no_email")
    # Checked now, so a template that cannot render is a 422 here rather than a Failed email later.
    rendered = await preview(ctx, name, PreviewTemplate(context=context))
    if not (await templates.get(ctx, name)).is_active:
        raise Conflict(
            f"The {name} template is switched off: switch it on to send it.", code="template_inactive"
        )
    async with ctx.db.transaction() as conn:
        suppressed = await _suppression(conn, admin.email)
        if suppressed is not None:
            raise _refuse_suppressed(admin.email, suppressed)
        # The event row carries the sample data to the worker, like any event's data.
        cur = await conn.execute(
            "INSERT INTO events (type, actor_id, data) VALUES (%s, %s, %s) RETURNING id",
            (name, admin.id, jsonb(context)),
        )
        event = await cur.fetchone()
        assert event is not None
        log_id = await _queue(
            conn,
            ctx,
            event_id=event["id"],
            template=name,
            user_id=admin.id,
            email=admin.email,
            name=admin.name,
            resent_from=None,
            detail=jsonb({"test": True, "by": admin.id, "subject": rendered.subject[:200]}),
        )
    return QueuedOut(emailLogId=str(log_id), recipientEmail=admin.email)


async def resend(ctx: AppContext, admin: CurrentUser, log_id: UUID) -> QueuedOut:
    """Queue a `Failed` or `Bounced` email again, as a new log row linked to the first (`resentFrom`)."""
    async with ctx.db.transaction() as conn:
        cur = await conn.execute(
            "SELECT l.*, e.type AS event_type FROM email_logs l JOIN events e ON e.id = l.event_id "
            "WHERE l.id = %s FOR UPDATE OF l",
            (log_id,),
        )
        row = await cur.fetchone()
        if row is None:
            raise NotFound("Email log not found.", code="email_log_not_found")
        if row["status"] not in ("Failed", "Bounced"):
            raise Conflict(
                f"Only Failed or Bounced emails are resent; this one is {row['status']}.",
                code="not_resendable",
                details={"status": row["status"]},
            )
        if row["event_type"] in SECRET_VARIABLES:
            # Its one-time code is gone from the stored event (redacted once sent) and expired anyway.
            raise Conflict(
                "Emails with a one-time code are never resent: the code is not kept. Ask for a new code.",
                code="secret_not_resendable",
            )
        suppressed = await _suppression(conn, row["recipient_email"])
        if suppressed is not None:
            raise _refuse_suppressed(row["recipient_email"], suppressed)
        new_id = await _queue(
            conn,
            ctx,
            event_id=row["event_id"],
            template=row["template_name"],
            user_id=row["recipient_id"],
            email=row["recipient_email"],
            name=row["recipient_name"],
            resent_from=row["id"],
            detail=jsonb({"resentFrom": str(row["id"]), "by": admin.id}),
        )
        await conn.execute(
            "UPDATE email_logs SET events = events || jsonb_build_array(jsonb_build_object("
            "'type', 'resent', 'at', now(), 'detail', jsonb_build_object('emailLogId', %s::text, 'by', %s::text))) "
            "WHERE id = %s",
            (str(new_id), admin.id, row["id"]),
        )
    return QueuedOut(emailLogId=str(new_id), recipientEmail=row["recipient_email"])
