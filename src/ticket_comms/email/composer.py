"""Composing one email from its outbox row: the render context, the rendered template, the MIME message
and its DKIM signature.

The MIME message is assembled by hand rather than through `email.message`: at hundreds of emails a
second the stdlib generator is a visible share of the worker's CPU, and a notification email is always
the same simple shape (multipart/alternative: a text part and an HTML part, quoted-printable).
"""

from __future__ import annotations

import asyncio
import binascii
from email.header import Header
from email.utils import formataddr, formatdate
from functools import lru_cache
from pathlib import Path
from typing import Any

from ticket_comms.catalogue import ALWAYS_EMAILED
from ticket_comms.config import Settings
from ticket_comms.context import AppContext
from ticket_comms.email import templates
from ticket_comms.email.addresses import parsed_from, sender_domain
from ticket_comms.email.links import preferences_url, ticket_url, unsubscribe_url
from ticket_comms.email.reply_addresses import reply_address_for, reply_enabled, thread_index, thread_root
from ticket_comms.email.tracking import tracked_html
from ticket_comms.email.transports import ascii_domain


class Composer:
    """Turns a claimed outbox row into the bytes to send (the worker holds one)."""

    def __init__(self, ctx: AppContext):
        self.ctx = ctx
        self.settings = ctx.settings
        self.signer = build_signer(ctx.settings)

    def context_for(self, row: dict[str, Any]) -> dict[str, Any]:
        """The template's variables: the event's data plus the recipient, our links and our app."""
        settings = self.settings
        data = dict(row["data"] or {})
        links: dict[str, Any] = {"preferences": preferences_url(settings)}
        if row["ticket_id"] is not None:
            links["ticket"] = ticket_url(settings, row["ticket_id"])
        if row["event_type"] not in ALWAYS_EMAILED and row["recipient_id"]:
            links["unsubscribe"] = unsubscribe_url(settings, row["recipient_id"], row["event_type"])
        given_links: dict[str, Any] = data["links"] if isinstance(data.get("links"), dict) else {}
        data["links"] = {**given_links, **links}
        data["recipient"] = {
            "name": row["recipient_name"] or row["recipient_email"],
            "email": row["recipient_email"],
        }
        # Ours, whatever the event's data says: links and names in our emails come from our configuration.
        data["app"] = {"name": settings.app_name, "url": settings.base_url}
        return data

    async def render(
        self, row: dict[str, Any], by_name: dict[str, templates.Template]
    ) -> tuple[templates.Rendered, str | None]:
        """The rendered template of `row` and its unsubscribe link; TemplateRenderFailed when it cannot be."""
        template = by_name.get(row["template_name"])
        if template is None:
            raise templates.TemplateRenderFailed(
                f"There is no email template named {row['template_name']!r}."
            )
        if not template.is_active:
            raise templates.TemplateRenderFailed(f"The {template.name} template is switched off.")
        context = self.context_for(row)
        rendered = await templates.render_template(self.ctx, template, by_name.get(templates.LAYOUT), context)
        return rendered, context["links"].get("unsubscribe")

    async def message(
        self, row: dict[str, Any], rendered: templates.Rendered, unsubscribe: str | None
    ) -> bytes:
        """The MIME message of `row`, DKIM-signed when a key is configured."""
        raw = build_message(
            self.settings,
            message_id=row["message_id"],
            to_email=row["recipient_email"],
            to_name=row["recipient_name"],
            subject=rendered.subject,
            html=tracked_html(self.settings, row["template_name"], row["id"], rendered.html),
            text=rendered.text,
            unsubscribe=unsubscribe,
            log_id=str(row["id"]),
            thread=thread_headers(self.settings, row),
        )
        if self.signer is not None:
            # RSA signing takes about a millisecond: off the event loop.
            raw = await asyncio.get_running_loop().run_in_executor(None, self.signer.sign, raw)
        return raw


# ---------------------------------------------------------------------------------------------
# The MIME message


def _clean(value: str) -> str:
    return value.replace("\r", " ").replace("\n", " ")


def _header_text(value: str) -> str:
    value = _clean(value)
    if value.isascii():
        return value
    return Header(value, "utf-8").encode(linesep="\r\n")


def _address(name: str | None, email: str) -> str:
    email = ascii_domain(_clean(email))
    if not email.isascii():
        # A non-ASCII mailbox travels as UTF-8 (SMTPUTF8, RFC 6532); formataddr refuses it.
        if not name:
            return email
        placeholder = formataddr((_clean(name), "x@x"), charset="utf-8")  # the name, encoded and quoted
        return placeholder.removesuffix("<x@x>") + f"<{email}>"
    return formataddr((_clean(name or ""), email), charset="utf-8")


