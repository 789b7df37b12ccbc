"""One push over the wire: the payload encrypted for the subscriber (RFC 8291 `aes128gcm`, http-ece),
VAPID-signed (RFC 8292), POSTed to the push service (RFC 8030) with httpx; and what its answer means."""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

import http_ece
import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from ticket_comms.push.vapid import VapidSigner, b64url_decode

# A push service that does not answer within PUSH_TIMEOUT_SECONDS is treated as unavailable (retried
# later); connecting has at most this. Together with the per-origin limit in the worker, a hanging
# service holds a bounded number of sending slots for a bounded time.
CONNECT_TIMEOUT_SECONDS = 5.0
# Retry-After beyond this is capped: the push's TTL decides whether it is still worth sending.
MAX_RETRY_AFTER_SECONDS = 3600.0


def encrypt(plaintext: bytes, p256dh: str, auth: str) -> bytes:
    """RFC 8291: a fresh ephemeral ECDH key and salt per push; the key id in the header is our public key."""
    ephemeral = ec.generate_private_key(ec.SECP256R1())
    return bytes(
        http_ece.encrypt(
            plaintext,
            private_key=ephemeral,
            dh=b64url_decode(p256dh),
            auth_secret=b64url_decode(auth),
            version="aes128gcm",
        )
    )


@dataclass(slots=True)
class Outcome:
    """What became of one attempt. `kind`: sent, expired (subscription gone), retry, failed."""

    kind: str
    status: int | None
    reply: str
    retry_after: float | None = None


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """`Retry-After` as seconds from now: delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = time.time() if now is None else now
    return min(max(0.0, when.timestamp() - now), MAX_RETRY_AFTER_SECONDS)


# Of a push service's answer, only this much is read (kept in the push's timeline): the endpoint is a URL
# a browser gave us, and its answer could be of any size.
MAX_REPLY_BYTES = 1024


def classify(response: httpx.Response, body: bytes) -> Outcome:
    status = response.status_code
    reply = f"{status} {response.reason_phrase}".strip()
    text = body[:300].decode("utf-8", "replace").strip()
    if text:
        reply = f"{reply}: {text}"
    if 200 <= status < 300:
        return Outcome("sent", status, reply)
    if status in (404, 410):
        # RFC 8030 §7.3: the subscription expired or was unsubscribed; it will never work again.
        return Outcome("expired", status, reply)
    if status == 429 or status >= 500:
        return Outcome("retry", status, reply, retry_after_seconds(response.headers.get("retry-after")))
    # 400 (malformed), 401/403 (VAPID refused: the subscription was made with another key),
    # 413 (payload too large): sending the same request again cannot succeed.
    return Outcome("failed", status, reply)


@dataclass(slots=True)
class Push:
    endpoint: str
    origin: str
    p256dh: str
    auth: str
    payload: bytes
    ttl: int
    urgency: str
    topic: str | None


async def send(client: httpx.AsyncClient, signer: VapidSigner, push: Push, limit_seconds: float) -> Outcome:
    body = encrypt(push.payload, push.p256dh, push.auth)
    headers = {
        "Authorization": signer.authorization(push.origin),
        "Content-Encoding": "aes128gcm",
        "Content-Type": "application/octet-stream",
        "TTL": str(max(0, push.ttl)),
        "Urgency": push.urgency,
    }
    if push.topic:
        headers["Topic"] = push.topic
    try:
        # httpx's timeouts are per read/write; this bounds the whole exchange (a trickling answer too).
        async with (
            asyncio.timeout(limit_seconds),
            client.stream("POST", push.endpoint, content=body, headers=headers) as response,
        ):
            answer = b""
            async for chunk in response.aiter_raw():
                answer += chunk
                if len(answer) >= MAX_REPLY_BYTES:
                    break
    except (TimeoutError, httpx.TimeoutException):
        return Outcome("retry", None, f"no answer within {limit_seconds:g} s")
    except httpx.HTTPError as exc:
        return Outcome("retry", None, f"{exc.__class__.__name__}: {exc}".strip().rstrip(":"))
    return classify(response, answer)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every push client: making one loads the CA bundle (about 50 ms of CPU), and the
    worker keeps 64 clients per push service."""
    return httpx.create_ssl_context()


def build_client(max_connections: int, timeout: float) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        verify=_tls(),
        timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_SECONDS)),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        follow_redirects=False,
        headers={"User-Agent": "ticket-comms-push"},
    )
