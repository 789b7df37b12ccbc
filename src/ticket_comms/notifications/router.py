"""`POST /events`, the caller's notification preferences and in-app notifications."""

from __future__ import annotations

from fastapi import APIRouter, Query

from ticket_comms.auth.deps import AdminOrService, User
from ticket_comms.deps import Ctx, json
from ticket_comms.notifications import events, inbox, preferences
from ticket_comms.notifications.schemas import (
    EventAccepted,
    MarkNotificationsRead,
    NotificationPage,
    NotificationsRead,
    Preferences,
    PreferencesOut,
    RaiseEvent,
)

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.post("/events", status_code=202, response_model=EventAccepted)
async def raise_event(ctx: Ctx, caller: AdminOrService, body: RaiseEvent):
    """Raise an event (admins and services). Recipients default to the ticket's participants other than
    the actor. A repeated `idempotencyKey` answers the first response again (header
    `Idempotent-Replayed: true`) and sends nothing. `data` missing what the template needs is a 422."""
    result = await events.submit_event(ctx, caller, body)
    duplicate = result.pop("duplicate", False)
    response = json(result, 202)
    if duplicate:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@router.get("/me/notification-preferences", response_model=PreferencesOut)
async def get_preferences(ctx: Ctx, user: User):
    return json(await preferences.get_preferences(ctx, user))


@router.put("/me/notification-preferences", response_model=PreferencesOut)
async def put_preferences(ctx: Ctx, user: User, body: Preferences):
    """Fields left out keep their value. `emailEvents` lists the event types to email; unknown ones are a 422."""
    return json(await preferences.put_preferences(ctx, user, body))


@router.get("/me/notifications", response_model=NotificationPage)
async def list_notifications(
    ctx: Ctx,
    user: User,
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = Query(None, max_length=500),
    unread: bool = Query(False),
):
    return json(await inbox.list_notifications(ctx, user, limit=limit, cursor=cursor, unread_only=unread))


@router.post("/me/notifications/read", response_model=NotificationsRead)
async def mark_read(ctx: Ctx, user: User, body: MarkNotificationsRead | None = None):
    return json(await inbox.mark_notifications_read(ctx, user, body.ids if body else None))
