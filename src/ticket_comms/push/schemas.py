"""Request bodies and response shapes of the push endpoints (camelCase, as the contract defines them)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ticket_comms.wire import CamelModel


class PushKeys(CamelModel):
    p256dh: str = Field(min_length=1, max_length=200)
    auth: str = Field(min_length=1, max_length=100)


class Subscribe(CamelModel):
    """What `PushSubscription.toJSON()` gives in the browser (its `expirationTime` is ignored)."""

    endpoint: str = Field(min_length=1, max_length=4096)
    keys: PushKeys
    user_agent: str | None = Field(default=None, alias="userAgent", max_length=500)


class SubscriptionChange(CamelModel):
    """Sent by the service worker on `pushsubscriptionchange`: the old subscription, proven by its auth
    secret, and the browser's new one (absent when the browser gave none: the old one is removed)."""

    old_endpoint: str = Field(alias="oldEndpoint", min_length=1, max_length=4096)
    old_auth: str = Field(
        alias="oldAuth", min_length=1, max_length=100, description="The old subscription's keys.auth"
    )
    new_subscription: Subscribe | None = Field(default=None, alias="newSubscription")


class PublicKey(BaseModel):
    publicKey: str = Field(
        description="The VAPID application server key: base64url of the uncompressed P-256 point; "
        "pass it as `applicationServerKey` to `pushManager.subscribe`."
    )


class SubscriptionOut(BaseModel):
    id: str
    endpoint: str
    userAgent: str | None
    createdAt: str
    lastSuccessAt: str | None


class PushPayload(BaseModel):
    id: str
    type: str
    title: str
    body: str
    ticketId: str | None
    url: str


class PushAttempt(BaseModel):
    type: str = Field(description="queued, attempt, sent, deferred, failed, expired, cancelled, recovered")
    at: str
    detail: dict[str, Any]


class PushDeliveryOut(BaseModel):
    id: str
    userId: str
    subscriptionId: str | None
    eventId: str | None
    ticketId: str | None
    status: str = Field(description="Pending, Sent, Failed, Expired (subscription gone), Cancelled")
    attempts: int
    payload: PushPayload
    topic: str | None
    urgency: str
    ttl: int
    sentAt: str | None
    errorMessage: str | None
    nextAttemptAt: str | None
    createdAt: str
    updatedAt: str
    events: list[PushAttempt]


class PushDeliveryPage(BaseModel):
    items: list[PushDeliveryOut]
    nextCursor: str | None
