"""A local push service for the tests: a real HTTP server (aiohttp) on 127.0.0.1 that does what FCM or
Mozilla's autopush do with a push, and checks it the way they would:
- the VAPID token (RFC 8292): `Authorization: vapid t=<JWT>, k=<key>`, the key the app publishes,
  an ES256 signature that verifies against it, `aud` = this server's origin, `exp` in the future and
  within 24 hours, `sub` a mailto: or https: contact;
- the RFC 8030 headers: TTL, Urgency, Topic (at most 32 base64url characters);
- the body (RFC 8291 `aes128gcm`), decrypted here with the subscriber's private key and auth secret.
  The decryption is written out from the RFC with `cryptography`, not with the library the service
  encrypts with, so a mistake shared by both sides cannot pass.
Each subscription can be scripted to answer 201, 429 with Retry-After, 500, 404, 410, or to hang.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import jwt
import orjson
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


@dataclass
class Subscriber:
    """A browser's side of a subscription: its key pair and auth secret, and its endpoint here."""

    token: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def subscription_json(self) -> dict[str, Any]:
        """What `PushSubscription.toJSON()` gives."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(self.public_bytes), "auth": b64url(self.auth_secret)},
        }

    def decrypt(self, body: bytes) -> bytes:
        """RFC 8291 §3.4 + RFC 8188: one record, key id = the sender's ephemeral public key."""
        salt, rs, idlen = body[:16], struct.unpack("!I", body[16:20])[0], body[20]
        sender = body[21 : 21 + idlen]
        ciphertext = body[21 + idlen :]
        if idlen != 65 or len(ciphertext) > rs:
            raise ValueError(f"unexpected aes128gcm header (idlen={idlen}, rs={rs}, {len(ciphertext)} bytes)")
        sender_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender)
        shared = self.private_key.exchange(ec.ECDH(), sender_key)
        ikm = _hkdf(self.auth_secret, shared, b"WebPush: info\x00" + self.public_bytes + sender, 32)
        cek = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
        nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
        stripped = padded.rstrip(b"\x00")
        if not stripped.endswith(b"\x02"):
            raise ValueError("the last record does not end with the 0x02 delimiter")
        return stripped[:-1]


@dataclass
class Received:
    token: str
    payload: dict[str, Any]
    headers: dict[str, str]
    claims: dict[str, Any]
    status: int
    # When the request arrived (before any scripted delay).
    at: float


