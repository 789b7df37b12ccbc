"""Delivery tracking: RFC 3464 delivery status notifications (mail to the bounce address, piped to
`POST /email/inbound` or received by the built-in inbound SMTP listener) and Amazon SES events through
SNS (`POST /email/webhooks/ses`, signatures verified).

A report is matched to its email log by what the relay cannot rewrite: the ENVID we set (the log id),
then the Message-ID we set (which carries the log id) or our `X-Email-Log-Id` header in the returned
headers, then the original recipient's most recent sent email. Never by the subject.
"""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import httpx
import orjson
from cachetools import TTLCache
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from psycopg.types.json import Jsonb

from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email.service import log_id_from_message_id
from ticket_comms.errors import BadRequest, Forbidden

log = logging.getLogger(__name__)

MAX_INBOUND_BYTES = 10 * 1024 * 1024
DELIVERED_ACTIONS = {"delivered", "relayed", "expanded"}


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


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


def _address(value: str | None) -> str | None:
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
                        recipient=_address(block.get("Original-Recipient"))
                        or _address(block.get("Final-Recipient")),
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


async def _match(conn: Connection, report: Report, recipient: str | None) -> dict[str, Any] | None:
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

SUPPRESS = """
INSERT INTO email_suppressions (email, reason, detail, email_log_id)
VALUES (lower(%(email)s), %(reason)s, %(detail)s, %(log_id)s)
ON CONFLICT (email) DO UPDATE SET reason = EXCLUDED.reason, detail = EXCLUDED.detail,
    email_log_id = EXCLUDED.email_log_id, created_at = now()
"""


async def _apply(
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
        {"status": status, "at": now, "error": error, "id": log_id, "event": Jsonb(event, dumps=_dumps)},
    )


async def process_inbound(ctx: AppContext, raw: bytes) -> dict[str, Any]:
    """Apply a delivery status notification. Mail that is not one is accepted and ignored."""
    report = parse_report(raw)
    if report is None:
        return {"isReport": False, "matched": []}
    matched: list[dict[str, Any]] = []
    async with ctx.db.transaction() as conn:
        for rcpt in report.recipients or [RecipientReport("", "", None, None)]:
            row = await _match(conn, report, rcpt.recipient)
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
            await _apply(conn, row["id"], status=status, event_type=kind, detail=detail, error=error)
            if status == "Bounced" and rcpt.status.startswith("5"):
                await conn.execute(
                    SUPPRESS,
                    {
                        "email": rcpt.recipient or row["recipient_email"],
                        "reason": "Bounce",
                        "detail": error,
                        "log_id": row["id"],
                    },
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


# ---------------------------------------------------------------------------------------------
# Amazon SES through SNS


SNS_CERT_HOST = re.compile(r"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$")
SIGNED_KEYS = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": (
        "Message",
        "MessageId",
        "SubscribeURL",
        "Timestamp",
        "Token",
        "TopicArn",
        "Type",
    ),
}
SIGNED_KEYS["UnsubscribeConfirmation"] = SIGNED_KEYS["SubscriptionConfirmation"]
# Signing certificates by URL (they rotate rarely; an hour keeps a rotation cheap to pick up).
_certificates: TTLCache[str, x509.Certificate] = TTLCache(maxsize=32, ttl=3600)
_cert_lock = asyncio.Lock()


def _aws_url(url: str) -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme == "https" and bool(parts.hostname) and bool(SNS_CERT_HOST.match(parts.hostname or ""))
    )


async def _certificate(url: str) -> x509.Certificate:
    cert = _certificates.get(url)
    if cert is not None:
        return cert
    if not _aws_url(url):
        raise Forbidden(
            "The SNS signing certificate must come from sns.<region>.amazonaws.com over https.",
            code="bad_signature",
        )
    async with _cert_lock:
        cert = _certificates.get(url)
        if cert is None:
            async with httpx.AsyncClient(timeout=10) as client:
                response = await client.get(url)
            if response.status_code != 200:
                raise Forbidden("The SNS signing certificate could not be fetched.", code="bad_signature")
            cert = x509.load_pem_x509_certificate(response.content)
            _certificates[url] = cert
    return cert


def canonical_sns_string(message: dict[str, Any]) -> bytes:
    keys = SIGNED_KEYS.get(str(message.get("Type")), ())
    out = []
    for key in keys:
        if key in message and message[key] is not None:
            out.append(f"{key}\n{message[key]}\n")
    return "".join(out).encode()


async def verify_sns(message: dict[str, Any]) -> None:
    if message.get("Type") not in SIGNED_KEYS:
        raise BadRequest("Not an SNS message.", code="not_sns")
    version = str(message.get("SignatureVersion", ""))
    if version not in ("1", "2"):
        raise Forbidden("Unsupported SNS signature version.", code="bad_signature")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except ValueError:
        raise Forbidden("The SNS signature is not valid.", code="bad_signature") from None
    cert = await _certificate(str(message.get("SigningCertURL", "")))
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise Forbidden("The SNS signing certificate is not an RSA key.", code="bad_signature")
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 - SNS SignatureVersion 1 is SHA1
    try:
        key.verify(signature, canonical_sns_string(message), padding.PKCS1v15(), algorithm)
    except InvalidSignature:
        raise Forbidden("The SNS signature is not valid.", code="bad_signature") from None


