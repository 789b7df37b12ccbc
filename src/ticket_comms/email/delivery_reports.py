"""Delivery reports: RFC 3464 delivery status notifications, mailed to the bounce address and piped to
`POST /email/inbound` or received by the built-in inbound SMTP listener; and what any report (these or
SES's, see ses_webhook.py) does to its email log.

A report is matched to its email log by what the relay cannot rewrite: the ENVID we set (the log id),
then the Message-ID we set (which carries the log id) or our `X-Email-Log-Id` header in the returned
headers, then the original recipient's most recent sent email. Never by the subject.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email.addresses import log_id_from_message_id
from ticket_comms.email.suppressions import suppress
from ticket_comms.wire import jsonb

log = logging.getLogger(__name__)

MAX_INBOUND_BYTES = 10 * 1024 * 1024
DELIVERED_ACTIONS = {"delivered", "relayed", "expanded"}


@dataclass
class RecipientReport:
    action: str
    status: str
    recipient: str | None
    diagnostic: str | None


@dataclass
class Report:
    envelope_id: str | None = None
    message_ids: list[str] = field(default_factory=list)
    log_ids: list[str] = field(default_factory=list)
    recipients: list[RecipientReport] = field(default_factory=list)


def address_of(value: str | None) -> str | None:
    """`rfc822; bob@example.com` -> `bob@example.com`."""
    if not value:
        return None
    kind, sep, address = str(value).partition(";")
    return (address if sep else kind).strip().strip("<>").lower() or None


def _returned_headers(part: Any) -> Any:
    ctype = part.get_content_type()
    if ctype == "text/rfc822-headers":
        text = part.get_content() if hasattr(part, "get_content") else part.get_payload(decode=True)
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        return email.message_from_string(str(text), policy=email.policy.default)
    if ctype == "message/rfc822":
        payload = part.get_payload()
        if isinstance(payload, list) and payload:
            return payload[0]
    return None


def parse_report(raw: bytes) -> Report | None:
    """The delivery status notification in `raw`, or None when it is not one."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    report = Report()
    found = False
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            blocks: Any = part.get_payload()
            if not isinstance(blocks, list) or not blocks:
                continue
            found = True
            envid = blocks[0].get("Original-Envelope-Id")
            if envid:
                report.envelope_id = str(envid).strip()
            for block in blocks[1:]:
                action = str(block.get("Action", "")).strip().lower()
                if not action:
                    continue
                report.recipients.append(
                    RecipientReport(
                        action=action,
                        status=str(block.get("Status", "")).strip(),
                        recipient=address_of(block.get("Original-Recipient"))
                        or address_of(block.get("Final-Recipient")),
                        diagnostic=str(block.get("Diagnostic-Code", "")).strip() or None,
                    )
                )
        else:
            headers = _returned_headers(part)
            if headers is not None:
                if headers.get("Message-ID"):
                    report.message_ids.append(str(headers["Message-ID"]).strip())
                if headers.get("X-Email-Log-Id"):
                    report.log_ids.append(str(headers["X-Email-Log-Id"]).strip())
    return report if found else None


def _uuid(value: str | None) -> UUID | None:
    if not value:
        return None
    try:
        return UUID(value.strip())
    except ValueError:
        return None


async def match_log(conn: Connection, report: Report, recipient: str | None) -> dict[str, Any] | None:
    candidates = [
        _uuid(report.envelope_id),
        *(_uuid(x) for x in report.log_ids),
        *(log_id_from_message_id(m) for m in report.message_ids),
    ]
    ids = [c for c in candidates if c is not None]
    if ids:
        cur = await conn.execute(
            "SELECT id, recipient_email, status FROM email_logs WHERE id = ANY(%s) "
            "ORDER BY array_position(%s::uuid[], id) LIMIT 1",
            (ids, ids),
        )
        row = await cur.fetchone()
        if row is not None:
            return row
    if report.message_ids:
        cur = await conn.execute(
            "SELECT id, recipient_email, status FROM email_logs WHERE message_id = ANY(%s) LIMIT 1",
            (report.message_ids,),
        )
        row = await cur.fetchone()
        if row is not None:
            return row
    if recipient:
        cur = await conn.execute(
            "SELECT id, recipient_email, status FROM email_logs "
            "WHERE lower(recipient_email) = %s AND status IN ('Sent', 'Delivered', 'Bounced') "
            "ORDER BY created_at DESC LIMIT 1",
            (recipient.lower(),),
        )
        return await cur.fetchone()
    return None


