"""The dev mailbox: with SMTP_URL unset, an SMTP sink on 127.0.0.1 catches every email the service sends
and shows it at /dev/mailbox, so `make run` shows real emails with no setup.

- The sink is aiosmtpd on the app's own event loop, on a free port of 127.0.0.1. `ctx.dev_mailbox.url`
  (`smtp://127.0.0.1:PORT`) is the relay the sending code uses when SMTP_URL is unset; the URL is also
  written to DATA_DIR/mailbox/relay-url so a separate `ticket-comms worker` can find it.
- Mail is stored as files in DATA_DIR/mailbox: `<id>.eml` (the bytes exactly as received) and
  `<id>.json` (envelope and summary, written last: its presence means the message is complete).
  Ids sort by arrival. Files survive restarts; the oldest are removed past MAX_MESSAGES.
- Who may look: it is a development tool, so it exists only while SMTP_URL is unset, and it answers
  only requests from this machine (loopback peers) or carrying an admin token; others get 404.
  Caught mail is never delivered anywhere.
- Emails are untrusted HTML: the HTML view is a separate URL served with `Content-Security-Policy:
  sandbox` (no scripts, unique origin) and shown in an `<iframe sandbox>`.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ipaddress
import json
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Annotated, Any

import jinja2
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from ticket_comms.config import Settings
from ticket_comms.context import AppContext
from ticket_comms.deps import json as json_response
from ticket_comms.errors import AppError, NotFound

log = logging.getLogger(__name__)

MAX_MESSAGES = 500
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
MAX_RAW_SHOWN = 300_000
ID_RE = re.compile(r"^\d{16}-[0-9a-f]{8}$")
HOST = "127.0.0.1"
RELAY_FILE = "relay-url"

# The caught email's HTML may do anything an email can: no scripts, no forms, no same-origin access,
# and it may only load images, styles and fonts (as a mail client would).
EMAIL_HTML_CSP = (
    "sandbox; default-src 'none'; img-src data: http: https:; style-src 'unsafe-inline' http: https:; "
    "font-src data: http: https:; frame-ancestors 'self'"
)
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; img-src 'self' data:; form-action 'self'"


@dataclass(frozen=True, slots=True)
class Summary:
    id: str
    received_at: str
    mail_from: str
    rcpt_tos: list[str]
    subject: str
    from_: str
    to: str
    message_id: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "receivedAt": self.received_at,
            "mailFrom": self.mail_from,
            "rcptTos": self.rcpt_tos,
            "subject": self.subject,
            "from": self.from_,
            "to": self.to,
            "messageId": self.message_id,
            "size": self.size,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        return cls(
            data["id"],
            data["receivedAt"],
            data["mailFrom"],
            list(data["rcptTos"]),
            data["subject"],
            data["from"],
            data["to"],
            data["messageId"],
            int(data["size"]),
        )


class MailboxStore:
    """Caught mail on disk. Methods are blocking file I/O: call them through a thread."""

    def __init__(self, directory: Path, max_messages: int = MAX_MESSAGES):
        self.directory = directory
        self.max_messages = max_messages
        # Summaries never change once written, so they are read from disk once per process.
        self._summaries: dict[str, Summary] = {}

    def save(self, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> Summary:
        self.directory.mkdir(parents=True, exist_ok=True)
        message_id = f"{time.time_ns() // 1000:016d}-{secrets.token_hex(4)}"
        headers = email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0], policy=email.policy.default)
        summary = Summary(
            id=message_id,
            received_at=datetime.now(UTC).isoformat(),
            mail_from=mail_from,
            rcpt_tos=rcpt_tos,
            subject=_header(headers, "Subject"),
            from_=_header(headers, "From"),
            to=_header(headers, "To"),
            message_id=_header(headers, "Message-ID"),
            size=len(raw),
        )
        self._write(f"{message_id}.eml", raw)
        self._write(f"{message_id}.json", json.dumps(summary.to_json()).encode())
        self._summaries[message_id] = summary
        self._trim()
        return summary

    def _write(self, name: str, data: bytes) -> None:
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.directory / name)

    def _ids(self) -> list[str]:
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        return sorted((n[:-5] for n in names if n.endswith(".json") and ID_RE.match(n[:-5])), reverse=True)

    def _trim(self) -> None:
        for old in self._ids()[self.max_messages :]:
            self._remove(old)

    def _remove(self, message_id: str) -> None:
        for suffix in (".json", ".eml"):
            (self.directory / f"{message_id}{suffix}").unlink(missing_ok=True)
        self._summaries.pop(message_id, None)

    def summary(self, message_id: str) -> Summary | None:
        if not ID_RE.match(message_id):
            return None
        cached = self._summaries.get(message_id)
        if cached is not None:
            return cached
        try:
            data = json.loads((self.directory / f"{message_id}.json").read_text(encoding="utf-8"))
            summary = Summary.from_json(data)
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None
        self._summaries[message_id] = summary
        return summary

    def list(self, limit: int = MAX_MESSAGES) -> list[Summary]:
        ids = self._ids()
        for gone in set(self._summaries) - set(ids):
            self._summaries.pop(gone, None)
        return [s for s in (self.summary(i) for i in ids[:limit]) if s is not None]

    def raw(self, message_id: str) -> tuple[Summary, bytes] | None:
        summary = self.summary(message_id)
        if summary is None:
            return None
        try:
            return summary, (self.directory / f"{message_id}.eml").read_bytes()
        except FileNotFoundError:
            return None

    def clear(self) -> int:
        ids = self._ids()
        for message_id in ids:
            self._remove(message_id)
        return len(ids)


def _header(message: Any, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        return ""
    return " ".join(str(value).split()) if value is not None else ""


class _Handler:
    def __init__(self, store: MailboxStore):
        self.store = store

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        summary = await asyncio.to_thread(
            self.store.save, raw, envelope.mail_from or "", [str(r) for r in envelope.rcpt_tos]
        )
        return f"250 OK: caught as {summary.id}"


class DevMailbox:
    """The SMTP sink and its store; `url` is the relay to send through."""

    def __init__(self, directory: Path, max_messages: int = MAX_MESSAGES):
        self.store = MailboxStore(directory, max_messages)
        self.host = HOST
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        handler = _Handler(self.store)
        # aiosmtpd logs every connection at INFO; the mailbox would drown the service's own log.
        logging.getLogger("mail.log").setLevel(logging.WARNING)

        def protocol() -> SMTP:
            return SMTP(
                handler,
                hostname="mailbox.localhost",
                ident="ticket-comms dev mailbox",
                data_size_limit=MAX_MESSAGE_BYTES,
                enable_SMTPUTF8=True,
                loop=loop,
            )

        self._server = await loop.create_server(protocol, host=self.host, port=0)
        self.port = self._server.sockets[0].getsockname()[1]
        await asyncio.to_thread(self._publish)
        log.info(
            "dev mailbox listening", extra={"fields": {"smtp": self.url, "dir": str(self.store.directory)}}
        )

    def _publish(self) -> None:
        self.store.directory.mkdir(parents=True, exist_ok=True)
        self.store._write(RELAY_FILE, self.url.encode())

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        await self._server.wait_closed()
        self._server = None
        relay = self.store.directory / RELAY_FILE
        try:
            if relay.read_text() == self.url:
                relay.unlink()
        except FileNotFoundError:
            pass


def relay_url(settings: Settings) -> str | None:
    """The dev mailbox's SMTP URL published by a running `serve` on this DATA_DIR (for `ticket-comms worker`)."""
    try:
        return (settings.data_dir / "mailbox" / RELAY_FILE).read_text().strip() or None
    except FileNotFoundError:
        return None