@dataclass
class PushService:
    host: str = "127.0.0.1"
    port: int = 0
    # The VAPID public key (base64url) the app publishes; pushes signed with another key are refused.
    vapid_key: str | None = None
    received: list[Received] = field(default_factory=list)
    # Pushes that failed a check: (token, what was wrong). A correct sender leaves this empty.
    rejected: list[tuple[str, str]] = field(default_factory=list)
    # Requests that arrived, whatever became of them (including hung ones), by token.
    requests: list[tuple[str, float]] = field(default_factory=list)
    scripts: dict[str, list[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)
    hang: set[str] = field(default_factory=set)
    # Seconds to wait before answering (keeps requests in flight for the crash test).
    delay: float = 0.0
    subscribers: dict[str, Subscriber] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/push/{token}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self._released.set()  # hung requests end
        if self._runner is not None:
            await self._runner.cleanup()

    def reset(self) -> None:
        self.received.clear()
        self.rejected.clear()
        self.requests.clear()
        self.scripts.clear()
        self.hang.clear()
        self.delay = 0.0

    def subscriber(self, name: str | None = None) -> Subscriber:
        token = name or b64url(os.urandom(9))
        sub = Subscriber(
            token,
            f"{self.origin}/push/{token}",
            ec.generate_private_key(ec.SECP256R1()),
            os.urandom(16),
        )
        self.subscribers[token] = sub
        return sub

    def script(
        self, sub: Subscriber, *answers: int | tuple[int, dict[str, str]] | tuple[int, dict[str, str], bytes]
    ) -> None:
        """The next answers for this subscription, in order (201 once they run out): a status, or
        (status, headers), or (status, headers, body)."""
        self.scripts[sub.token] = [
            (a, {}, b"") if isinstance(a, int) else (a[0], a[1], a[2] if len(a) > 2 else b"")  # type: ignore[misc]
            for a in answers
        ]

    def to(self, sub: Subscriber) -> list[Received]:
        return [r for r in self.received if r.token == sub.token and 200 <= r.status < 300]

    async def wait_for(
        self, count: int, sub: Subscriber | None = None, timeout: float = 15
    ) -> list[Received]:
        """Until `count` pushes were accepted (for `sub`, or in all)."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.to(sub) if sub else [r for r in self.received if 200 <= r.status < 300]
            if len(got) >= count:
                return got
            if self.rejected:
                raise AssertionError(f"the push service refused pushes: {self.rejected}")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{len(got)} of {count} pushes arrived")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))
            except TimeoutError:
                pass

    def _refuse(self, token: str, status: int, reason: str) -> web.Response:
        self.rejected.append((token, reason))
        self._changed.set()
        return web.Response(status=status, text=reason)

    def _check_vapid(self, header: str) -> dict[str, Any]:
        scheme, _, params = header.partition(" ")
        if scheme.lower() != "vapid":
            raise ValueError(f"Authorization scheme is {scheme!r}, not vapid")
        parts = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        token, key = parts.get("t"), parts.get("k")
        if not token or not key:
            raise ValueError("vapid needs t= and k=")
        if self.vapid_key is not None and key != self.vapid_key:
            raise ValueError("k is not the application server key the subscription was made with")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        header_fields = jwt.get_unverified_header(token)
        if header_fields.get("alg") != "ES256":
            raise ValueError(f"JWT alg is {header_fields.get('alg')}")
        claims = jwt.decode(
            token,
            public,
            algorithms=["ES256"],
            audience=self.origin,
            options={"require": ["exp", "aud", "sub"]},
        )
        if claims["exp"] > time.time() + 24 * 3600:
            raise ValueError("exp is more than 24 hours ahead")
        if not str(claims["sub"]).startswith(("mailto:", "https:")):
            raise ValueError("sub is neither mailto: nor https:")
        return claims

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        arrived = time.monotonic()
        self.requests.append((token, arrived))
        body = await request.read()
        sub = self.subscribers.get(token)
        if sub is None:
            return self._refuse(token, 404, "unknown subscription")
        try:
            claims = self._check_vapid(request.headers.get("Authorization", ""))
        except (ValueError, jwt.PyJWTError) as exc:
            return self._refuse(token, 401, f"VAPID: {exc}")
        ttl = request.headers.get("TTL", "")
        if not ttl.isdigit():
            return self._refuse(token, 400, "TTL header missing or not a number")
        if request.headers.get("Urgency", "normal") not in ("very-low", "low", "normal", "high"):
            return self._refuse(token, 400, "bad Urgency")
        topic = request.headers.get("Topic")
        if topic is not None and not TOPIC.match(topic):
            return self._refuse(token, 400, f"Topic {topic!r} is not ≤ 32 base64url characters")
        if request.headers.get("Content-Encoding") != "aes128gcm":
            return self._refuse(token, 415, "Content-Encoding must be aes128gcm")
        try:
            payload = orjson.loads(sub.decrypt(body))
        except Exception as exc:
            return self._refuse(token, 400, f"cannot decrypt: {exc.__class__.__name__}: {exc}")
        if token in self.hang:
            await self._released.wait()
            return web.Response(status=503)
        if self.delay:
            await asyncio.sleep(self.delay)
        queue = self.scripts.get(token)
        status, headers, answer = queue.pop(0) if queue else (201, {}, b"")
        self.received.append(Received(token, payload, dict(request.headers), claims, status, arrived))
        self._changed.set()
        return web.Response(status=status, headers=headers, body=answer)
