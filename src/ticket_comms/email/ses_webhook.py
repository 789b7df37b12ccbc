"""Amazon SES delivery events through SNS (`POST /email/webhooks/ses`): the SNS signature is verified
against Amazon's certificate, subscriptions are confirmed only at SNS hosts, and each event is applied
to the email log it names, as a delivery report would be."""

from __future__ import annotations

import asyncio
import base64
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
from cachetools import TTLCache
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email.delivery_reports import (
    MATCH_COLUMNS,
    Report,
    address_of,
    apply_report,
    match_log,
    soft_bounced,
    suppress_recipient,
)
from ticket_comms.errors import BadRequest, Forbidden

if TYPE_CHECKING:
    import httpx

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


def _aws_url(url: str) -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme == "https" and bool(parts.hostname) and bool(SNS_CERT_HOST.match(parts.hostname or ""))
    )


def _sns_http() -> httpx.AsyncClient:
    # httpx on the first SNS message only: ~7 MB that a `serve` without SES never needs.
    import httpx

    return httpx.AsyncClient(timeout=10)


class SnsCertificates:
    """SNS signing certificates by URL, fetched once and kept an hour (they rotate rarely; an hour
    keeps a rotation cheap to pick up). One per app, built by the app factory."""

    def __init__(self) -> None:
        self.cache: TTLCache[str, x509.Certificate] = TTLCache(maxsize=32, ttl=3600)
        self._lock = asyncio.Lock()

    async def get(self, url: str) -> x509.Certificate:
        cert = self.cache.get(url)
        if cert is not None:
            return cert
        if not _aws_url(url):
            raise Forbidden(
                "The SNS signing certificate must come from sns.<region>.amazonaws.com over https.",
                code="bad_signature",
            )
        async with self._lock:
            cert = self.cache.get(url)
            if cert is None:
                async with _sns_http() as client:
                    response = await client.get(url)
                if response.status_code != 200:
                    raise Forbidden("The SNS signing certificate could not be fetched.", code="bad_signature")
                cert = x509.load_pem_x509_certificate(response.content)
                self.cache[url] = cert
        return cert


def canonical_sns_string(message: dict[str, Any]) -> bytes:
    keys = SIGNED_KEYS.get(str(message.get("Type")), ())
    out = []
    for key in keys:
        if key in message and message[key] is not None:
            out.append(f"{key}\n{message[key]}\n")
    return "".join(out).encode()


async def verify_sns(message: dict[str, Any], certificates: SnsCertificates) -> None:
    if message.get("Type") not in SIGNED_KEYS:
        raise BadRequest("Not an SNS message.", code="not_sns")
    version = str(message.get("SignatureVersion", ""))
    if version not in ("1", "2"):
        raise Forbidden("Unsupported SNS signature version.", code="bad_signature")
    try:
        signature = base64.b64decode(str(message.get("Signature", "")), validate=True)
    except ValueError:
        raise Forbidden("The SNS signature is not valid.", code="bad_signature") from None
    cert = await certificates.get(str(message.get("SigningCertURL", "")))
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
    if ctx.sns_certificates is None:  # a context not built by the app factory (scripts)
        ctx.sns_certificates = SnsCertificates()
    await verify_sns(message, ctx.sns_certificates)
    # Only our own topics: anyone can sign SNS messages of a topic of theirs, and confirming a foreign
    # subscription would let a stranger's topic post events here.
    if str(message.get("TopicArn", "")) not in ctx.settings.ses_topic_arns:
        raise Forbidden("This SNS topic is not one of SES_TOPIC_ARNS.", code="unknown_topic")
    kind = message["Type"]
    if kind == "SubscriptionConfirmation":
        url = str(message.get("SubscribeURL", ""))
        parts = urlsplit(url)
        if parts.scheme != "https" or not SNS_CERT_HOST.match(parts.hostname or ""):
            raise Forbidden("The subscription URL is not an SNS URL.", code="bad_subscribe_url")
        async with _sns_http() as client:
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


async def _suppress_reported(
    conn: Connection, row: dict[str, Any], reported: Any, reason: str, detail: str
) -> None:
    """Suppress the email's own recipient when the bounce or complaint names it (or names nobody);
    addresses it names that the email was not sent to are ignored."""
    named = [address_of(str(r.get("emailAddress", ""))) for r in reported or [] if isinstance(r, dict)]
    if named and (row["recipient_email"] or "").lower() not in named:
        return
    await suppress_recipient(conn, row, reason=reason, detail=detail)


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
                f"SELECT {MATCH_COLUMNS} FROM email_logs WHERE provider_message_id = %s LIMIT 1",
                (provider_id,),
            )
            row = await cur.fetchone()
        if row is None and header_ids:
            row = await match_log(conn, Report(message_ids=header_ids), None)
        if row is None:
            return {"matched": None, "event": kind}
        if kind == "Delivery":
            await apply_report(
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
            await apply_report(
                conn,
                row["id"],
                status="Bounced" if permanent else None,
                event_type="bounced" if permanent else "delayed",
                detail={"source": "ses", "bounce": bounce},
                error=error,
            )
            if permanent:
                await _suppress_reported(conn, row, bounce.get("bouncedRecipients"), "Bounce", error)
            elif bounce.get("bounceType") == "Transient":
                await soft_bounced(conn, ctx.settings, row, status="4.0.0", diagnostic=error)
        elif kind == "Complaint":
            complaint: dict[str, Any] = event["complaint"] if isinstance(event.get("complaint"), dict) else {}
            await apply_report(
                conn,
                row["id"],
                status=None,
                event_type="complained",
                detail={"source": "ses", "complaint": complaint},
            )
            await _suppress_reported(
                conn, row, complaint.get("complainedRecipients"), "Complaint", "complaint via SES"
            )
            status = row["status"]
        elif kind == "Reject":
            await apply_report(
                conn,
                row["id"],
                status="Bounced",
                event_type="rejected",
                detail={"source": "ses", "reject": event.get("reject")},
                error="SES rejected the email",
            )
            status = "Bounced"
        else:
            await apply_report(
                conn, row["id"], status=None, event_type=kind.lower() or "ses", detail={"source": "ses"}
            )
            status = row["status"]
    return {"matched": str(row["id"]), "event": kind, "status": status}