async def start(settings: Settings) -> DevMailbox | None:
    """Start the dev mailbox when no real relay is configured (SMTP_URL unset); else None."""
    if settings.smtp_url:
        return None
    mailbox = DevMailbox(settings.data_dir / "mailbox")
    await mailbox.start()
    return mailbox


# ---------------------------------------------------------------------------------------------
# Reading a caught message


def _part_text(part: Any) -> str:
    try:
        return str(part.get_content())
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def parse(raw: bytes) -> dict[str, Any]:
    message: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[assignment]
    html_part = message.get_body(preferencelist=("html",))
    text_part = message.get_body(preferencelist=("plain",))
    attachments = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True) or b""
        attachments.append(
            {"filename": part.get_filename(), "contentType": part.get_content_type(), "size": len(payload)}
        )
    headers = []
    for name, value in message.raw_items():
        headers.append(
            {
                "name": name,
                "value": _header(message, name)
                if name.lower() in ("subject", "from", "to")
                else " ".join(str(value).split()),
            }
        )
    return {
        "headers": headers,
        "html": _part_text(html_part) if html_part is not None else None,
        "text": _part_text(text_part) if text_part is not None else None,
        "attachments": attachments,
    }


# ---------------------------------------------------------------------------------------------
# HTTP: pages and JSON


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
            claims = ctx.verifier.verify(token.strip())
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
    loader=jinja2.DictLoader(
        {
            "base": """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{% block title %}Dev mailbox{% endblock %}</title>
<style>
  :root { color-scheme: light dark; --fg: #1f2733; --muted: #5b6675; --line: #d9dee5; --bg: #f6f7f9; --card: #fff; --accent: #3b63d6; }
  @media (prefers-color-scheme: dark) { :root { --fg: #e3e7ed; --muted: #9aa4b2; --line: #2e3540; --bg: #14181e; --card: #1c2129; --accent: #8fa9f2; } }
  body { margin: 0; font: 15px/1.5 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
  header { padding: 14px 24px; border-bottom: 1px solid var(--line); background: var(--card); display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; } header h1 a { color: inherit; text-decoration: none; }
  main { padding: 20px 24px; max-width: 1200px; }
  .note { color: var(--muted); font-size: 13px; }
  a { color: var(--accent); }
  table { border-collapse: collapse; width: 100%; background: var(--card); }
  th, td { text-align: left; padding: 8px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  td.nowrap { white-space: nowrap; }
  nav.views a { display: inline-block; padding: 6px 12px; border: 1px solid var(--line); border-radius: 6px; margin-right: 6px; text-decoration: none; }
  nav.views a.on { background: var(--accent); color: #fff; border-color: var(--accent); }
  iframe { width: 100%; height: 75vh; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
  pre { white-space: pre-wrap; word-break: break-word; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 14px; font-size: 13px; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; background: var(--card); padding: 14px; border: 1px solid var(--line); border-radius: 6px; }
  dt { color: var(--muted); } dd { margin: 0; word-break: break-word; }
  button { font: inherit; padding: 4px 12px; }
</style></head>
<body>
<header>
  <h1><a href="/dev/mailbox">Dev mailbox</a></h1>
  <span class="note">Mail the service sends while SMTP_URL is unset is caught by an SMTP sink at {{ smtp_url }} and
  shown here; it is never delivered. For development only: this page answers this machine (localhost) and admins.</span>
</header>
<main>{% block main %}{% endblock %}</main>
</body></html>""",
            "list": """{% extends "base" %}
{% block main %}
<p class="note">{{ items|length }} message{{ "" if items|length == 1 else "s" }} (newest first, the last {{ cap }} kept).
  <a href="/dev/mailbox">Refresh</a> &middot; <a href="/dev/mailbox.json">JSON</a></p>
{% if items %}
<table>
  <thead><tr><th>Received</th><th>Subject</th><th>From</th><th>To</th><th>Size</th></tr></thead>
  <tbody>
  {% for m in items %}
    <tr>
      <td class="nowrap">{{ m.received_at[:19].replace("T", " ") }}</td>
      <td><a href="/dev/mailbox/{{ m.id }}">{{ m.subject or "(no subject)" }}</a></td>
      <td>{{ m.from_ or m.mail_from }}</td>
      <td>{{ m.to or m.rcpt_tos|join(", ") }}</td>
      <td class="nowrap">{{ (m.size / 1024)|round(1) }} KB</td>
    </tr>
  {% endfor %}
  </tbody>
</table>
<form method="post" action="/dev/mailbox/clear" style="margin-top: 16px;"><button type="submit">Delete all</button></form>
{% else %}
<p>No mail yet. Anything the service sends will show up here.</p>
{% endif %}
{% endblock %}""",
            "message": """{% extends "base" %}
{% block title %}{{ summary.subject or "(no subject)" }} - Dev mailbox{% endblock %}
{% block main %}
<p><a href="/dev/mailbox">&larr; All mail</a></p>
<h2>{{ summary.subject or "(no subject)" }}</h2>
<dl>
  <dt>From</dt><dd>{{ summary.from_ }}</dd>
  <dt>To</dt><dd>{{ summary.to }}</dd>
  <dt>Envelope</dt><dd>MAIL FROM &lt;{{ summary.mail_from }}&gt; &rarr; RCPT TO {{ summary.rcpt_tos|join(", ") }}</dd>
  <dt>Received</dt><dd>{{ summary.received_at }}</dd>
  <dt>Size</dt><dd>{{ summary.size }} bytes</dd>
  {% if parsed.attachments %}<dt>Attachments</dt><dd>{% for a in parsed.attachments %}{{ a.filename or "(unnamed)" }} ({{ a.contentType }}, {{ a.size }} bytes){% if not loop.last %}, {% endif %}{% endfor %}</dd>{% endif %}
</dl>
<nav class="views" style="margin: 16px 0;">
  {% for key, label in [("html", "HTML"), ("text", "Text"), ("headers", "Headers"), ("raw", "Raw")] %}
  <a href="?view={{ key }}" class="{{ 'on' if view == key else '' }}">{{ label }}</a>
  {% endfor %}
  <a href="/dev/mailbox/{{ summary.id }}.json">JSON</a>
</nav>
{% if view == "html" %}
  {% if parsed.html is not none %}
  <iframe sandbox="" referrerpolicy="no-referrer" title="HTML part" src="/dev/mailbox/{{ summary.id }}/html"></iframe>
  {% else %}<p class="note">This email has no HTML part.</p>{% endif %}
{% elif view == "text" %}
  {% if parsed.text is not none %}<pre>{{ parsed.text }}</pre>{% else %}<p class="note">This email has no text part.</p>{% endif %}
{% elif view == "headers" %}
  <table><tbody>{% for h in parsed.headers %}<tr><th>{{ h.name }}</th><td>{{ h.value }}</td></tr>{% endfor %}</tbody></table>
{% else %}
  <p class="note"><a href="/dev/mailbox/{{ summary.id }}/raw">Download .eml</a>{% if truncated %} (showing the first {{ raw|length }} characters){% endif %}</p>
  <pre>{{ raw }}</pre>
{% endif %}
{% endblock %}""",
        }
    ),
)


def _page(name: str, mailbox: DevMailbox, **values: Any) -> HTMLResponse:
    body = PAGES.get_template(name).render(smtp_url=mailbox.url, cap=mailbox.store.max_messages, **values)
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
