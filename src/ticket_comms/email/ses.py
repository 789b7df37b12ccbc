"""Amazon SES (API v2 SendEmail with raw content), the other way out besides SMTP (transports.py)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from ticket_comms.config import Settings
from ticket_comms.email.transports import OutgoingEmail, SendResult, ascii_domain

SES_NO_SMTPUTF8 = (
    "553 5.6.7 The address is not ASCII before the @ and Amazon SES does not support SMTPUTF8; use an SMTP"
    " relay that offers SMTPUTF8 or an ASCII address for this user"
)

# SES error codes that mean "try again later"; everything else the API rejects is permanent.
SES_TRANSIENT = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "ServiceUnavailable",
    "InternalFailure",
    "LimitExceededException",
    "SendingPausedException",
    "RequestTimeout",
}


class SesTransport:
    """Amazon SES (API v2 SendEmail with raw content) through boto3, called in a thread."""

    def __init__(self, settings: Settings):
        import boto3

        # Region, credentials and endpoint come from boto3's own configuration (AWS_REGION, AWS_ENDPOINT_URL...).
        self._client = boto3.client("sesv2")
        self._configuration_set = settings.ses_configuration_set

    async def send(self, email: OutgoingEmail) -> SendResult:
        from botocore.exceptions import BotoCoreError, ClientError

        recipient = ascii_domain(email.recipient)
        if not recipient.isascii():
            # SES has no SMTPUTF8: a local part must be 7-bit ASCII (its domain may be IDNA).
            return SendResult(False, permanent=True, reply=SES_NO_SMTPUTF8)
        request: dict[str, Any] = {
            "FromEmailAddress": _header_from(email.raw) or email.sender,
            "Destination": {"ToAddresses": [recipient]},
            "Content": {"Raw": {"Data": email.raw}},
            "FeedbackForwardingEmailAddress": email.sender,
        }
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        try:
            response = await asyncio.to_thread(self._client.send_email, **request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400) or 400)
            reply = f"SES {code}: {error.get('Message', '')}".strip()
            transient = code in SES_TRANSIENT or status >= 500 or status == 429
            return SendResult(False, permanent=not transient, reply=reply)
        except (BotoCoreError, OSError) as exc:
            return SendResult(False, reply=f"SES unreachable: {exc.__class__.__name__}: {exc}")
        message_id = response.get("MessageId")
        return SendResult(True, reply=f"SES accepted {message_id}", provider_message_id=message_id)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            self._client.close()


def _header_from(raw: bytes) -> str | None:
    from email.utils import parseaddr

    head = raw.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")
    for line in head.split("\r\n"):
        if line.lower().startswith("from:"):
            return parseaddr(line[5:].strip())[1] or None
    return None
