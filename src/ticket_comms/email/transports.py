"""How an email leaves the service: SMTP (pooled aiosmtplib connections) or Amazon SES, one interface.

A transport gets one prepared message (envelope + raw RFC 5322 bytes) and answers with a `SendResult`
saying whether the relay accepted it, or whether the failure is transient (retry later) or permanent.
The caller (the worker) owns retries and bookkeeping; a transport never retries a message itself, so
a message is handed to the relay at most once per attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from ticket_comms.config import Settings

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30.0
# RFC 6531 / RFC 3463: what a non-ASCII mailbox gets when the relay cannot carry it (never retried).
NO_SMTPUTF8 = (
    "553 5.6.7 The address is not ASCII and the mail relay does not offer SMTPUTF8, which such an address"
    " needs; use a relay that supports SMTPUTF8 or an ASCII address for this user"
)
# Relays limit how many messages one session may carry; reconnecting now and then also spreads load.
MAX_MESSAGES_PER_CONNECTION = 1000
# An idle connection older than this is closed rather than reused (servers drop idle sessions).
MAX_IDLE_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    log_id: str
    sender: str  # envelope sender (Return-Path): BOUNCE_ADDRESS
    recipient: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    # Only meaningful when not ok: True for a 5xx (never retried), False for 4xx/timeouts/refusals.
    permanent: bool = False
    reply: str = ""
    provider_message_id: str | None = None


class Transport(Protocol):
    async def send(self, email: OutgoingEmail) -> SendResult: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    use_tls: bool = False  # smtps://: TLS from the first byte
    # ?starttls=true: upgrade after EHLO, and refuse to go on without it; ?starttls=false: never.
    # Unset (None): opportunistic, upgrade whenever the server offers STARTTLS.
    start_tls: bool | None = None
    validate_certs: bool = True
    # ?insecure=true: allow sending the password over a connection without TLS.
    insecure: bool = False
    pool_size: int = 10


def parse_smtp_url(url: str) -> SmtpConfig:
    """`smtp://user:pass@host:port` (`smtps://` for implicit TLS; STARTTLS whenever the server offers
    it, `?starttls=true` to require it, `?starttls=false` to never try; `?verify=false` for self-signed
    test relays; `?insecure=true` to allow a password over a connection without TLS; `?pool=N`)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("smtp", "smtps"):
        raise ValueError(f"SMTP_URL must start with smtp:// or smtps://, not {scheme or 'nothing'}://")
    if not parts.hostname:
        raise ValueError("SMTP_URL has no host")
    query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    use_tls = scheme == "smtps"
    start_tls = _flag(query.get("starttls"))
    default_port = 465 if use_tls else (587 if start_tls else 25)
    return SmtpConfig(
        host=parts.hostname,
        port=parts.port or default_port,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=use_tls,
        start_tls=start_tls,
        validate_certs=_flag(query.get("verify")) is not False,
        insecure=_flag(query.get("insecure")) is True,
        pool_size=max(1, min(100, int(query.get("pool", "10")))) if query.get("pool", "10").isdigit() else 10,
    )


def _flag(value: str | None) -> bool | None:
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no"):
        return False
    return None


class CleartextPassword(aiosmtplib.SMTPException):
    """The relay offered no TLS, and SMTP_URL carries a password without `?insecure=true`."""

    def __init__(self) -> None:
        super().__init__(
            "the relay offers no TLS (no STARTTLS): refusing to send the SMTP password in clear. "
            "Use smtps://, a relay that offers STARTTLS, or add ?insecure=true to SMTP_URL to allow it"
        )


def _reply(code: int, message: str) -> str:
    return f"{code} {message}".strip()


class _Connection:
    __slots__ = ("client", "dsn", "eightbit", "sent", "smtputf8", "used_at")

    def __init__(self, client: aiosmtplib.SMTP, dsn: bool):
        self.client = client
        self.dsn = dsn
        self.smtputf8 = client.supports_extension("smtputf8")
        self.eightbit = client.supports_extension("8bitmime")
        self.sent = 0
        self.used_at = time.monotonic()


