"""Dev sign-in: list the demo cast and hand out a token for one of them (`/dev/login` uses it).

Only while the built-in development JWT secret is in use: anyone can mint such tokens anyway, so
this adds no power; with a real secret (or a JWKS) these routes answer 404 like any unknown path.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ticket_comms.auth.tokens import mint
from ticket_comms.config import Settings
from ticket_comms.demo.cast import BY_ID, CAST
from ticket_comms.deps import Ctx, json
from ticket_comms.errors import NotFound
from ticket_comms.wire import CamelModel

router = APIRouter(prefix="/api/v1/dev", tags=["development"])

# A working day: long enough not to interrupt a demo, short enough that a leaked dev token dies soon.
DEV_TOKEN_TTL_SECONDS = 12 * 3600


class DevUser(BaseModel):
    id: str
    name: str
    email: str
    role: str = Field(description="`admin` or `member`")
    title: str = Field(description='What the person is in the product: "Customer", "Technician", "Admin"')


class DevSignIn(CamelModel):
    user_id: str = Field(alias="userId", min_length=1, max_length=255)


class DevToken(BaseModel):
    token: str
    expiresAt: datetime


class DemoUserNotFound(NotFound):
    """There is no demo user with that id."""

    code = "demo_user_not_found"


def _require_development(settings: Settings) -> None:
    if not settings.using_dev_secret:
        raise NotFound("Not Found")


@router.get("/users", response_model=list[DevUser], summary="The demo users (development only)")
async def dev_users(ctx: Ctx):
    _require_development(ctx.settings)
    return json([user.out() for user in CAST])


@router.post("/sign-in", response_model=DevToken, summary="A token for a demo user (development only)")
async def dev_sign_in(ctx: Ctx, body: DevSignIn):
    _require_development(ctx.settings)
    user = BY_ID.get(body.user_id)
    if user is None:
        raise DemoUserNotFound(details={"userId": body.user_id})
    now = int(time.time())
    token = mint(
        ctx.settings,
        user.id,
        role=user.role if user.role == "admin" else None,
        email=user.email,
        name=user.name,
        ttl_seconds=DEV_TOKEN_TTL_SECONDS,
        now=now,
    )
    expires_at = datetime.fromtimestamp(now + DEV_TOKEN_TTL_SECONDS, UTC)
    return json({"token": token, "expiresAt": expires_at.isoformat()})
