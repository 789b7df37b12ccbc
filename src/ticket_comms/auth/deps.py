"""FastAPI dependencies for who is asking: the authenticated caller, and the admin/service-only variants."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ticket_comms.auth.service import CurrentUser
from ticket_comms.context import AppContext
from ticket_comms.errors import Forbidden, Unauthenticated


async def current_user(request: Request) -> CurrentUser:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated()
    ctx: AppContext = request.app.state.ctx
    user = await ctx.users.sign_in(await ctx.verifier.authenticate(token.strip()))
    request.state.user_id = user.id
    return user


async def admin_user(user: Annotated[CurrentUser, Depends(current_user)]) -> CurrentUser:
    if not user.is_admin:
        raise Forbidden("Admins only.")
    return user


async def admin_or_service(user: Annotated[CurrentUser, Depends(current_user)]) -> CurrentUser:
    if not (user.is_admin or user.is_service):
        raise Forbidden("Admins and services only.")
    return user


User = Annotated[CurrentUser, Depends(current_user)]
Admin = Annotated[CurrentUser, Depends(admin_user)]
AdminOrService = Annotated[CurrentUser, Depends(admin_or_service)]
