"""A browser replaced its push subscription (`pushsubscriptionchange` in the service worker): the new
endpoint takes the old one's place.

The service worker may run with no signed-in page open, so it has no JWT. It proves it held the old
subscription with that subscription's auth secret (16 random bytes the browser generated, known only
to it and to us): the same secret we encrypt pushes with. The old row is updated in place, so it
keeps its id, its user and the pushes already queued for it (sent to the new endpoint). Without a
new subscription (the browser dropped push), the old one is removed."""

from __future__ import annotations

import hmac
from typing import Any

from ticket_comms.context import AppContext
from ticket_comms.errors import NotFound
from ticket_comms.push.subscriptions import COLUMNS, check_keys, endpoint_origin, subscription_out


def _unknown() -> NotFound:
    # One answer for an unknown endpoint and a wrong secret: the caller learns nothing about others.
    return NotFound(
        "No push subscription with this endpoint and auth secret.", code="push_subscription_not_found"
    )


def _normal(secret: str) -> str:
    return secret.strip().rstrip("=")


REPLACE = f"""
UPDATE push_subscriptions
SET endpoint = %(endpoint)s, origin = %(origin)s, p256dh = %(p256dh)s, auth = %(auth)s,
    user_agent = coalesce(%(user_agent)s, user_agent), updated_at = now()
WHERE id = %(id)s
RETURNING {COLUMNS}
"""


async def change(
    ctx: AppContext,
    *,
    old_endpoint: str,
    old_auth: str,
    new: dict[str, str] | None,
    user_agent: str | None,
) -> dict[str, Any] | None:
    """Move the subscription at `old_endpoint` to `new` ({endpoint, p256dh, auth}); None: removed."""
    if new is not None:
        origin = endpoint_origin(ctx.settings, new["endpoint"])
        check_keys(new["p256dh"], new["auth"])
    async with ctx.db.transaction() as conn:
        cur = await conn.execute(
            "SELECT id, user_id, auth FROM push_subscriptions WHERE endpoint = %s FOR UPDATE",
            (old_endpoint,),
        )
        old = await cur.fetchone()
        if old is None or not hmac.compare_digest(_normal(old["auth"]), _normal(old_auth)):
            raise _unknown()
        if new is None:
            await conn.execute("DELETE FROM push_subscriptions WHERE id = %s", (old["id"],))
            return None
        # The page may have registered the new endpoint already (or another user on this browser):
        # one row per endpoint, and it is the old one's.
        await conn.execute(
            "DELETE FROM push_subscriptions WHERE endpoint = %s AND id <> %s", (new["endpoint"], old["id"])
        )
        cur = await conn.execute(
            REPLACE,
            {
                "id": old["id"],
                "endpoint": new["endpoint"],
                "origin": origin,
                "p256dh": _normal(new["p256dh"]),
                "auth": _normal(new["auth"]),
                "user_agent": user_agent,
            },
        )
        row = await cur.fetchone()
        assert row is not None
    return subscription_out(row)
