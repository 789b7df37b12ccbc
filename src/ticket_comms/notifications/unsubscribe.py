"""One-click unsubscribe (a signed link in each email, no login): the confirmation page and the RFC 8058
POST that switches one event type's emails off for the link's user."""

from __future__ import annotations

import html

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from ticket_comms.catalogue import ALWAYS_EMAILED, EVENT_TYPES
from ticket_comms.deps import Ctx
from ticket_comms.email.links import preferences_url, read_unsubscribe_token
from ticket_comms.errors import AppError, BadRequest
from ticket_comms.notifications import preferences

router = APIRouter(prefix="/api/v1/email", tags=["email"])


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
        _, event_type = read_unsubscribe_token(ctx.settings, token)
    except AppError:
        return _page(
            "Link not valid",
            "<h1>This link is not valid</h1><p>It may have been cut short or changed. "
            "You can still change which emails you get in your notification preferences.</p>",
            400,
        )
    what = html.escape(_describe(event_type))
    prefs = html.escape(preferences_url(ctx.settings))
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
    user_id, event_type = read_unsubscribe_token(ctx.settings, token)
    if event_type not in EVENT_TYPES:
        raise BadRequest("This unsubscribe link is not valid.", code="invalid_unsubscribe_token")
    if event_type not in ALWAYS_EMAILED:
        await preferences.unsubscribe(ctx, user_id, event_type)
    what = html.escape(_describe(event_type))
    prefs = html.escape(preferences_url(ctx.settings))
    return _page(
        "Unsubscribed",
        f"<h1>You are unsubscribed</h1><p>You will no longer get {what} emails.</p>"
        f'<p>Changed your mind? Turn them back on in your <a href="{prefs}">notification preferences</a>.</p>',
    )
