"""INBOUND_SMTP_PORT: an SMTP listener for mail to the bounce address and to the reply addresses, so neither
delivery reports nor replies need an MTA piping them to /email/inbound.

It takes mail only from INBOUND_SMTP_NETWORKS and only for those addresses; every message is handed to
the same function as that endpoint's (given by the app: replies/inbound.py, which sits above this
package). A mail announced (ESMTP SIZE) over REPLY_MAX_BYTES is refused at MAIL FROM and recorded. One that
turns out larger without announcing it is refused by aiosmtpd at the end of DATA (its bytes past the limit
discarded as they come, so memory stays bounded) and recorded too, from its first HEAD_BYTES (the headers
say who sent it and to which reply address) and the count of bytes it sent. The sender's MTA bounces it
either way.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, AnyStr

from ticket_comms.context import AppContext
from ticket_comms.email.addresses import bounce_address
from ticket_comms.email.reply_addresses import is_reply_address

log = logging.getLogger(__name__)

SIZE_RE = re.compile(r"(?i)\bSIZE=(\d{1,15})\b")
FROM_RE = re.compile(r"(?i)FROM:\s*<([^<>\s]{0,320})>")

# (raw mail, envelope recipients) -> what became of it.
Receive = Callable[[bytes, list[str]], Awaitable[Any]]
# (the mail's first bytes, its size, envelope recipients): record a mail refused for its size.
TooLarge = Callable[[bytes, int, list[str]], Awaitable[Any]]

# What is kept of a mail refused for its size: enough for its headers.
HEAD_BYTES = 256 * 1024
# aiosmtpd's answer at the end of DATA when the mail went over data_size_limit.
TOO_MUCH_DATA = "552 "


class _CountingReader:
    """Stands in for the connection's stream reader during DATA: what aiosmtpd reads passes through
    unchanged while the first HEAD_BYTES are kept and every byte is counted. aiosmtpd discards the data of
    an oversized mail before it says so; this is how its headers and size are still known."""

    def __init__(self, reader: Any):
        self._reader = reader
        self.head = bytearray()
        self.size = 0
        self.last = b""

    def _seen(self, data: bytes) -> bytes:
        if len(self.head) < HEAD_BYTES:
            self.head += data[: HEAD_BYTES - len(self.head)]
        self.size += len(data)
        self.last = data
        return data

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        return self._seen(await self._reader.readuntil(separator))

    async def read(self, n: int = -1) -> bytes:
        return self._seen(await self._reader.read(n))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


class InboundSmtp:
    def __init__(
        self, ctx: AppContext, host: str, port: int, receive: Receive, too_large: TooLarge | None = None
    ):
        self.ctx = ctx
        self.host = host
        self.port = port
        self.receive = receive
        self.too_large = too_large
        self.limit = ctx.settings.reply_max_bytes
        self.networks = [ipaddress.ip_network(n, strict=False) for n in ctx.settings.inbound_smtp_networks]
        local, _, domain = bounce_address(ctx.settings).lower().rpartition("@")
        self._local = local
        self._domain = domain
        self._server: asyncio.AbstractServer | None = None

    def _peer_allowed(self, session: Any) -> bool:
        peer = session.peer[0] if isinstance(session.peer, tuple) else session.peer
        try:
            address = ipaddress.ip_address(str(peer).split("%", 1)[0])
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def _ours(self, address: str) -> bool:
        local, _, domain = address.strip().strip("<>").lower().rpartition("@")
        if domain == self._domain and (local == self._local or local.startswith(self._local + "+")):
            return True
        return is_reply_address(self.ctx.settings, address)

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if not self._peer_allowed(session):
            return "554 5.7.1 Not accepting mail from your network"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def announced_too_large(self, session: Any, arg: str) -> None:
        """MAIL FROM announces a SIZE over the limit (aiosmtpd then answers 552): record it."""
        found = SIZE_RE.search(arg)
        if found is None or int(found[1]) <= self.limit or not self._peer_allowed(session):
            return
        if self.too_large is not None:
            sender = FROM_RE.search(arg)
            # The envelope sender is all that is known of it yet.
            head = f"From: <{sender[1] if sender else ''}>\r\n".encode()
            await self.too_large(head, int(found[1]), [])

    async def sent_too_large(self, session: Any, head: bytes, size: int, rcpt_tos: list[str]) -> None:
        """DATA went over the limit with no SIZE announced (aiosmtpd answered 552): record it."""
        if self.too_large is None or not self._peer_allowed(session):
            return
        try:
            await self.too_large(head, size, rcpt_tos)
        except Exception:
            # The sender was already told 552; a failed record must not break the session.
            log.exception("could not record an oversized inbound message")

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if not self._ours(address):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if not self._peer_allowed(session):
            return "554 5.7.1 Not accepting mail from your network"
        try:
            await self.receive(envelope.original_content or b"", [str(a) for a in envelope.rcpt_tos])
        except Exception:
            log.exception("could not process an inbound message")
            return "451 4.3.0 Could not process the message now; try again later"
        return "250 2.0.0 Accepted"

    async def start(self) -> None:
        from aiosmtpd.smtp import SMTP

        handler = self

        class Smtp(SMTP):
            async def smtp_MAIL(self, arg: str | None) -> None:
                # aiosmtpd refuses an announced SIZE over data_size_limit before any handler hook runs.
                await handler.announced_too_large(self.session, arg or "")
                await super().smtp_MAIL(arg)

            last_status = ""

            async def push(self, status: AnyStr) -> None:
                # The last answer of a DATA says whether aiosmtpd refused the mail for its size.
                self.last_status = status if isinstance(status, str) else status.decode("ascii", "replace")
                await super().push(status)

            async def smtp_DATA(self, arg: str) -> None:
                recipients = [str(a) for a in self.envelope.rcpt_tos] if self.envelope else []
                reader = self._reader
                counting = _CountingReader(reader)
                self._reader = counting  # type: ignore[assignment]
                self.last_status = ""
                try:
                    await super().smtp_DATA(arg)
                finally:
                    self._reader = reader
                if recipients and self.last_status.startswith(TOO_MUCH_DATA):
                    # The size is what came before the "." line that ends DATA.
                    size = counting.size - (len(counting.last) if counting.last == b".\r\n" else 0)
                    await handler.sent_too_large(self.session, bytes(counting.head), size, recipients)

        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: Smtp(self, hostname="ticket-comms", data_size_limit=self.limit, loop=loop),
            host=self.host,
            port=self.port,
        )
        log.info("inbound SMTP listening", extra={"fields": {"host": self.host, "port": self.port}})

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


async def start_inbound_smtp(
    ctx: AppContext, receive: Receive, too_large: TooLarge | None = None
) -> InboundSmtp | None:
    port = ctx.settings.inbound_smtp_port
    if not port:
        return None
    listener = InboundSmtp(ctx, ctx.settings.host, port, receive, too_large)
    await listener.start()
    return listener
