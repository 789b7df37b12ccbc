"""The caller's own profile (`GET /me`) and registering a user ahead of their first sign-in (`PUT /users/{id}`)."""

from __future__ import annotations

from fastapi import APIRouter, Path
from pydantic import Field

from ticket_comms.auth.deps import AdminOrService, User
from ticket_comms.deps import Ctx, json
from ticket_comms.wire import CamelModel

router = APIRouter(prefix="/api/v1", tags=["users"])


class RegisterUser(CamelModel):
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = Field(default=None, max_length=200)
    role: str | None = Field(default=None, pattern=r"^(admin|service|member)$")


@router.get("/me")
async def me(user: User):
    return json({"id": user.id, "email": user.email, "name": user.name, "role": user.role})


@router.put("/users/{user_id}")
async def register_user(
    ctx: Ctx, caller: AdminOrService, body: RegisterUser, user_id: str = Path(min_length=1, max_length=255)
):
    row = await ctx.users.register(user_id, body.email, body.name, body.role, by_service=caller.is_service)
    return json(row)
