"""Transports and what they put on the wire: SMTP_URL parsing, a relay that is down then up, DKIM
signatures that verify, and Amazon SES (through moto's SES server)."""

from __future__ import annotations

import asyncio
import base64
import re
import ssl

import boto3
import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import free_port, make_settings, start_app
from tests.email.support import MAIL_SETTINGS, Mail, Sink, self_signed
from ticket_comms.email.transports import OutgoingEmail, SmtpTransport, parse_smtp_url

OTP = {"otp": {"code": "112233", "expiresInMinutes": 5}}
QUOTE = {"quote": {"number": "Q-9", "total": 12}}


def test_smtp_url_forms():
    plain = parse_smtp_url("smtp://relay.example.com")
    assert (plain.host, plain.port, plain.use_tls, plain.start_tls, plain.username) == (
        "relay.example.com",
        25,
        False,
        None,  # opportunistic: STARTTLS whenever the relay offers it
        None,
    )
    assert parse_smtp_url("smtp://h?starttls=false").start_tls is False
    assert parse_smtp_url("smtp://u:p@h").insecure is False
    assert parse_smtp_url("smtp://u:p@h?insecure=true").insecure is True
    tls = parse_smtp_url("smtps://user%40corp:p%3Ass@mail.example.com")
    assert (tls.port, tls.use_tls, tls.username, tls.password) == (465, True, "user@corp", "p:ss")
    starttls = parse_smtp_url("smtp://u:p@mail.example.com?starttls=true&pool=4")
    assert (starttls.port, starttls.start_tls, starttls.use_tls, starttls.pool_size) == (587, True, False, 4)
    assert parse_smtp_url("smtp://h:2525?verify=false").validate_certs is False
    for bad in ("http://h", "smtp://", "smtp:///x"):
        with pytest.raises(ValueError):
            parse_smtp_url(bad)


async def sent(mail: Mail, event_type: str, data: dict, status: str = "Sent", timeout: float = 15) -> dict:
    await mail.users("carol")
    r = await mail.service.post(
        "/api/v1/events", json={"type": event_type, "recipientIds": ["carol"], "data": data}
    )
    assert r.status_code == 202, r.text
    return await mail.wait_status(r.json()["deliveries"][0]["emailLogId"], status, timeout=timeout)


async def test_relay_down_then_up_is_retried(database_url, tmp_path):
    port = free_port()
    app = await start_app(
        make_settings(database_url, tmp_path, smtp_url=f"smtp://127.0.0.1:{port}", **MAIL_SETTINGS)
    )
    sink = Sink(port=port)
    mail = Mail(app, sink)
    try:
        await mail.users("carol")
        r = await mail.service.post(
            "/api/v1/events", json={"type": "OTPRequested", "recipientIds": ["carol"], "data": OTP}
        )
        log_id = r.json()["deliveries"][0]["emailLogId"]
        for _ in range(100):
            entry = await mail.log(log_id)
            if any(e["type"] == "deferred" for e in entry["events"]):
                break
            await asyncio.sleep(0.05)
        assert entry["status"] == "Pending" and "connection failed" in entry["errorMessage"]
        await sink.start()  # the relay comes back
        entry = await mail.wait_status(log_id, "Sent", timeout=20)
        assert entry["attempts"] >= 2 and entry["errorMessage"] is None
        assert [m.rcpt_tos for m in sink.messages] == [["carol@example.com"]]
    finally:
        await mail.close()
        await app.stop()
        await sink.stop()


async def test_dkim_signature_verifies_and_covers_the_unsubscribe_headers(database_url, tmp_path, sink: Sink):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    app = await start_app(
        make_settings(
            database_url,
            tmp_path,
            smtp_url=sink.url,
            dkim_private_key=pem,
            dkim_selector="s2026",
            dkim_domain="tickets.test",
            **MAIL_SETTINGS,
        )
    )
    sink.reset()
    mail = Mail(app, sink)
    try:
        await sent(mail, "QuoteCreated", QUOTE)
        raw = sink.messages[0].raw
        assert raw.startswith(b"DKIM-Signature:")
        tags = sink.messages[0].header("DKIM-Signature")
        assert "d=tickets.test" in tags and "s=s2026" in tags
        signed = re.search(r"h=([^;]+)", tags.replace(" ", "").replace("\n", ""))
        assert signed and {"list-unsubscribe", "list-unsubscribe-post", "from", "subject"} <= set(
            signed.group(1).lower().split(":")
        )
        record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

        def dns(name: bytes, timeout: int = 5) -> bytes:
            assert name == b"s2026._domainkey.tickets.test."
            return record

        assert dkim.verify(raw, dnsfunc=dns)
        assert not dkim.verify(raw.replace(b"Q-9", b"Q-8"), dnsfunc=dns)
    finally:
        await mail.close()
        await app.stop()


@pytest.fixture
def ses_server():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    with pytest.MonkeyPatch.context() as env:
        for name, value in {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1",
        }.items():
            env.setenv(name, value)
        env.delenv("AWS_PROFILE", raising=False)
        yield boto3.client("sesv2")
    server.stop()


