"""`POST /events`, the caller's notification preferences and in-app notifications."""

from __future__ import annotations

from fastapi import APIRouter, Query

from ticket_comms.deps import AdminOrService, Ctx, User, json
from ticket_comms.notifications import service as notifications
from ticket_comms.notifications.schemas import MarkNotificationsRead, Preferences, RaiseEvent

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.post("/events", status_code=202)
async def raise_event(ctx: Ctx, caller: AdminOrService, body: RaiseEvent):
    result = await notifications.submit_event(ctx, caller, body)
    duplicate = result.pop("duplicate", False)
    response = json(result, 202)
    if duplicate:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@router.get("/me/notification-preferences")
async def get_preferences(ctx: Ctx, user: User):
    return json(await notifications.get_preferences(ctx, user))


@router.put("/me/notification-preferences")
async def put_preferences(ctx: Ctx, user: User, body: Preferences):
    return json(await notifications.put_preferences(ctx, user, body))


@router.get("/me/notifications")
async def list_notifications(
    ctx: Ctx,
    user: User,
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = Query(None, max_length=500),
    unread: bool = Query(False),
):
    return json(
        await notifications.list_notifications(ctx, user, limit=limit, cursor=cursor, unread_only=unread)
    )


@router.post("/me/notifications/read")
async def mark_read(ctx: Ctx, user: User, body: MarkNotificationsRead | None = None):
    return json(await notifications.mark_notifications_read(ctx, user, body.ids if body else None))