class SmtpTransport:
    """A pool of SMTP sessions, each reused for many messages (EHLO/STARTTLS/AUTH paid once)."""

    def __init__(self, config: SmtpConfig, *, timeout: float = SMTP_TIMEOUT_SECONDS):
        self.config = config
        self.timeout = timeout
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(config.pool_size)
        self._closed = False

    async def _connect(self) -> _Connection:
        c = self.config
        tls_context = None
        if c.start_tls is not False and not c.validate_certs:
            tls_context = ssl.create_default_context()
            tls_context.check_hostname = False
            tls_context.verify_mode = ssl.CERT_NONE
        client = aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            use_tls=c.use_tls,
            # None: aiosmtplib upgrades with STARTTLS whenever the server offers it.
            start_tls=c.start_tls if not c.use_tls else False,
            timeout=self.timeout,
            validate_certs=c.validate_certs,
            tls_context=tls_context,
        )
        await client.connect()
        if client.last_ehlo_response is None:
            # EHLO now (not lazily at the first MAIL) so the offered extensions, DSN among them, are known.
            try:
                await client.ehlo()
            except aiosmtplib.SMTPHeloError:
                await client.helo()
        if c.username is not None:
            if client.get_transport_info("sslcontext") is None and not c.insecure:
                client.close()
                raise CleartextPassword()
            await client.login(c.username, c.password or "")
        return _Connection(client, client.supports_extension("dsn"))

    async def _acquire(self) -> tuple[_Connection, bool]:
        """A connection (reused when one is idle and fresh) and whether it was reused."""
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if now - conn.used_at < MAX_IDLE_SECONDS and conn.client.is_connected:
                return conn, True
            await self._discard(conn)
        return await self._connect(), False

    def _release(self, conn: _Connection) -> None:
        conn.sent += 1
        conn.used_at = time.monotonic()
        if self._closed or conn.sent >= MAX_MESSAGES_PER_CONNECTION:
            asyncio.get_running_loop().create_task(self._discard(conn, polite=True))
        else:
            self._idle.append(conn)

    async def _discard(self, conn: _Connection, polite: bool = False) -> None:
        with contextlib.suppress(Exception):
            if polite and conn.client.is_connected:
                await conn.client.quit()
        with contextlib.suppress(Exception):
            conn.client.close()

    async def send(self, email: OutgoingEmail) -> SendResult:
        recipient = ascii_domain(email.recipient)
        if recipient != email.recipient:
            email = OutgoingEmail(email.log_id, email.sender, recipient, email.raw)
        utf8 = not (email.sender.isascii() and email.recipient.isascii())
        async with self._slots:
            for attempt in (1, 2):
                try:
                    conn, reused = await self._acquire()
                except aiosmtplib.SMTPResponseException as exc:
                    return self._classify_response(exc)
                except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
                    return SendResult(
                        False, reply=f"connection failed: {exc.__class__.__name__}: {exc}".strip()
                    )
                mail_options: list[str] = []
                rcpt_options: list[str] = []
                if utf8:
                    if not conn.smtputf8:
                        self._release(conn)
                        return SendResult(False, permanent=True, reply=NO_SMTPUTF8)
                    # RFC 6531: the mailbox and the headers are UTF-8 (the body is quoted-printable).
                    mail_options = ["SMTPUTF8", *(["BODY=8BITMIME"] if conn.eightbit else [])]
                if conn.dsn:
                    # RFC 3461: ask for a report on success and failure; ENVID brings the log id back in it.
                    mail_options += ["RET=HDRS", f"ENVID={email.log_id}"]
                    rcpt_options = ["NOTIFY=SUCCESS,FAILURE"]
                    if not utf8:
                        # ORCPT is optional; a UTF-8 mailbox would need RFC 6533's utf-8 form.
                        rcpt_options.append(f"ORCPT=rfc822;{_xtext(email.recipient)}")
                try:
                    message = await _transaction(conn.client, email, mail_options, rcpt_options)
                except _StaleSession as exc:
                    await self._discard(conn)
                    if reused and attempt == 1:
                        # A pooled session the server had already closed: nothing was sent; go again.
                        continue
                    return SendResult(False, reply=f"connection lost: {exc}")
                except aiosmtplib.SMTPServerDisconnected as exc:
                    # Lost mid-transaction: the relay may or may not have the email; the retry reuses its
                    # Message-ID, so a receiver can tell a repeat.
                    await self._discard(conn)
                    return SendResult(False, reply=f"connection lost: {exc}")
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    self._release(conn)
                    refusal = exc.recipients[0] if exc.recipients else None
                    if refusal is None:
                        return SendResult(False, reply="recipient refused")
                    return self._classify_response(refusal)
                except aiosmtplib.SMTPResponseException as exc:
                    # The session is still usable after a refused MAIL or DATA (aiosmtplib sends RSET).
                    if exc.code >= 400 and conn.client.is_connected:
                        self._release(conn)
                    else:
                        await self._discard(conn)
                    return self._classify_response(exc)
                except (TimeoutError, aiosmtplib.SMTPException, OSError) as exc:
                    await self._discard(conn)
                    return SendResult(False, reply=f"{exc.__class__.__name__}: {exc}".strip())
                self._release(conn)
                return SendResult(
                    True, reply=f"250 {message}".strip(), provider_message_id=_queue_id(message)
                )
        return SendResult(False, reply="connection lost")  # pragma: no cover - the loop always returns

    @staticmethod
    def _classify_response(exc: Any) -> SendResult:
        code = int(getattr(exc, "code", 0) or 0)
        reply = _reply(code, str(getattr(exc, "message", exc)))
        return SendResult(False, permanent=500 <= code < 600, reply=reply)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        await asyncio.gather(*(self._discard(c, polite=True) for c in idle), return_exceptions=True)


