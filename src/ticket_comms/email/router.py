"""Email endpoints: logs and stats, suppressions (admin); delivery reports and SES webhooks (service,
signed); one-click unsubscribe (signed link, no login)."""

from __future__ import annotations

import html
from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse

from ticket_comms.deps import Admin, AdminOrService, Ctx, json
from ticket_comms.email import logs, service, tracking
from ticket_comms.errors import AppError, TooLarge
from ticket_comms.notifications import service as notifications
from ticket_comms.notifications.catalogue import ALWAYS_EMAILED, EVENT_TYPES

router = APIRouter(prefix="/api/v1/email", tags=["email"])


class UnsupportedMediaType(AppError):
    """Send the report as `Content-Type: message/rfc822`."""

    status = 415
    code = "unsupported_media_type"


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


@router.get("/stats", response_model=logs.EmailStats)
async def stats(
    ctx: Ctx,
    _: Admin,
    start: datetime | None = Query(None, alias="from"),
    end: datetime | None = Query(None, alias="to"),
    daily: bool = Query(False, description="add a per-day (UTC) series"),
):
    return json(await logs.stats(ctx, start=start, end=end, daily=daily))


@router.get("/suppressions")
async def list_suppressions(
    ctx: Ctx,
    _: Admin,
    limit: int = Query(100, ge=1, le=500),
    cursor: str | None = Query(None, max_length=320),
):
    return json(await service.list_suppressions(ctx, limit=limit, cursor=cursor))


@router.delete("/suppressions/{email}", status_code=204)
async def delete_suppression(ctx: Ctx, _: Admin, email: str):
    await service.delete_suppression(ctx, email[:320])
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


@router.post("/inbound")
async def inbound(ctx: Ctx, _: AdminOrService, request: Request):
    """Mail for the service as raw RFC 5322 bytes (an MTA pipes the bounce address here)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "message/rfc822":
        raise UnsupportedMediaType()
    raw = await _body(request, tracking.MAX_INBOUND_BYTES)
    return json(await tracking.process_inbound(ctx, raw))


@router.post("/webhooks/ses")
async def ses_webhook(ctx: Ctx, request: Request):
    """Amazon SES events through SNS. No token: the SNS signature is the authentication."""
    return json(await tracking.process_ses(ctx, await _body(request, 256 * 1024)))


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>{title}</title>
<style>
body {{ margin: 0; background: #eef1f5; font-family: -apple-system, BlinkMacSystemFont, 'Segoe UI', Roboto,
  Helvetica, Arial, sans-serif; color: #27303f; }}
main {{ max-width: 480px; margin: 12vh auto; background: #fdfdfe; border: 1px solid #dde3ea; border-radius: 12px;
  padding: 32px; }}
h1 {{ font-size: 22px; margin: 0 0 12px; color: #18202e; }}
p {{ line-height: 1.5; }}
button {{ background: #3b63d6; color: #fff; border: 0; border-radius: 8px; padding: 12px 22px; font-size: 16px;
  cursor: pointer; }}
a {{ color: #3b63d6; }}
</style></head><body><main>{body}</main></body></html>"""

UNSUBSCRIBE_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        PAGE.format(title=html.escape(title), body=body),
        status_code=status,
        headers={
            "Content-Security-Policy": UNSUBSCRIBE_CSP,
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        },
    )


def _describe(event_type: str) -> str:
    words = "".join(f" {c.lower()}" if c.isupper() else c for c in event_type).strip()
    return words.replace("o t p", "OTP")


@router.get("/unsubscribe", response_class=HTMLResponse)
async def unsubscribe_page(ctx: Ctx, token: str = Query("", max_length=2000)):
    """A confirmation page with a button: opening the link (or a mail scanner fetching it) changes nothing."""
    try:
        _, event_type = service.read_unsubscribe_token(ctx.settings, token)
    except AppError:
        return _page(
            "Link not valid",
            "<h1>This link is not valid</h1><p>It may have been cut short or changed. "
            "You can still change which emails you get in your notification preferences.</p>",
            400,
        )
    what = html.escape(_describe(event_type))
    prefs = html.escape(service.preferences_url(ctx.settings))
    body = (
        f"<h1>Unsubscribe from {what} emails?</h1>"
        f"<p>You will stop getting an email when this happens. Other emails are not affected.</p>"
        f'<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        f'<button type="submit">Unsubscribe</button></form>'
        f'<p>Or choose exactly what you get in your <a href="{prefs}">notification preferences</a>.</p>'
    )
    return _page("Unsubscribe", body)


@router.post("/unsubscribe")
async def unsubscribe(ctx: Ctx, token: str = Query("", max_length=2000)):
    """RFC 8058 one-click: the mail client POSTs `List-Unsubscribe=One-Click` here; that is the consent."""
    user_id, event_type = service.read_unsubscribe_token(ctx.settings, token)
    if event_type not in EVENT_TYPES:
        raise service.BadRequest("This unsubscribe link is not valid.", code="invalid_unsubscribe_token")
    if event_type not in ALWAYS_EMAILED:
        await notifications.unsubscribe(ctx, user_id, event_type)
    what = html.escape(_describe(event_type))
    prefs = html.escape(service.preferences_url(ctx.settings))
    return _page(
        "Unsubscribed",
        f"<h1>You are unsubscribed</h1><p>You will no longer get {what} emails.</p>"
        f'<p>Changed your mind? Turn them back on in your <a href="{prefs}">notification preferences</a>.</p>',
    )
