"""Request bodies of the notification endpoints."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from ticket_comms.wire import CamelModel


class RaiseEvent(CamelModel):
    type: str = Field(min_length=1, max_length=100)
    ticket_id: UUID | None = Field(default=None, alias="ticketId")
    actor_id: str | None = Field(default=None, alias="actorId", min_length=1, max_length=200)
    recipient_ids: list[str] | None = Field(default=None, alias="recipientIds", max_length=1000)
    data: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, alias="idempotencyKey", min_length=1, max_length=200)


class Preferences(CamelModel):
    email_enabled: bool | None = Field(default=None, alias="emailEnabled", strict=True)
    push_enabled: bool | None = Field(default=None, alias="pushEnabled", strict=True)
    chat_enabled: bool | None = Field(default=None, alias="chatEnabled", strict=True)
    email_events: list[str] | None = Field(default=None, alias="emailEvents", max_length=100)


class MarkNotificationsRead(CamelModel):
    ids: list[UUID] | None = Field(default=None, max_length=1000)


# Response shapes (for the OpenAPI document; the services build the JSON).


class Delivery(BaseModel):
    recipientId: str
    channel: str = Field(description="email, inApp or push")
    status: str = Field(
        description="email: Pending, Disabled, Muted, Suppressed, NoAddress, TemplateInactive; "
        "inApp: Created, Disabled, Muted; push: Pending (queued for each of the recipient's devices; "
        "GET /api/v1/push/deliveries?eventId= lists them), Disabled, Muted, NoDevice"
    )
    emailLogId: str | None = None
    notificationId: str | None = None


class EventAccepted(BaseModel):
    eventId: str
    deliveries: list[Delivery]


class PreferencesOut(BaseModel):
    emailEnabled: bool
    pushEnabled: bool
    chatEnabled: bool
    emailEvents: list[str]


class NotificationOut(BaseModel):
    id: str
    type: str
    title: str
    body: str
    ticketId: str | None
    data: dict[str, Any]
    createdAt: str
    readAt: str | None


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    nextCursor: str | None
    unread: int


class NotificationsRead(BaseModel):
    updated: int
    unread: int