class _StaleSession(Exception):
    """The session was gone before MAIL was accepted: nothing of this email reached the server."""


def _xtext(value: str) -> str:
    """RFC 3461 xtext (for ORCPT): `+` and `=` and anything outside printable ASCII as +HH."""
    return "".join(c if 33 <= ord(c) <= 126 and c not in "+=" else f"+{ord(c):02X}" for c in value)


def ascii_domain(address: str) -> str:
    """`address` with an internationalized domain in its ASCII form (IDNA), so that only a non-ASCII
    local part needs SMTPUTF8; unchanged when the domain is ASCII or not valid IDNA."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def _envelope_address(address: str) -> bytes:
    """`<address>` for MAIL/RCPT. Addresses come from our own users table; refuse anything that could
    break out of the command (no parsing library needed for that, and none runs per email). A
    non-ASCII address is sent as UTF-8 (the caller asked for SMTPUTF8)."""
    if not address or any(c in address for c in "<>\r\n ") or not address.isprintable():
        raise aiosmtplib.SMTPRecipientRefused(553, f"5.1.3 Bad address: {address!r}", address)
    return f"<{address}>".encode()


async def _transaction(
    client: aiosmtplib.SMTP, email: OutgoingEmail, mail_options: list[str], rcpt_options: list[str]
) -> str:
    """MAIL, RCPT, DATA for one recipient; the server's DATA reply text.

    aiosmtplib's `sendmail` parses and re-quotes both addresses with the email package on every call,
    a measurable share of the worker's CPU at hundreds of emails a second; these commands are the same
    protocol without that step.
    """
    sender = _envelope_address(email.sender)
    recipient = _envelope_address(email.recipient)
    try:
        response = await client.execute_command(
            b"MAIL", b"FROM:" + sender, *(o.encode() for o in mail_options)
        )
    except aiosmtplib.SMTPServerDisconnected as exc:
        raise _StaleSession(str(exc)) from exc
    if response.code != 250:
        await _reset(client)
        raise aiosmtplib.SMTPSenderRefused(response.code, response.message, email.sender)
    response = await client.execute_command(b"RCPT", b"TO:" + recipient, *(o.encode() for o in rcpt_options))
    if response.code not in (250, 251):
        await _reset(client)
        raise aiosmtplib.SMTPRecipientsRefused(
            [aiosmtplib.SMTPRecipientRefused(response.code, response.message, email.recipient)]
        )
    try:
        response = await client.data(email.raw)
    except aiosmtplib.SMTPDataError:
        await _reset(client)
        raise
    return response.message


async def _reset(client: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(aiosmtplib.SMTPException):
        await client.rset()


def _queue_id(message: str) -> str | None:
    """The relay's queue id from a reply like `2.0.0 Ok: queued as 4F1C2A1B3`, when it gives one."""
    lowered = message.lower()
    marker = "queued as "
    if marker in lowered:
        start = lowered.index(marker) + len(marker)
        token = message[start:].split()[0] if message[start:].split() else ""
        return token.strip("<>.,;") or None
    return None


def build_transport(settings: Settings, relay_url: str | None = None) -> Transport:
    """SES when EMAIL_PROVIDER=ses, else SMTP through SMTP_URL or the dev mailbox's `relay_url`."""
    if settings.email_provider.lower() == "ses":
        from ticket_comms.email.ses import SesTransport

        return SesTransport(settings)
    url = settings.smtp_url or relay_url
    if not url:
        raise RuntimeError(
            "No SMTP relay: set SMTP_URL, or run `serve` with SMTP_URL unset for the dev mailbox."
        )
    return SmtpTransport(parse_smtp_url(url))
