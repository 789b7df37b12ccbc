"""Request bodies of the notification endpoints."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from ticket_comms.wire import CamelModel

# Event data is rendered into templates and stored as JSONB: deep enough for any real payload, and
# bounded so a hostile one is a 422 rather than a failure to encode it (orjson stops at 254 levels).
MAX_DATA_DEPTH = 32
MAX_DATA_ITEMS = 10_000


def _check_data(value: Any) -> None:
    """Refuse data nested deeper than MAX_DATA_DEPTH or holding more than MAX_DATA_ITEMS values."""
    items = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        items += 1
        if depth > MAX_DATA_DEPTH:
            raise ValueError(f"data is nested deeper than {MAX_DATA_DEPTH} levels")
        if items > MAX_DATA_ITEMS:
            raise ValueError(f"data holds more than {MAX_DATA_ITEMS} values")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


class RaiseEvent(CamelModel):
    type: str = Field(min_length=1, max_length=100)
    ticket_id: UUID | None = Field(default=None, alias="ticketId")
    actor_id: str | None = Field(default=None, alias="actorId", min_length=1, max_length=200)
    recipient_ids: list[str] | None = Field(default=None, alias="recipientIds", max_length=1000)
    data: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, alias="idempotencyKey", min_length=1, max_length=200)

    @field_validator("data")
    @classmethod
    def _bounded(cls, v: dict[str, Any]) -> dict[str, Any]:
        _check_data(v)
        return v


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
