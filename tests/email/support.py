"""Test support for the sending side: a real SMTP server (aiosmtpd) in the test process, scriptable
(`451` then `250`, `550`, slow replies), offering DSN like a real relay, and an app instance whose
in-process worker sends to it with short retry and digest delays.

The fixtures reach tests through the conftest.py of tests/email and tests/notifications.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import RunningApp, empty_tables, make_settings, start_app

DSN_PARAMS = ("ENVID", "RET", "NOTIFY", "ORCPT")


@dataclass
class Caught:
    mail_from: str
    rcpt_tos: list[str]
    mail_options: list[str]
    rcpt_options: list[str]
    raw: bytes
    at: float
    tls: bool = False  # whether the session was encrypted (STARTTLS) when the mail arrived

    @property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]

    def header(self, name: str) -> str:
        return str(self.message[name] or "")

    def part(self, ctype: str) -> str:
        for p in self.message.walk():
            if p.get_content_type() == ctype:
                return p.get_content()
        raise AssertionError(f"no {ctype} part")


class _DsnSMTP(SMTP):
    """aiosmtpd refuses every MAIL/RCPT parameter; a relay offering DSN accepts RFC 3461's."""

    def _getparams(self, params: Any) -> Any:
        result = super()._getparams(params)
        if result is not None:
            for key in DSN_PARAMS:
                result.pop(key, None)
        return result


@dataclass
class Sink:
    host: str = "127.0.0.1"
    port: int = 0
    dsn: bool = True
    # Seconds to wait before answering DATA (to keep SMTP transactions in flight).
    data_delay: float = 0.0
    messages: list[Caught] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    scripts: dict[str, list[str]] = field(default_factory=dict)
    # Extra aiosmtpd.SMTP arguments (STARTTLS context, authenticator...) and a TLS context for smtps.
    smtp_options: dict[str, Any] = field(default_factory=dict)
    implicit_tls: Any = None
    _server: Any = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        handler = _Handler(self)
        self._server = await loop.create_server(
            lambda: _DsnSMTP(handler, hostname="sink.test", loop=loop, **self.smtp_options),
            host=self.host,
            port=self.port,
            ssl=self.implicit_tls,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def reset(self) -> None:
        self.messages.clear()
        self.refused.clear()
        self.scripts.clear()
        self.data_delay = 0.0
        self.dsn = True

    def script(self, address: str, *replies: str) -> None:
        """The next DATA replies for mail to `address` (then 250 as usual)."""
        self.scripts[address.lower()] = list(replies)

    def to(self, address: str) -> list[Caught]:
        return [m for m in self.messages if address.lower() in [r.lower() for r in m.rcpt_tos]]

    async def wait_for(
        self, count: int, timeout: float = 15, predicate: Callable[[Caught], bool] | None = None
    ) -> list[Caught]:
        deadline = time.monotonic() + timeout
        while True:
            found = [m for m in self.messages if predicate is None or predicate(m)]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"expected {count} emails, got {len(found)}: {[m.rcpt_tos for m in found]}"
                )
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))
            except TimeoutError:
                pass


class _Handler:
    def __init__(self, sink: Sink):
        self.sink = sink

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.sink.dsn:
            responses.insert(-1, "250-DSN")
        return responses

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.sink.data_delay:
            await asyncio.sleep(self.sink.data_delay)
        rcpt = envelope.rcpt_tos[0].lower()
        script = self.sink.scripts.get(rcpt)
        if script:
            reply = script.pop(0)
            if not reply.startswith("250"):
                self.sink.refused.append((rcpt, reply))
                self.sink._changed.set()
                return reply
        raw = envelope.original_content or b""
        self.sink.messages.append(
            Caught(
                str(envelope.mail_from),
                list(envelope.rcpt_tos),
                list(envelope.mail_options),
                list(envelope.rcpt_options),
                raw,
                time.monotonic(),
                tls=session.ssl is not None,
            )
        )
        self.sink._changed.set()
        return f"250 2.0.0 Ok: queued as Q{len(self.sink.messages):06d}"


MAIL_SETTINGS = {
    "worker": "inline",
    "email_from": "Tickets <no-reply@tickets.test>",
    "email_retry_base_seconds": 0.3,
    "email_retry_max_seconds": 1.0,
    "email_max_age_seconds": 60,
    "message_email_delay_seconds": 1.5,
    "ses_topic_arns": ["arn:aws:sns:eu-west-1:1:ses-events"],
}


@pytest.fixture(scope="module")
async def sink() -> AsyncIterator[Sink]:
    server = Sink()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
async def mail_app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, sink: Sink
) -> AsyncIterator[RunningApp]:
    settings = make_settings(
        database_url, tmp_path_factory.mktemp("mail"), smtp_url=sink.url, **MAIL_SETTINGS
    )
    await empty_tables(database_url)  # conftest.empty_tables says why
    running = await start_app(settings)
    yield running
    await running.stop()


class Mail:
    """One test's view: clients for users, the sink, and shortcuts to the email log."""

    def __init__(self, app: RunningApp, sink: Sink):
        self.app = app
        self.sink = sink
        self._clients: list[httpx.AsyncClient] = []

    def client(self, user_id: str, role: str | None = None, **claims: Any) -> httpx.AsyncClient:
        c = self.app.client(user_id, role, **claims)
        self._clients.append(c)
        return c

    @property
    def admin(self) -> httpx.AsyncClient:
        return self.client("admin", "admin")

    @property
    def service(self) -> httpx.AsyncClient:
        return self.client("billing", "service")

    async def users(self, *user_ids: str) -> None:
        """Register users (name = title-cased id, email = id@example.com)."""
        service = self.service
        for user_id in user_ids:
            r = await service.put(
                f"/api/v1/users/{user_id}", json={"email": f"{user_id}@example.com", "name": user_id.title()}
            )
            assert r.status_code in (200, 201), r.text

    async def log(self, log_id: str) -> dict[str, Any]:
        r = await self.admin.get(f"/api/v1/email/logs/{log_id}")
        assert r.status_code == 200, r.text
        return r.json()

    async def wait_status(self, log_id: str, *statuses: str, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            entry = await self.log(log_id)
            if entry["status"] in statuses:
                return entry
            if time.monotonic() > deadline:
                raise AssertionError(f"log {log_id} is {entry['status']}, expected {statuses}: {entry}")
            await asyncio.sleep(0.05)

    async def settled(self, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        """The email logs once `count` exist and none is Pending (the relay can have an email a moment
        before its log says Sent)."""
        deadline = time.monotonic() + timeout
        while True:
            items = (await self.admin.get("/api/v1/email/logs", params={"limit": 200})).json()["items"]
            if len(items) >= count and all(i["status"] != "Pending" for i in items):
                return items
            if time.monotonic() > deadline:
                raise AssertionError(f"logs not settled: {[(i['templateName'], i['status']) for i in items]}")
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for c in self._clients:
            await c.aclose()


@pytest.fixture
async def mail(mail_app: RunningApp, sink: Sink) -> AsyncIterator[Mail]:
    # Tables were emptied for this test (conftest's clean_tables); forget the users this app had stored.
    mail_app.ctx.users._seen.clear()
    sink.reset()
    helper = Mail(mail_app, sink)
    yield helper
    await helper.close()


def self_signed(common_name: str, *, ip: str | None = None) -> tuple[Any, Any]:
    """A fresh RSA key and a one-day self-signed certificate for it (a relay's TLS, SNS's signing)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
    )
    if ip:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), critical=False
        )
    return key, builder.sign(key, hashes.SHA256())
