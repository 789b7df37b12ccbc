"""Delivery reports: RFC 3464 delivery status notifications, mailed to the bounce address and piped to
`POST /email/inbound` or received by the built-in inbound SMTP listener; and what any report (these or
SES's, see ses_webhook.py) does to its email log.

A report changes only an email it proves to be about: the signed bounce address it was sent to (VERP,
addresses.py), or our own ids in it: the ENVID we set (the log id), the Message-ID we set (which
carries the log id) or our `X-Email-Log-Id` header in the returned headers. Never by a recipient
address alone, never by the subject. It suppresses only that email's own recipient, and never for
security mail (OTPRequested) on one report: those are marked in the timeline for admins instead.

Mail is parsed in a thread, after a cheap count of its parts, with bounds on parts, nesting and size:
a crafted report cannot hold the event loop. Bounces in older formats are read by bounce_formats.py;
repeated soft bounces suppress an address for a while (soft_bounces.py). The inbound SMTP listener is inbound_smtp.py.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from ticket_comms.catalogue import ALWAYS_EMAILED
from ticket_comms.config import Settings
from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email import bounce_formats
from ticket_comms.email.addresses import log_id_from_bounce_address, log_id_from_message_id
from ticket_comms.email.soft_bounces import count_soft_bounce, soft_bounce_detail
from ticket_comms.email.suppressions import suppress
from ticket_comms.wire import jsonb

log = logging.getLogger(__name__)

MAX_INBOUND_BYTES = 10 * 1024 * 1024
# A delivery report has a handful of parts; mail with more, or nested deeper, is not one we read.
MAX_PARTS = 100
MAX_DEPTH = 8
MAX_ID_LENGTH = 998
DELIVERED_ACTIONS = {"delivered", "relayed", "expanded"}
# Headers in which an MTA piping mail to /email/inbound names the address it was delivered to.
DELIVERED_TO_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To")
PART_START_RE = re.compile(rb"(?im)^content-type:")
NONSTANDARD = "a bounce not in RFC 3464 form (recognised by flufl.bounce)"


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
    # The addresses the report was delivered to (the envelope, or the headers an MTA adds).
    delivered_to: list[str] = field(default_factory=list)


def address_of(value: str | None) -> str | None:
    """`rfc822; bob@example.com` -> `bob@example.com`."""
    if not value:
        return None
    kind, sep, address = str(value).partition(";")
    return (address if sep else kind).strip().strip("<>").lower() or None


def _header(message: Any, name: str) -> str | None:
    """A header's text, or None when absent or malformed (a report is written by strangers)."""
    try:
        value = message.get(name)
    except Exception:  # the email package raises many kinds on malformed headers
        return None
    if value is None:
        return None
    text = str(value).strip()
    if not text or "\x00" in text or len(text) > MAX_ID_LENGTH:
        return None
    return text


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


def _depth(message: Any, limit: int) -> int:
    """How deeply `message`'s parts nest (stops counting past `limit`)."""
    deepest = 0
    stack = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend((p, depth + 1) for p in payload)
    return deepest


def parse_report(raw: bytes) -> Report | None:
    """The delivery status notification in `raw`, or None when it is not one (or is too large or complex
    to be one). Blocking: call it through a thread."""
    if len(raw) > MAX_INBOUND_BYTES or len(PART_START_RE.findall(raw[:MAX_INBOUND_BYTES])) > MAX_PARTS:
        return None
    message = email.message_from_bytes(raw, policy=email.policy.default)
    if _depth(message, MAX_DEPTH) > MAX_DEPTH:
        return None
    report = Report()
    for name in DELIVERED_TO_HEADERS:
        value = _header(message, name)
        if value:
            report.delivered_to.extend(a for a in (address_of(v) for v in value.split(",")) if a)
    found = False
    for part in message.walk():
        ctype = part.get_content_type()
        if ctype in ("message/delivery-status", "message/global-delivery-status"):
            blocks: Any = part.get_payload()
            if not isinstance(blocks, list) or not blocks:
                continue
            found = True
            envid = _header(blocks[0], "Original-Envelope-Id")
            if envid:
                report.envelope_id = envid
            for block in blocks[1:]:
                action = (_header(block, "Action") or "").lower()
                if not action:
                    continue
                report.recipients.append(
                    RecipientReport(
                        action=action,
                        status=_header(block, "Status") or "",
                        recipient=address_of(_header(block, "Original-Recipient"))
                        or address_of(_header(block, "Final-Recipient")),
                        diagnostic=_header(block, "Diagnostic-Code"),
                    )
                )
        else:
            headers = _returned_headers(part)
            if headers is not None:
                message_id = _header(headers, "Message-ID")
                if message_id:
                    report.message_ids.append(message_id)
                log_id = _header(headers, "X-Email-Log-Id")
                if log_id:
                    report.log_ids.append(log_id)
    return report if found else _nonstandard(raw, report)