async def test_ses_transport(database_url, tmp_path, ses_server):
    settings = {**MAIL_SETTINGS, "email_provider": "ses"}
    app = await start_app(make_settings(database_url, tmp_path, **settings))
    mail = Mail(app, Sink())
    try:
        # SES refuses a sender it has not verified: a permanent failure, with SES's words.
        refused = await sent(mail, "OTPRequested", OTP, status="Failed")
        assert "MessageRejected" in refused["errorMessage"] and refused["attempts"] == 1
        ses_server.create_email_identity(EmailIdentity="tickets.test")
        accepted = await sent(mail, "OTPRequested", OTP)
        assert accepted["providerMessageId"] and accepted["attempts"] == 1
        assert accepted["events"][-1]["type"] == "sent"
    finally:
        await mail.close()
        await app.stop()


async def test_without_smtp_url_emails_land_in_the_dev_mailbox(database_url, tmp_path):
    app = await start_app(make_settings(database_url, tmp_path, **MAIL_SETTINGS))  # SMTP_URL unset
    mail = Mail(app, Sink())
    try:
        entry = await sent(mail, "QuoteCreated", QUOTE)
        box = (await app.client().get("/dev/mailbox.json")).json()  # loopback client
        assert [(m["messageId"], m["subject"]) for m in box["items"]] == [
            (entry["messageId"], entry["subject"])
        ]
        assert box["items"][0]["mailFrom"].startswith("bounces+")
        assert box["items"][0]["mailFrom"].endswith("@tickets.test")
    finally:
        await mail.close()
        await app.stop()


def server_tls(tmp_path) -> ssl.SSLContext:
    """A TLS server context with a self-signed certificate for 127.0.0.1."""
    key, cert = self_signed("relay.test", ip="127.0.0.1")
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    return context


@pytest.mark.parametrize("mode", ["starttls", "smtps"])
async def test_tls_and_auth_from_smtp_url(database_url, tmp_path, mode):
    from aiosmtpd.smtp import AuthResult

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"mailer", b"s3cret:pw"))

    context = server_tls(tmp_path)
    options = {"authenticator": authenticator, "auth_required": True}
    if mode == "starttls":
        sink = Sink(smtp_options={**options, "tls_context": context, "require_starttls": True})
    else:
        # aiosmtpd does not notice TLS set up by the listening socket; AUTH still runs inside it.
        sink = Sink(
            smtp_options={"authenticator": authenticator, "auth_require_tls": False}, implicit_tls=context
        )
    await sink.start()
    scheme = "smtp" if mode == "starttls" else "smtps"
    query = "starttls=true&verify=false" if mode == "starttls" else "verify=false"
    url = f"{scheme}://mailer:s3cret%3Apw@127.0.0.1:{sink.port}?{query}"
    app = await start_app(make_settings(database_url, tmp_path, smtp_url=url, **MAIL_SETTINGS))
    mail = Mail(app, sink)
    try:
        await sent(mail, "OTPRequested", OTP)
        assert [m.rcpt_tos for m in sink.messages] == [["carol@example.com"]]
        assert logins == [(b"mailer", b"s3cret:pw")]
    finally:
        await mail.close()
        await app.stop()
        await sink.stop()


def _tls_seen(sink: Sink) -> list[bool]:
    return [m.tls for m in sink.messages]


async def _send_one(url: str) -> object:
    transport = SmtpTransport(parse_smtp_url(url), timeout=10)
    try:
        raw = b"From: a@tickets.test\r\nTo: carol@example.com\r\nSubject: hi\r\n\r\nhello\r\n"
        return await transport.send(OutgoingEmail("log-1", "a@tickets.test", "carol@example.com", raw))
    finally:
        await transport.close()


async def test_starttls_is_used_whenever_the_relay_offers_it(tmp_path):
    sink = Sink(smtp_options={"tls_context": server_tls(tmp_path)})
    await sink.start()
    try:
        result = await _send_one(f"smtp://127.0.0.1:{sink.port}?verify=false")
        assert result.ok, result
        assert _tls_seen(sink) == [True]
        # Switched off explicitly, the same relay is used in clear.
        result = await _send_one(f"smtp://127.0.0.1:{sink.port}?starttls=false")
        assert result.ok, result
        assert _tls_seen(sink) == [True, False]
    finally:
        await sink.stop()


async def test_a_password_is_never_sent_in_clear_unless_insecure_is_asked_for():
    from aiosmtpd.smtp import AuthResult

    logins: list[bytes] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append(auth_data.password)
        return AuthResult(success=True)

    sink = Sink(smtp_options={"authenticator": authenticator, "auth_require_tls": False})
    await sink.start()
    try:
        result = await _send_one(f"smtp://mailer:s3cret@127.0.0.1:{sink.port}")
        assert not result.ok and "insecure=true" in result.reply, result
        assert logins == [] and sink.messages == []
        result = await _send_one(f"smtp://mailer:s3cret@127.0.0.1:{sink.port}?insecure=true")
        assert result.ok, result
        assert logins == [b"s3cret"] and len(sink.messages) == 1
    finally:
        await sink.stop()
