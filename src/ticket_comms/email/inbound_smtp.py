"""INBOUND_SMTP_PORT: an SMTP listener for mail to the bounce address and to the reply addresses, so neither
delivery reports nor replies need an MTA piping them to /email/inbound.

It takes mail only from INBOUND_SMTP_NETWORKS and only for those addresses; every message is handed to
the same function as that endpoint's (given by the app: replies/inbound.py, which sits above this
package). A mail announced (ESMTP SIZE) over REPLY_MAX_BYTES is refused at MAIL FROM and recorded; one
that turns out larger without announcing it is refused by aiosmtpd at the end of DATA (its bytes past the
limit discarded as they come) and not recorded: the sender's MTA bounces it either way.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from ticket_comms.context import AppContext
from ticket_comms.email.addresses import bounce_address
from ticket_comms.email.reply_addresses import is_reply_address

log = logging.getLogger(__name__)

SIZE_RE = re.compile(r"(?i)\bSIZE=(\d{1,15})\b")
FROM_RE = re.compile(r"(?i)FROM:\s*<([^<>\s]{0,320})>")

# (raw mail, envelope recipients) -> what became of it.
Receive = Callable[[bytes, list[str]], Awaitable[Any]]
# (announced size, envelope sender): record a mail refused for its size.
TooLarge = Callable[[int, str], Awaitable[Any]]


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
            await self.too_large(int(found[1]), sender[1] if sender else "")

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
