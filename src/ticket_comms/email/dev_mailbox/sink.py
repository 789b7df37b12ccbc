"""The dev mailbox: with SMTP_URL unset, an SMTP sink on 127.0.0.1 catches every email the service sends
and shows it at /dev/mailbox, so `make run` shows real emails with no setup.

- The sink is aiosmtpd on the app's own event loop, on a free port of 127.0.0.1. `ctx.dev_mailbox.url`
  (`smtp://127.0.0.1:PORT`) is the relay the sending code uses when SMTP_URL is unset; the URL is also
  written to DATA_DIR/mailbox/relay-url so a separate `ticket-comms worker` can find it.
- Mail is kept by store.py; the pages and JSON are router.py (pages/ holds their HTML).
- Who may look: it is a development tool, so it exists only while SMTP_URL is unset and DEV_MAILBOX
  allows it (unset: only in development, PUBLIC_BASE_URL on this machine), and it answers
  only requests from this machine (loopback peers) or carrying an admin token; others get 404.
  Caught mail is never delivered anywhere.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from ticket_comms.config import Settings
from ticket_comms.email.dev_mailbox.store import MAX_MESSAGES, MailboxStore

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024
HOST = "127.0.0.1"
RELAY_FILE = "relay-url"


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
    """Start the dev mailbox when no real relay is configured (SMTP_URL unset) and DEV_MAILBOX allows
    it (by default only in development); else None."""
    if settings.smtp_url or not settings.dev_mailbox_enabled:
        return None
    mailbox = DevMailbox(settings.data_dir / "mailbox")
    await mailbox.start()
    return mailbox