APPLY = """
UPDATE email_logs
SET status = coalesce(%(status)s, status),
    delivered_at = CASE WHEN %(status)s = 'Delivered' THEN coalesce(delivered_at, %(at)s) ELSE delivered_at END,
    error_message = CASE WHEN %(status)s = 'Bounced' THEN %(error)s ELSE error_message END,
    events = events || jsonb_build_array(%(event)s::jsonb),
    updated_at = now()
WHERE id = %(id)s
"""


async def apply_report(
    conn: Connection,
    log_id: UUID,
    *,
    status: str | None,
    event_type: str,
    detail: dict[str, Any],
    error: str | None = None,
    at: datetime | None = None,
) -> None:
    now = at or datetime.now(UTC)
    event = {"type": event_type, "at": now.isoformat(), "detail": detail}
    await conn.execute(
        APPLY,
        {"status": status, "at": now, "error": error, "id": log_id, "event": jsonb(event)},
    )


async def process_inbound(ctx: AppContext, raw: bytes) -> dict[str, Any]:
    """Apply a delivery status notification. Mail that is not one is accepted and ignored."""
    report = parse_report(raw)
    if report is None:
        return {"isReport": False, "matched": []}
    matched: list[dict[str, Any]] = []
    async with ctx.db.transaction() as conn:
        for rcpt in report.recipients or [RecipientReport("", "", None, None)]:
            row = await match_log(conn, report, rcpt.recipient)
            if row is None:
                continue
            detail = {
                "action": rcpt.action,
                "status": rcpt.status,
                "recipient": rcpt.recipient,
                "diagnostic": rcpt.diagnostic,
                "source": "dsn",
            }
            if rcpt.action in DELIVERED_ACTIONS:
                status, kind = "Delivered", "delivered"
            elif rcpt.action == "failed":
                status, kind = "Bounced", "bounced"
            else:
                status, kind = None, rcpt.action or "report"
            error = f"{rcpt.status} {rcpt.diagnostic or ''}".strip() if status == "Bounced" else None
            await apply_report(conn, row["id"], status=status, event_type=kind, detail=detail, error=error)
            if status == "Bounced" and rcpt.status.startswith("5"):
                await suppress(
                    conn,
                    rcpt.recipient or row["recipient_email"],
                    reason="Bounce",
                    detail=error,
                    log_id=row["id"],
                )
            matched.append(
                {"emailLogId": str(row["id"]), "action": rcpt.action, "status": status or row["status"]}
            )
    return {"isReport": True, "matched": matched}


class InboundSmtp:
    """INBOUND_SMTP_PORT: an SMTP listener for mail to the bounce address, so delivery reports need no
    MTA piping them to /email/inbound. Every message is handled as that endpoint handles it."""

    def __init__(self, ctx: AppContext, host: str, port: int):
        self.ctx = ctx
        self.host = host
        self.port = port
        self._server: asyncio.AbstractServer | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        try:
            await process_inbound(self.ctx, envelope.original_content or b"")
        except Exception:
            log.exception("could not process an inbound message")
            return "451 4.3.0 Could not process the message now; try again later"
        return "250 2.0.0 Accepted"

    async def start(self) -> None:
        from aiosmtpd.smtp import SMTP

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTP(self, hostname="ticket-comms", data_size_limit=MAX_INBOUND_BYTES, loop=loop),
            host=self.host,
            port=self.port,
        )
        log.info("inbound SMTP listening", extra={"fields": {"host": self.host, "port": self.port}})

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


async def start_inbound_smtp(ctx: AppContext) -> InboundSmtp | None:
    port = ctx.settings.inbound_smtp_port
    if not port:
        return None
    listener = InboundSmtp(ctx, ctx.settings.host, port)
    await listener.start()
    return listener