@lru_cache(maxsize=16)
def _from_header(email_from: str) -> str:
    return _address(*parsed_from(email_from))


def _qp(text: str) -> bytes:
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    return binascii.b2a_qp(data, quotetabs=False, istext=True, header=False).replace(b"\n", b"\r\n")


def thread_headers(settings: Settings, row: dict[str, Any]) -> list[str]:
    """Reply-To (when REPLY_DOMAIN is set) and the thread headers of an email about a ticket; none for
    other mail (an OTP, an email with no recipient user)."""
    ticket_id, recipient_id = row.get("ticket_id"), row.get("recipient_id")
    if ticket_id is None or not recipient_id:
        return []
    root = thread_root(settings, ticket_id, recipient_id)
    headers = [
        f"In-Reply-To: {root}",
        f"References: {root}",
        f"Thread-Index: {thread_index(root, row['id'])}",
    ]
    ticket = (row.get("data") or {}).get("ticket")
    title = ticket.get("title") if isinstance(ticket, dict) else None
    if isinstance(title, str) and title.strip():
        # Outlook groups a conversation by its topic; the subjects differ per event, the ticket does not.
        headers.append(f"Thread-Topic: {_header_text(title.strip()[:200])}")
    if reply_enabled(settings):
        headers.insert(0, f"Reply-To: {reply_address_for(settings, row['id'], ticket_id, recipient_id)}")
    return headers


def build_message(
    settings: Settings,
    *,
    message_id: str,
    to_email: str,
    to_name: str | None,
    subject: str,
    html: str,
    text: str,
    unsubscribe: str | None,
    log_id: str,
    thread: list[str] | None = None,
) -> bytes:
    # Unique per email without a random draw; "=_" never occurs in quoted-printable text ("=" is "=3D").
    boundary = f"=_tc_{log_id.replace('-', '')}"
    headers = [
        f"From: {_from_header(settings.email_from)}",
        f"To: {_address(to_name, to_email)}",
        f"Subject: {_header_text(subject)}",
        f"Date: {formatdate(usegmt=True)}",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        # RFC 3834: tells auto-responders not to answer.
        "Auto-Submitted: auto-generated",
        f"X-Email-Log-Id: {log_id}",
        *(thread or ()),
    ]
    if unsubscribe:
        # RFC 8058 one-click: mail clients POST `List-Unsubscribe=One-Click` to this URL.
        headers.append(f"List-Unsubscribe: <{unsubscribe}>")
        headers.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
    headers.append(f'Content-Type: multipart/alternative; boundary="{boundary}"')
    b = boundary.encode()
    parts = [
        "\r\n".join(headers).encode(),
        b"\r\n\r\n",
        b"--",
        b,
        b'\r\nContent-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
        _qp(text),
        b"\r\n",
        b"--",
        b,
        b'\r\nContent-Type: text/html; charset="utf-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
        _qp(html),
        b"\r\n",
        b"--",
        b,
        b"--\r\n",
    ]
    return b"".join(parts)


# ---------------------------------------------------------------------------------------------
# DKIM


# Signed headers: the ones a receiver shows or acts on. RFC 8058 requires List-Unsubscribe and
# List-Unsubscribe-Post to be covered for one-click unsubscribe to be honoured.
DKIM_HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"auto-submitted",
    b"reply-to",
    b"in-reply-to",
    b"references",
]


class DkimSigner:
    """Signs outgoing mail (rsa-sha256, relaxed/simple) with DKIM_PRIVATE_KEY for DKIM_DOMAIN/DKIM_SELECTOR."""

    def __init__(self, private_key: bytes, selector: str, domain: str):
        self.private_key = private_key
        self.selector = selector.encode()
        self.domain = domain.encode()

    def sign(self, raw: bytes) -> bytes:
        import dkim

        header = dkim.sign(
            raw,
            self.selector,
            self.domain,
            self.private_key,
            include_headers=DKIM_HEADERS,
            canonicalize=(b"relaxed", b"simple"),
        )
        return header + raw


def build_signer(settings: Settings) -> DkimSigner | None:
    """The signer when DKIM_PRIVATE_KEY (PEM text or a file path) is set, else None (unsigned mail)."""
    if not settings.dkim_private_key:
        return None
    if not settings.dkim_selector:
        raise ValueError("DKIM_PRIVATE_KEY is set but DKIM_SELECTOR is not")
    key = settings.dkim_private_key
    pem = key.encode() if "-----BEGIN" in key else Path(key).expanduser().read_bytes()
    return DkimSigner(pem, settings.dkim_selector, settings.dkim_domain or sender_domain(settings))
