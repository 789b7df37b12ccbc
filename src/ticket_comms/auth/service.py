"""Users: created or refreshed from token claims, or registered ahead of login by admins/services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache

from ticket_comms.auth.tokens import Claims
from ticket_comms.database import Database
from ticket_comms.errors import NotFound


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
UPSERT_FROM_CLAIMS = """
INSERT INTO users (id, email, name, role)
SELECT %(id)s, %(email)s, %(name)s, %(role)s
WHERE NOT EXISTS (
    SELECT 1 FROM users u WHERE u.id = %(id)s
      AND (u.email, u.name, u.role) IS NOT DISTINCT FROM
          (coalesce(%(email)s, u.email), coalesce(%(name)s, u.name), %(role)s))
ON CONFLICT (id) DO UPDATE SET
    email = coalesce(EXCLUDED.email, users.email),
    name = coalesce(EXCLUDED.name, users.name),
    role = EXCLUDED.role,
    updated_at = now()
WHERE (users.email, users.name, users.role)
    IS DISTINCT FROM (coalesce(EXCLUDED.email, users.email), coalesce(EXCLUDED.name, users.name), EXCLUDED.role)
"""


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
        self, user_id: str, email: str | None, name: str | None, role: str | None
    ) -> dict[str, Any]:
        row = await self.db.fetch_one(
            """
            INSERT INTO users (id, email, name, role) VALUES (%(id)s, %(email)s, %(name)s, coalesce(%(role)s, 'member'))
            ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, name = EXCLUDED.name,
                role = coalesce(%(role)s, users.role), updated_at = now()
            RETURNING id, email, name, role
            """,
            {"id": user_id, "email": email, "name": name, "role": role},
        )
        self.forget(user_id)
        assert row is not None
        return row

    async def get(self, user_id: str) -> dict[str, Any]:
        row = await self.db.fetch_one("SELECT id, email, name, role FROM users WHERE id = %s", (user_id,))
        if row is None:
            raise NotFound("User not found.")
        return row
