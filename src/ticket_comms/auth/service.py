"""Users: created or refreshed from token claims, or registered ahead of login by admins/services."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache

from ticket_comms.auth.tokens import Claims
from ticket_comms.database import Database
from ticket_comms.errors import Conflict, NotFound

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CurrentUser:
    id: str
    role: str
    email: str | None = None
    name: str | None = None
    expires_at: int = 0

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_service(self) -> bool:
        return self.role == "service"


# A user whose stored claims are already these inserts nothing: ON CONFLICT DO UPDATE would lock
# (and so write WAL for, and make the commit wait on a WAL flush for) the row even when its WHERE
# is false, and every Socket.IO connect and first request of a user runs this.
# An email claim marks the address as asserted by the identity provider (see register).
UPSERT_FROM_CLAIMS = """
INSERT INTO users (id, email, name, role, email_asserted)
SELECT %(id)s, %(email)s, %(name)s, %(role)s, %(email)s::text IS NOT NULL
WHERE NOT EXISTS (
    SELECT 1 FROM users u WHERE u.id = %(id)s
      AND (u.email, u.name, u.role, u.email_asserted) IS NOT DISTINCT FROM
          (coalesce(%(email)s, u.email), coalesce(%(name)s, u.name), %(role)s,
           u.email_asserted OR %(email)s::text IS NOT NULL))
ON CONFLICT (id) DO UPDATE SET
    email = coalesce(EXCLUDED.email, users.email),
    name = coalesce(EXCLUDED.name, users.name),
    role = EXCLUDED.role,
    email_asserted = users.email_asserted OR EXCLUDED.email_asserted,
    updated_at = now()
WHERE (users.email, users.name, users.role, users.email_asserted)
    IS DISTINCT FROM (coalesce(EXCLUDED.email, users.email), coalesce(EXCLUDED.name, users.name), EXCLUDED.role,
                      users.email_asserted OR EXCLUDED.email_asserted)
"""


class EmailAsserted(Conflict):
    """This user's email address comes from their identity provider; it changes when their sign-in token
    carries a new one, not through registration."""

    code = "email_asserted"


class Users:
    """Keeps the users table in step with the tokens people present.

    Every request carries claims; writing them on every request would put a write on the hot path,
    so a short-lived cache remembers which claim sets were already stored.
    """

    def __init__(self, db: Database):
        self.db = db
        self._seen: TTLCache[Claims, bool] = TTLCache(maxsize=100_000, ttl=300)

    async def sign_in(self, claims: Claims) -> CurrentUser:
        user = CurrentUser(claims.user_id, claims.role, claims.email, claims.name, claims.expires_at)
        key = Claims(claims.user_id, claims.role, claims.email, claims.name, 0)
        if key not in self._seen:
            async with self.db.connection() as conn:
                await conn.execute(
                    UPSERT_FROM_CLAIMS,
                    {"id": user.id, "email": user.email, "name": user.name, "role": user.role},
                )
            self._seen[key] = True
        return user

    def forget(self, user_id: str) -> None:
        for key in [k for k in self._seen if k.user_id == user_id]:
            self._seen.pop(key, None)

    async def register(
        self,
        user_id: str,
        email: str | None,
        name: str | None,
        role: str | None,
        *,
        by_service: bool = False,
    ) -> dict[str, Any]:
        """Create or replace a user ahead of login (PUT /users/{id}).

        A `service` caller may not replace an address the identity provider asserted (the user's own
        token carried it): a backend that could would silently redirect that user's email, OTP codes
        included. It gets 409 and nothing changes. An admin may (a person decided it; it is logged),
        and the address then counts as asserted again only when a token carries it.
        """
        async with self.db.transaction() as conn:
            cur = await conn.execute(
                "SELECT email, email_asserted FROM users WHERE id = %s FOR UPDATE", (user_id,)
            )
            existing = await cur.fetchone()
            changes_email = (
                existing is not None and (existing["email"] or "").lower() != (email or "").lower()
            )
            if changes_email and existing is not None and existing["email_asserted"]:
                if by_service:
                    raise EmailAsserted(details={"userId": user_id})
                log.warning(
                    "an admin replaced an email address asserted by the identity provider",
                    extra={"fields": {"userId": user_id}},
                )
            cur = await conn.execute(
                """
                INSERT INTO users (id, email, name, role)
                VALUES (%(id)s, %(email)s, %(name)s, coalesce(%(role)s, 'member'))
                ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name,
                    role = coalesce(%(role)s, users.role),
                    email_asserted = users.email_asserted AND NOT %(changes_email)s,
                    updated_at = now()
                RETURNING id, email, name, role
                """,
                {"id": user_id, "email": email, "name": name, "role": role, "changes_email": changes_email},
            )
            row = await cur.fetchone()
        self.forget(user_id)
        assert row is not None
        return row

    async def get(self, user_id: str) -> dict[str, Any]:
        row = await self.db.fetch_one("SELECT id, email, name, role FROM users WHERE id = %s", (user_id,))
        if row is None:
            raise NotFound("User not found.")
        return row
