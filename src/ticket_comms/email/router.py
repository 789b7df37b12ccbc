"""Email endpoints: logs and stats, suppressions (admin); SES webhooks (signed). Inbound mail (delivery
reports and replies, POST /email/inbound) is replies/router.py; one-click unsubscribe is
notifications/unsubscribe.py (it changes a preference)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from ticket_comms.auth.deps import Admin
from ticket_comms.deps import Ctx, json
from ticket_comms.email import (
    admin_sends,
    delivery_stats,
    logs,
    sent_content,
    ses_webhook,
    suppressions,
    tracking,
)
from ticket_comms.errors import NotFound, TooLarge

router = APIRouter(prefix="/api/v1/email", tags=["email"])


@router.get("/logs", response_model=logs.EmailLogPage)
async def list_logs(
    ctx: Ctx,
    _: Admin,
    status: str | None = Query(None, max_length=20),
    recipient: str | None = Query(None, max_length=320),
    template_name: str | None = Query(None, alias="templateName", max_length=100),
    start: datetime | None = Query(None, alias="from"),
    end: datetime | None = Query(None, alias="to"),
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=500),
):
    return json(
        await logs.list_logs(
            ctx,
            status=status,
            recipient=recipient,
            template_name=template_name,
            start=start,
            end=end,
            limit=limit,
            cursor=cursor,
        )
    )


@router.get("/logs/{log_id}", response_model=logs.EmailLogOut)
async def get_log(ctx: Ctx, _: Admin, log_id: UUID):
    return json(await logs.get_log(ctx, log_id))


@router.post("/logs/{log_id}/resend", status_code=201, response_model=admin_sends.QueuedOut)
async def resend_log(ctx: Ctx, admin: Admin, log_id: UUID):
    """Queue a `Failed` or `Bounced` email again: a new log row (`resentFrom` names the first, whose
    timeline gets a `resent` entry). 409 `not_resendable` for other statuses, `recipient_suppressed` for
    a suppressed address, `secret_not_resendable` for one-time-code emails."""
    return json((await admin_sends.resend(ctx, admin, log_id)).model_dump(), 201)


@router.get("/logs/{log_id}/content", response_model=sent_content.SentContentOut)
async def log_content(ctx: Ctx, _: Admin, log_id: UUID):
    """The email as the recipient got it, rendered again from the stored event with the template
    versions in effect when it was sent (bodies are not stored). One-time codes show redacted."""
    return json((await sent_content.sent_content(ctx, log_id)).model_dump())


@router.get("/stats", response_model=logs.EmailStats)
async def stats(
    ctx: Ctx,
    _: Admin,
    start: datetime | None = Query(None, alias="from"),
    end: datetime | None = Query(None, alias="to"),
    daily: bool = Query(False, description="add a per-day (UTC) series"),
):
    return json(await logs.stats(ctx, start=start, end=end, daily=daily))


@router.get("/stats/insights", response_model=delivery_stats.DeliveryInsights)
async def stats_insights(
    ctx: Ctx,
    _: Admin,
    start: datetime | None = Query(None, alias="from"),
    end: datetime | None = Query(None, alias="to"),
):
    """For the emails created in [from, to): delivery, bounce, complaint and failure rates, the most
    common failure reasons (addresses taken out), how long sent emails waited (a histogram with p50 and
    p95 bounds) and the slowest ones from queued to sent."""
    logs.check_range(start, end)
    return json(await delivery_stats.insights(ctx, start=start, end=end))


@router.get("/suppressions", response_model=suppressions.SuppressionPage)
async def list_suppressions(
    ctx: Ctx,
    _: Admin,
    limit: int = Query(100, ge=1, le=500),
    cursor: str | None = Query(None, max_length=320),
    q: str | None = Query(None, max_length=320, description="only addresses containing this text (any case)"),
):
    return json(await suppressions.list_suppressions(ctx, limit=limit, cursor=cursor, q=q))


@router.delete("/suppressions/{email}", status_code=204)
async def delete_suppression(ctx: Ctx, _: Admin, email: str):
    await suppressions.delete_suppression(ctx, email[:320])
    return Response(status_code=204)


async def _body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise TooLarge(f"At most {limit} bytes.")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"At most {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("/webhooks/ses")
async def ses_events(ctx: Ctx, request: Request):
    """Amazon SES events through SNS. No token: the SNS signature is the authentication."""
    return json(await ses_webhook.process_ses(ctx, await _body(request, 256 * 1024)))


@router.get("/t/o/{log_hex}/{signature}.gif", include_in_schema=False)
async def tracking_pixel(ctx: Ctx, log_hex: str, signature: str):
    """The open-tracking pixel. Always the image (a bad signature records nothing): a mail client shows no
    broken image and a prober learns nothing."""
    log_id = tracking.verify(ctx.settings, log_hex[:32], signature[:40], "open")
    if log_id is not None:
        async with ctx.db.connection() as conn:
            await tracking.record(conn, log_id, "opened", {})
    return Response(tracking.PIXEL, media_type="image/gif", headers={"Cache-Control": "no-store, private"})


@router.get("/t/c/{log_hex}/{signature}", include_in_schema=False)
async def tracking_click(
    ctx: Ctx, log_hex: str, signature: str, u: str = Query(..., max_length=tracking.MAX_URL)
):
    """A tracked link: to `u` only when the signature says that URL was in that email (no open redirect)."""
    log_id = tracking.verify(ctx.settings, log_hex[:32], signature[:40], u)
    if log_id is None or not u.startswith(("https://", "http://")):
        raise NotFound("This link is not valid.", code="link_not_found")
    async with ctx.db.connection() as conn:
        await tracking.record(conn, log_id, "clicked", {"url": u})
    return Response(status_code=302, headers={"Location": u, "Cache-Control": "no-store, private"})
