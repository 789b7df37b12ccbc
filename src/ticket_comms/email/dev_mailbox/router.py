"""The dev mailbox's pages and JSON (`/dev/mailbox`, `/dev/mailbox.json`), for this machine and admins only.

Emails are untrusted HTML: the HTML view is a separate URL served with `Content-Security-Policy:
sandbox` (no scripts, unique origin) and shown in an `<iframe sandbox>`. The pages' HTML is in pages/.
"""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from ticket_comms.context import AppContext
from ticket_comms.deps import json as json_response
from ticket_comms.email.dev_mailbox.sink import DevMailbox
from ticket_comms.email.dev_mailbox.store import MAX_MESSAGES, Summary, parse
from ticket_comms.errors import AppError, NotFound

MAX_RAW_SHOWN = 300_000

# The caught email's HTML may do anything an email can: no scripts, no forms, no same-origin access,
# and it may only load images, styles and fonts (as a mail client would).
EMAIL_HTML_CSP = (
    "sandbox; default-src 'none'; img-src data: http: https:; style-src 'unsafe-inline' http: https:; "
    "font-src data: http: https:; frame-ancestors 'self'"
)
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; img-src 'self' data:; form-action 'self'"


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _mailbox(request: Request) -> DevMailbox:
    ctx: AppContext = request.app.state.ctx
    mailbox = getattr(ctx, "dev_mailbox", None)
    hidden = NotFound("The dev mailbox runs only when SMTP_URL is unset, for this machine or admins.")
    if mailbox is None:
        raise hidden
    if _is_loopback(request.client.host if request.client else None):
        return mailbox
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            claims = await ctx.verifier.authenticate(token.strip())
        except AppError:
            raise hidden from None
        if claims.role == "admin":
            return mailbox
    raise hidden


Mailbox = Annotated[DevMailbox, Depends(_mailbox)]

router = APIRouter(prefix="/dev/mailbox", tags=["dev mailbox"], include_in_schema=False)

PAGES = jinja2.Environment(
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "pages"),
)


def _page(name: str, mailbox: DevMailbox, **values: Any) -> HTMLResponse:
    body = PAGES.get_template(f"{name}.html").render(
        smtp_url=mailbox.url, cap=mailbox.store.max_messages, **values
    )
    return HTMLResponse(
        body,
        headers={
            "Content-Security-Policy": PAGE_CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


async def _load(mailbox: DevMailbox, message_id: str) -> tuple[Summary, bytes]:
    found = await asyncio.to_thread(mailbox.store.raw, message_id)
    if found is None:
        raise NotFound("No such message in the dev mailbox.")
    return found


@router.get("")
async def list_page(mailbox: Mailbox) -> HTMLResponse:
    items = await asyncio.to_thread(mailbox.store.list)
    return _page("list", mailbox, items=items)


@router.post("/clear")
async def clear_from_page(request: Request, mailbox: Mailbox) -> RedirectResponse:
    _same_origin(request)
    await asyncio.to_thread(mailbox.store.clear)
    return RedirectResponse("/dev/mailbox", status_code=303)


@router.delete("", status_code=204)
async def clear(request: Request, mailbox: Mailbox) -> Response:
    _same_origin(request)
    await asyncio.to_thread(mailbox.store.clear)
    return Response(status_code=204)


def _same_origin(request: Request) -> None:
    """A page on another site must not empty the mailbox through the developer's browser."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and origin.split("://", 1)[-1] != request.headers.get("host"):
        raise NotFound("No such page.")
    if origin == "null":
        raise NotFound("No such page.")


# Registered before `/{message_id}` so `/{id}.json` is not taken for an id.
@router.get("/{message_id}.json")
async def message_json(mailbox: Mailbox, message_id: str) -> Response:
    summary, raw = await _load(mailbox, message_id)
    parsed = await asyncio.to_thread(parse, raw)
    return json_response({**summary.to_json(), **parsed, "raw": raw.decode("utf-8", errors="replace")})


@router.get("/{message_id}/html")
async def message_html(mailbox: Mailbox, message_id: str) -> Response:
    _, raw = await _load(mailbox, message_id)
    parsed = await asyncio.to_thread(parse, raw)
    if parsed["html"] is None:
        raise NotFound("This email has no HTML part.")
    return HTMLResponse(
        parsed["html"],
        headers={
            "Content-Security-Policy": EMAIL_HTML_CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


@router.get("/{message_id}/raw")
async def message_raw(mailbox: Mailbox, message_id: str) -> Response:
    summary, raw = await _load(mailbox, message_id)
    return Response(
        raw,
        media_type="text/plain; charset=utf-8",
        headers={
            "Content-Disposition": f'inline; filename="{summary.id}.eml"',
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "no-store",
        },
    )


@router.get("/{message_id}")
async def message_page(
    mailbox: Mailbox, message_id: str, view: str | None = Query(None, pattern="^(html|text|headers|raw)$")
) -> HTMLResponse:
    summary, raw = await _load(mailbox, message_id)
    parsed = await asyncio.to_thread(parse, raw)
    chosen = view or ("html" if parsed["html"] is not None else "text")
    shown = raw[:MAX_RAW_SHOWN].decode("utf-8", errors="replace")
    return _page(
        "message",
        mailbox,
        summary=summary,
        parsed=parsed,
        view=chosen,
        raw=shown,
        truncated=len(raw) > MAX_RAW_SHOWN,
    )


# `/dev/mailbox.json` sits beside the prefix, not under it.
json_router = APIRouter(tags=["dev mailbox"], include_in_schema=False)


@json_router.get("/dev/mailbox.json")
async def list_json(mailbox: Mailbox, limit: int = Query(MAX_MESSAGES, ge=1, le=MAX_MESSAGES)) -> Response:
    items = await asyncio.to_thread(mailbox.store.list, limit)
    return json_response(
        {
            "items": [s.to_json() for s in items],
            "smtp": {"host": mailbox.host, "port": mailbox.port, "url": mailbox.url},
        }
    )
