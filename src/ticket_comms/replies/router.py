"""Inbound mail: `POST /api/v1/email/inbound` (an MTA pipes mail for the bounce address and the reply
addresses here) and the admin list of what became of each (`GET /api/v1/email/inbound`)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Query, Request

from ticket_comms.auth.deps import Admin, AdminOrService
from ticket_comms.deps import Ctx, json
from ticket_comms.errors import AppError, TooLarge
from ticket_comms.replies import inbound as inbound_mail
from ticket_comms.replies import records

router = APIRouter(prefix="/api/v1/email", tags=["email"])

HEAD_BYTES = 256 * 1024


class UnsupportedMediaType(AppError):
    """Send the report as `Content-Type: message/rfc822`."""

    status = 415
    code = "unsupported_media_type"


@router.post("/inbound")
async def receive(ctx: Ctx, _: AdminOrService, request: Request):
    """Mail for the service as raw RFC 5322 bytes: delivery reports and replies to ticket emails. A mail
    over REPLY_MAX_BYTES is recorded as refused and answered 413 (the MTA then bounces it to its sender)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "message/rfc822":
        raise UnsupportedMediaType()
    limit = ctx.settings.reply_max_bytes
    declared = request.headers.get("content-length", "")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        if size <= limit:
            chunks.append(chunk)
        size += len(chunk)  # past the limit: counted for the record, not kept
        if size > limit and (declared.isdigit() or size > limit * 4):
            # Enough is known (the declared size, or that it is far too large): stop reading.
            size = max(size, int(declared)) if declared.isdigit() else size
            break
    raw = b"".join(chunks)
    if size > limit:
        await inbound_mail.refuse_too_large(ctx, raw[:HEAD_BYTES], size, channel="http")
        raise TooLarge(f"At most {limit} bytes.", details={"maxBytes": limit})
    return json(await inbound_mail.receive(ctx, raw, channel="http"))


@router.get("/inbound", response_model=records.InboundEmailPage)
async def list_inbound(
    ctx: Ctx,
    _: Admin,
    outcome: str | None = Query(None, pattern="^(Accepted|Refused|Duplicate|DeliveryReport|Ignored)$"),
    ticket_id: UUID | None = Query(None, alias="ticketId"),
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=500),
):
    return json(
        await records.list_inbound(ctx, outcome=outcome, ticket_id=ticket_id, limit=limit, cursor=cursor)
    )
