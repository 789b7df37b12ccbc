"""Every inbound mail, by either path (POST /email/inbound, the inbound SMTP listener), goes here: mail to a
reply address is a reply (service.py); anything else is offered to the delivery reports. Each is recorded
with what became of it."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from ticket_comms.context import AppContext
from ticket_comms.email import delivery_reports
from ticket_comms.email.reply_addresses import is_reply_address
from ticket_comms.replies import records
from ticket_comms.replies.parse import ParsedMail, parse_mail, read_headers
from ticket_comms.replies.service import accept_reply, named_by


def _reply_address(ctx: AppContext, mail: ParsedMail, envelope: list[str]) -> str | None:
    for address in [*envelope, *mail.recipients]:
        if is_reply_address(ctx.settings, address):
            return address.strip().strip("<>").lower()
    return None


async def receive(
    ctx: AppContext, raw: bytes, *, channel: str, envelope_to: list[str] | None = None
) -> dict[str, Any]:
    """Handle one inbound mail; the answer says what became of it."""
    envelope = [a.lower() for a in envelope_to or []]
    if ctx.settings.reply_domain:
        mail = await asyncio.to_thread(parse_mail, raw)
        address = _reply_address(ctx, mail, envelope)
        if address is not None:
            reply = await accept_reply(ctx, mail, address=address, channel=channel)
            return {"isReport": False, "matched": [], "reply": reply}
    else:
        mail = await asyncio.to_thread(read_headers, raw, len(raw))
    result = await delivery_reports.process_inbound(ctx, raw, delivered_to=envelope or None)
    matched = result.get("matched") or []
    async with ctx.db.connection() as conn:
        await records.record(
            conn,
            mail,
            channel=channel,
            to_address=next(iter(envelope or mail.recipients), None),
            outcome="DeliveryReport" if result.get("isReport") else "Ignored",
            reason=None if result.get("isReport") else "not_a_reply",
            detail=", ".join(f"{m['emailLogId']}: {m['action']}" for m in matched) or None,
            email_log_id=UUID(matched[0]["emailLogId"]) if matched else None,
        )
    return result


async def refuse_too_large(
    ctx: AppContext, head: bytes, size: int, *, channel: str, envelope_to: list[str] | None = None
) -> dict[str, Any]:
    """Record a mail refused for its size, from its headers (`head`: the first bytes of it)."""
    mail = await asyncio.to_thread(read_headers, head, size)
    envelope = [a.lower() for a in envelope_to or []]
    reply = _reply_address(ctx, mail, envelope)
    found = await named_by(ctx, reply) if reply else {}
    address = reply or next(iter(envelope or mail.recipients), None)
    async with ctx.db.connection() as conn:
        saved = await records.record(
            conn,
            mail,
            channel=channel,
            to_address=address,
            outcome="Refused",
            reason="too_large",
            detail=f"{size} bytes; the limit is {ctx.settings.reply_max_bytes}",
            **found,
        )
    return records.InboundEmailOut.of(saved).model_dump()


def smtp_handlers(ctx: AppContext) -> tuple[Any, Any]:
    """What the inbound SMTP listener (email/inbound_smtp.py) calls: receive a mail, record one refused
    for its size (announced, or found while it was sent)."""

    async def on_mail(raw: bytes, envelope_to: list[str]) -> Any:
        return await receive(ctx, raw, channel="smtp", envelope_to=envelope_to)

    async def on_too_large(head: bytes, size: int, envelope_to: list[str]) -> Any:
        return await refuse_too_large(ctx, head, size, channel="smtp", envelope_to=envelope_to)

    return on_mail, on_too_large