async def process_ses(ctx: AppContext, body: bytes) -> dict[str, Any]:
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("The body is not JSON.", code="malformed_json") from None
    if not isinstance(message, dict):
        raise BadRequest("Not an SNS message.", code="not_sns")
    await verify_sns(message)
    kind = message["Type"]
    if kind == "SubscriptionConfirmation":
        url = str(message.get("SubscribeURL", ""))
        parts = urlsplit(url)
        if parts.scheme != "https" or not SNS_CERT_HOST.match(parts.hostname or ""):
            raise Forbidden("The subscription URL is not an SNS URL.", code="bad_subscribe_url")
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(url)
        return {"type": kind, "confirmed": response.status_code == 200}
    if kind != "Notification":
        return {"type": kind}
    try:
        event = orjson.loads(str(message.get("Message", "")))
    except orjson.JSONDecodeError:
        raise BadRequest("The SNS message does not carry an SES event.", code="not_ses_event") from None
    if not isinstance(event, dict):
        raise BadRequest("The SNS message does not carry an SES event.", code="not_ses_event")
    return {"type": kind, **(await apply_ses_event(ctx, event))}


async def apply_ses_event(ctx: AppContext, event: dict[str, Any]) -> dict[str, Any]:
    kind = str(event.get("eventType") or event.get("notificationType") or "")
    mail: dict[str, Any] = event["mail"] if isinstance(event.get("mail"), dict) else {}
    provider_id = str(mail.get("messageId") or "")
    header_ids = [
        str(h.get("value", ""))
        for h in mail.get("headers") or []
        if isinstance(h, dict) and str(h.get("name", "")).lower() == "message-id"
    ]
    async with ctx.db.transaction() as conn:
        row = None
        if provider_id:
            cur = await conn.execute(
                "SELECT id, recipient_email, status FROM email_logs WHERE provider_message_id = %s LIMIT 1",
                (provider_id,),
            )
            row = await cur.fetchone()
        if row is None and header_ids:
            row = await _match(conn, Report(message_ids=header_ids), None)
        if row is None:
            return {"matched": None, "event": kind}
        if kind == "Delivery":
            await _apply(
                conn,
                row["id"],
                status="Delivered",
                event_type="delivered",
                detail={"source": "ses", "delivery": event.get("delivery")},
            )
            status = "Delivered"
        elif kind == "Bounce":
            bounce: dict[str, Any] = event["bounce"] if isinstance(event.get("bounce"), dict) else {}
            permanent = bounce.get("bounceType") == "Permanent"
            status = "Bounced" if permanent else row["status"]
            error = f"SES {bounce.get('bounceType')} bounce: {bounce.get('bounceSubType')}"
            await _apply(
                conn,
                row["id"],
                status="Bounced" if permanent else None,
                event_type="bounced" if permanent else "delayed",
                detail={"source": "ses", "bounce": bounce},
                error=error,
            )
            if permanent:
                for rcpt in bounce.get("bouncedRecipients") or [{"emailAddress": row["recipient_email"]}]:
                    address = _address(str(rcpt.get("emailAddress", ""))) if isinstance(rcpt, dict) else None
                    if address:
                        await conn.execute(
                            SUPPRESS,
                            {"email": address, "reason": "Bounce", "detail": error, "log_id": row["id"]},
                        )
        elif kind == "Complaint":
            complaint: dict[str, Any] = event["complaint"] if isinstance(event.get("complaint"), dict) else {}
            await _apply(
                conn,
                row["id"],
                status=None,
                event_type="complained",
                detail={"source": "ses", "complaint": complaint},
            )
            for rcpt in complaint.get("complainedRecipients") or [{"emailAddress": row["recipient_email"]}]:
                address = _address(str(rcpt.get("emailAddress", ""))) if isinstance(rcpt, dict) else None
                if address:
                    await conn.execute(
                        SUPPRESS,
                        {
                            "email": address,
                            "reason": "Complaint",
                            "detail": "complaint via SES",
                            "log_id": row["id"],
                        },
                    )
            status = row["status"]
        elif kind == "Reject":
            await _apply(
                conn,
                row["id"],
                status="Bounced",
                event_type="rejected",
                detail={"source": "ses", "reject": event.get("reject")},
                error="SES rejected the email",
            )
            status = "Bounced"
        else:
            await _apply(
                conn, row["id"], status=None, event_type=kind.lower() or "ses", detail={"source": "ses"}
            )
            status = row["status"]
    return {"matched": str(row["id"]), "event": kind, "status": status}
