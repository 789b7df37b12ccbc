"""Push endpoints: the VAPID public key, the caller's push subscriptions, and (admins) the push deliveries."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from ticket_comms import ratelimits
from ticket_comms.auth.deps import Admin, User
from ticket_comms.deps import Ctx, json
from ticket_comms.push import deliveries, resubscribe, subscriptions
from ticket_comms.push.schemas import (
    PublicKey,
    PushDeliveryPage,
    Subscribe,
    SubscriptionChange,
    SubscriptionOut,
)
from ticket_comms.push.vapid import load_signer

router = APIRouter(prefix="/api/v1", tags=["push"])


@router.get("/push/public-key", response_model=PublicKey)
async def public_key(ctx: Ctx, _: User):
    """The key browsers need to subscribe (`applicationServerKey`)."""
    return json({"publicKey": load_signer(ctx.settings).public_key})


@router.get("/me/push-subscriptions", response_model=list[SubscriptionOut])
async def list_subscriptions(ctx: Ctx, user: User):
    """The caller's devices that receive pushes, newest first."""
    return json(await subscriptions.list_for(ctx, user))


@router.post(
    "/me/push-subscriptions",
    status_code=201,
    response_model=SubscriptionOut,
    responses={
        200: {"model": SubscriptionOut, "description": "The endpoint was already registered: updated"}
    },
)
async def subscribe(ctx: Ctx, user: User, body: Subscribe, request: Request):
    """Register this device (the browser's `PushSubscription`). The endpoint must be https:// (in
    development also http://127.0.0.1). Registering the same endpoint again updates it (200)."""
    row, created = await subscriptions.register(
        ctx,
        user,
        endpoint=body.endpoint.strip(),
        p256dh=body.keys.p256dh,
        auth=body.keys.auth,
        user_agent=body.user_agent or (request.headers.get("user-agent") or "")[:500] or None,
    )
    return json(row, 201 if created else 200)


@router.delete("/me/push-subscriptions/{subscription_id}", status_code=204)
async def unsubscribe(ctx: Ctx, user: User, subscription_id: UUID):
    """Stop pushing to a device. Another user's subscription is a 404."""
    await subscriptions.remove(ctx, user, subscription_id)
    return Response(status_code=204)


@router.post(
    "/push/subscription-change",
    response_model=SubscriptionOut,
    responses={204: {"description": "No new subscription was given: the old one was removed"}},
)
async def subscription_change(ctx: Ctx, body: SubscriptionChange, request: Request):
    """The service worker's `pushsubscriptionchange`: the browser replaced this device's subscription.
    No JWT (a service worker may run with no page open): the caller proves it held the old
    subscription with its auth secret (`keys.auth`). The old subscription keeps its id and user and
    takes the new endpoint and keys (200); without `newSubscription` it is removed (204). An unknown
    endpoint or a wrong secret is a 404. Rate-limited per client address."""
    await ratelimits.hit(ctx, "push_subscription_change", request.client.host if request.client else "-")
    new = body.new_subscription
    row = await resubscribe.change(
        ctx,
        old_endpoint=body.old_endpoint.strip(),
        old_auth=body.old_auth,
        new=None
        if new is None
        else {"endpoint": new.endpoint.strip(), "p256dh": new.keys.p256dh, "auth": new.keys.auth},
        user_agent=(new.user_agent if new else None)
        or (request.headers.get("user-agent") or "")[:500]
        or None,
    )
    return Response(status_code=204) if row is None else json(row)


@router.get("/push/deliveries", response_model=PushDeliveryPage)
async def list_deliveries(
    ctx: Ctx,
    _: Admin,
    user_id: str | None = Query(None, alias="userId", max_length=255),
    event_id: UUID | None = Query(None, alias="eventId"),
    status: str | None = Query(None, max_length=20),
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=500),
):
    """Admins: every push with its attempts (`events`), newest first; filter by user, event or status."""
    return json(
        await deliveries.list_deliveries(
            ctx, user_id=user_id, event_id=event_id, status=status, limit=limit, cursor=cursor
        )
    )