def _nonstandard(raw: bytes, report: Report) -> Report | None:
    """A bounce in one of the formats before RFC 3464 (bounce_formats.py), as a report; None if none."""
    detected = bounce_formats.detect(raw)
    if detected is None:
        return None
    failed, delayed, message_ids, log_ids = detected
    diagnostic = NONSTANDARD
    report.recipients = [RecipientReport("failed", "5.0.0", a, diagnostic) for a in failed]
    report.recipients += [RecipientReport("delayed", "4.0.0", a, diagnostic) for a in delayed]
    report.message_ids.extend(message_ids)
    report.log_ids.extend(log_ids)
    return report


def _uuid(value: str | None) -> UUID | None:
    if not value:
        return None
    try:
        return UUID(value.strip())
    except ValueError:
        return None


MATCH_COLUMNS = "id, recipient_email, status, template_name"


async def match_log(
    conn: Connection, report: Report, settings: Settings | None = None
) -> dict[str, Any] | None:
    """The email log `report` proves to be about: by a signed bounce address, or by our own ids in it."""
    candidates = [
        *(log_id_from_bounce_address(settings, a) for a in report.delivered_to if settings is not None),
        _uuid(report.envelope_id),
        *(_uuid(x) for x in report.log_ids),
        *(log_id_from_message_id(m) for m in report.message_ids),
    ]
    ids = [c for c in candidates if c is not None]
    if not ids:
        return None
    cur = await conn.execute(
        f"SELECT {MATCH_COLUMNS} FROM email_logs WHERE id = ANY(%s) "
        "ORDER BY array_position(%s::uuid[], id) LIMIT 1",
        (ids, ids),
    )
    return await cur.fetchone()


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


async def suppress_recipient(
    conn: Connection,
    row: dict[str, Any],
    *,
    reason: str,
    detail: str | None,
    for_seconds: float | None = None,
) -> None:
    """Suppress the matched email's own recipient, never an address a report merely names. Security mail
    (OTPRequested) is never suppressed by one report: the timeline and the log say so for admins."""
    if row["template_name"] in ALWAYS_EMAILED:
        log.warning(
            "a report would suppress the address of security mail; not suppressed",
            extra={"fields": {"emailLogId": str(row["id"]), "reason": reason}},
        )
        await apply_report(
            conn,
            row["id"],
            status=None,
            event_type="suppression_skipped",
            detail={"reason": reason, "why": "security mail is never suppressed by a single report"},
        )
        return
    await suppress(
        conn, row["recipient_email"], reason=reason, detail=detail, log_id=row["id"], for_seconds=for_seconds
    )


async def soft_bounced(
    conn: Connection, settings: Settings, row: dict[str, Any], *, status: str, diagnostic: str | None
) -> None:
    """Count a soft bounce of `row`'s recipient; past the threshold, suppress it for a while."""
    count, reached = await count_soft_bounce(conn, settings, row, status=status, diagnostic=diagnostic)
    if reached:
        await suppress_recipient(
            conn,
            row,
            reason="SoftBounce",
            detail=soft_bounce_detail(settings, count, status, diagnostic),
            for_seconds=settings.soft_bounce_suppress_seconds,
        )


def _same_address(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and str(a).strip().lower() == str(b).strip().lower()


async def process_inbound(
    ctx: AppContext, raw: bytes, *, delivered_to: list[str] | None = None
) -> dict[str, Any]:
    """Apply a delivery status notification. Mail that is not one is accepted and ignored.
    `delivered_to`: the envelope recipients, when the mail came by SMTP."""
    report = await asyncio.to_thread(parse_report, raw)
    if report is None:
        return {"isReport": False, "matched": []}
    if delivered_to:
        report.delivered_to[:0] = [a.lower() for a in delivered_to]
    matched: list[dict[str, Any]] = []
    async with ctx.db.transaction() as conn:
        row = await match_log(conn, report, ctx.settings)
        if row is None:
            return {"isReport": True, "matched": []}
        for rcpt in report.recipients or [RecipientReport("", "", None, None)]:
            if rcpt.recipient and not _same_address(rcpt.recipient, row["recipient_email"]):
                continue  # about someone else: our email had one recipient
            detail = {
                "action": rcpt.action,
                "status": rcpt.status,
                "recipient": rcpt.recipient,
                "diagnostic": rcpt.diagnostic,
                "source": "dsn" if rcpt.diagnostic != NONSTANDARD else "flufl.bounce",
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
                await suppress_recipient(conn, row, reason="Bounce", detail=error)
            elif rcpt.status.startswith("4") and rcpt.action in ("failed", "delayed"):
                await soft_bounced(conn, ctx.settings, row, status=rcpt.status, diagnostic=rcpt.diagnostic)
            matched.append(
                {"emailLogId": str(row["id"]), "action": rcpt.action, "status": status or row["status"]}
            )
    return {"isReport": True, "matched": matched}
