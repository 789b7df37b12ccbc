"""Push subscriptions: a user's browsers and installed apps that agreed to receive pushes.

Each belongs to the user who registered it. One browser profile has one endpoint, so registering
an endpoint again updates it; registered by another user (someone else signed in on that device),
it moves to them with a new id, and the pushes still queued for the previous user are not sent
to it."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric import ec

from ticket_comms.auth.service import CurrentUser
from ticket_comms.config import Settings
from ticket_comms.context import AppContext
from ticket_comms.errors import NotFound, ValidationFailed
from ticket_comms.push.vapid import b64url_decode, is_development

MAX_ENDPOINT_LENGTH = 2048
# Devices kept per user; registering one more forgets the one that has gone longest without a push.
MAX_SUBSCRIPTIONS_PER_USER = 20


def subscription_out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "endpoint": row["endpoint"],
        "userAgent": row["user_agent"],
        "createdAt": row["created_at"].isoformat(),
        "lastSuccessAt": row["last_success_at"].isoformat() if row["last_success_at"] else None,
    }


def _refuse(message: str, code: str, field: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, details=[{"field": field, "message": message}])


def endpoint_origin(settings: Settings, endpoint: str) -> str:
    """The push service's origin, if `endpoint` may be pushed to; else a 422.

    https only. In development (PUBLIC_BASE_URL on this machine) also http://127.0.0.1, for local push
    services. In production, hosts that can only be internal (localhost, loopback, private and
    link-local addresses) are refused: the server POSTs to whatever URL a user registers."""
    if len(endpoint) > MAX_ENDPOINT_LENGTH:
        raise _refuse(
            f"The endpoint is longer than {MAX_ENDPOINT_LENGTH} characters.", "bad_endpoint", "endpoint"
        )
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError as exc:
        raise _refuse("The endpoint is not a valid URL.", "bad_endpoint", "endpoint") from exc
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None or parts.fragment:
        raise _refuse("The endpoint is not a valid push service URL.", "bad_endpoint", "endpoint")
    development = is_development(settings)
    if parts.scheme == "http" and development and host == "127.0.0.1":
        pass
    elif parts.scheme != "https":
        allowed = "https:// (or http://127.0.0.1 in development)" if development else "https://"
        raise _refuse(f"The endpoint must be an {allowed} URL.", "endpoint_not_https", "endpoint")
    elif not development and _internal_host(host):
        raise _refuse("The endpoint must be a public push service.", "endpoint_not_allowed", "endpoint")
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc += f":{port}"
    return f"{parts.scheme}://{netloc}"


def _internal_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


def check_keys(p256dh: str, auth: str) -> None:
    """RFC 8291: `p256dh` is an uncompressed P-256 point (65 bytes), `auth` a 16-byte secret."""
    try:
        point = b64url_decode(p256dh)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        if len(point) != 65:
            raise ValueError("not uncompressed")
    except ValueError as exc:
        raise _refuse(
            "keys.p256dh must be the browser's P-256 public key (base64url, uncompressed point).",
            "bad_key",
            "keys.p256dh",
        ) from exc
    try:
        secret = b64url_decode(auth)
    except ValueError:
        secret = b""
    if len(secret) != 16:
        raise _refuse(
            "keys.auth must be the browser's 16-byte auth secret (base64url).", "bad_key", "keys.auth"
        )


COLUMNS = "id, endpoint, user_agent, created_at, last_success_at"

UPSERT = f"""
INSERT INTO push_subscriptions AS s (user_id, endpoint, origin, p256dh, auth, user_agent)
VALUES (%(user_id)s, %(endpoint)s, %(origin)s, %(p256dh)s, %(auth)s, %(user_agent)s)
ON CONFLICT (endpoint) DO UPDATE SET
    p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, origin = EXCLUDED.origin,
    user_agent = coalesce(EXCLUDED.user_agent, s.user_agent), updated_at = now()
RETURNING {COLUMNS}, (xmax = 0) AS created
"""

# The devices beyond the cap that have gone longest without a push (or since registering).
TRIM = """
DELETE FROM push_subscriptions WHERE id IN (
    SELECT id FROM push_subscriptions WHERE user_id = %(user_id)s
    ORDER BY greatest(last_success_at, updated_at) DESC, id
    OFFSET %(keep)s)
"""


async def register(
    ctx: AppContext, user: CurrentUser, *, endpoint: str, p256dh: str, auth: str, user_agent: str | None
) -> tuple[dict[str, Any], bool]:
    """Store (or refresh) a subscription; returns (it, created)."""
    origin = endpoint_origin(ctx.settings, endpoint)
    check_keys(p256dh, auth)
    async with ctx.db.transaction() as conn:
        # The same browser, now someone else's: the previous owner's row goes (its queued pushes
        # lose their subscription and are cancelled), and this user gets a new one.
        await conn.execute(
            "DELETE FROM push_subscriptions WHERE endpoint = %s AND user_id <> %s", (endpoint, user.id)
        )
        cur = await conn.execute(
            UPSERT,
            {
                "user_id": user.id,
                "endpoint": endpoint,
                "origin": origin,
                "p256dh": p256dh.strip().rstrip("="),
                "auth": auth.strip().rstrip("="),
                "user_agent": user_agent,
            },
        )
        row = await cur.fetchone()
        assert row is not None
        await conn.execute(TRIM, {"user_id": user.id, "keep": MAX_SUBSCRIPTIONS_PER_USER})
    return subscription_out(row), bool(row["created"])


async def list_for(ctx: AppContext, user: CurrentUser) -> list[dict[str, Any]]:
    rows = await ctx.db.fetch_all(
        f"SELECT {COLUMNS} FROM push_subscriptions WHERE user_id = %s ORDER BY created_at DESC, id",
        (user.id,),
    )
    return [subscription_out(r) for r in rows]


async def remove(ctx: AppContext, user: CurrentUser, subscription_id: UUID) -> None:
    row = await ctx.db.fetch_one(
        "DELETE FROM push_subscriptions WHERE id = %s AND user_id = %s RETURNING id",
        (subscription_id, user.id),
    )
    if row is None:
        raise NotFound("Push subscription not found.", code="push_subscription_not_found")
