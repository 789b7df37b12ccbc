"""The caller's own profile (`GET /me`), finding people to add (`GET /users`) and registering a user ahead of their first sign-in (`PUT /users/{id}`)."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from ticket_comms import textcheck
from ticket_comms.auth.deps import AdminOrService, User
from ticket_comms.auth.people import find_people
from ticket_comms.deps import Ctx, json
from ticket_comms.errors import ValidationFailed
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


class PersonOut(BaseModel):
    id: str
    name: str
    role: str


class PeoplePage(BaseModel):
    items: list[PersonOut]
    nextCursor: str | None


@router.get("/users", response_model=PeoplePage)
async def find_users(
    ctx: Ctx,
    user: User,
    q: str = Query(
        "", max_length=100, description="Part of a name or id (admins: or email); empty lists all"
    ),
    limit: int = Query(10, ge=1, le=50),
    cursor: str | None = Query(None, max_length=500),
):
    """People the caller may add to a ticket, by name: for a member, those who share a ticket with them;
    for admins and services, everyone. Only `{id, name, role}`; the caller and services are left out."""
    if problem := textcheck.problem(q):
        raise ValidationFailed(f"q {problem}.", details=[{"loc": ["query", "q"], "msg": problem}])
    return json(await find_people(ctx.db, user, q.strip(), limit=limit, cursor=cursor))
