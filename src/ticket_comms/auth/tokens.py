"""JWT verification (HS256 secret, or RS256/ES256 keys from a JWKS) and dev token minting."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cachetools import TTLCache

from ticket_comms.config import Settings
from ticket_comms.errors import Unauthenticated

# A fixed allow-list: the token's header never chooses the algorithm family ("none", or HS256
# signed with a public key, are refused).
SECRET_ALGORITHMS = ["HS256"]
JWKS_ALGORITHMS = ["RS256", "ES256"]
ROLES = ("admin", "service")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Claims:
    user_id: str
    role: str
    email: str | None
    name: str | None
    expires_at: int


class UnknownSigningKey(Unauthenticated):
    """The token is signed with a key we do not know (yet)."""


class Jwks:
    """The identity provider's signing keys, fetched off the event loop and kept in memory.

    A token naming an unknown `kid` (a key rotation, or an attacker) never makes a request wait on
    the identity provider inside the event loop: the fetch runs in a thread, one at a time, at most
    once per `min_refresh_seconds`, with a timeout; keys older than `max_age_seconds` are refreshed
    in the background while the ones held keep working.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 5.0,
        min_refresh_seconds: float = 10.0,
        max_age_seconds: float = 300.0,
        max_keys: int = 50,
    ):
        self.client = jwt.PyJWKClient(url, cache_keys=False, cache_jwk_set=False, timeout=timeout)
        self.timeout = timeout
        self.min_refresh_seconds = min_refresh_seconds
        self.max_age_seconds = max_age_seconds
        self.max_keys = max_keys
        self.keys: dict[str | None, jwt.PyJWK] = {}
        self.fetches = 0
        self._fetched_at = -math.inf
        self._attempted_at = -math.inf
        self._refresh: asyncio.Task[None] | None = None

    def key_for(self, kid: str | None) -> jwt.PyJWK | None:
        """The signing key for `kid`, from memory only; schedules a refresh when unknown or stale."""
        key = self.keys.get(kid)
        if kid is None and key is None and len(self.keys) == 1:
            key = next(iter(self.keys.values()))  # a token without `kid` and a JWKS of one key
        if key is None or time.monotonic() - self._fetched_at > self.max_age_seconds:
            self.refresh_soon()
        return key

    def refresh_soon(self) -> asyncio.Task[None] | None:
        """The fetch in flight, or a new one unless one ran too recently (None then)."""
        if self._refresh is not None and not self._refresh.done():
            return self._refresh
        now = time.monotonic()
        if now - self._attempted_at < self.min_refresh_seconds:
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None  # no event loop (a script): keys are fetched by the first async caller
        self._attempted_at = now
        self._refresh = loop.create_task(self._fetch(), name="jwks-refresh")
        return self._refresh

    async def _fetch(self) -> None:
        self.fetches += 1
        try:
            data = await asyncio.wait_for(asyncio.to_thread(self.client.fetch_data), self.timeout + 1)
            found = jwt.PyJWKSet.from_dict(data).keys
        except Exception as exc:  # the identity provider is down or answers nonsense: keep what we have
            log.warning("could not fetch the JWKS", extra={"fields": {"error": repr(exc)[:300]}})
            return
        keys = [k for k in found if k.public_key_use in (None, "sig")][: self.max_keys]
        self.keys = {k.key_id: k for k in keys}
        self._fetched_at = time.monotonic()

    async def wait_for_refresh(self) -> None:
        task = self.refresh_soon()
        if task is not None:
            # Shielded: a caller that gives up does not cancel the fetch others wait on.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(task), self.timeout + 2)


class TokenVerifier:
    """Verifies bearer tokens. Verified tokens are remembered for a minute (never past their `exp`):
    clients send the same token on every request, and a signature check is the largest fixed cost of
    a small request."""

    def __init__(self, settings: Settings):
        self._verified: TTLCache[str, Claims] = TTLCache(maxsize=50_000, ttl=60)
        self.secret = settings.jwt_secret
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.jwks = Jwks(settings.jwt_jwks_url) if settings.jwt_jwks_url else None

    def verify(self, token: str | None) -> Claims:
        """Verify with what is in memory; never waits on the network (a JWKS refresh, if one is
        needed, starts in the background and this token is refused). Prefer `authenticate`."""
        if not token or not isinstance(token, str):
            raise Unauthenticated()
        claims = self._verified.get(token)
        if claims is not None and claims.expires_at > time.time():
            return claims
        claims = self._verify(token)
        self._verified[token] = claims
        return claims

    async def authenticate(self, token: str | None) -> Claims:
        """`verify`, but a token signed with a key we have not fetched yet waits for the fetch
        (running off the event loop, shared with every other such request)."""
        try:
            return self.verify(token)
        except UnknownSigningKey:
            assert self.jwks is not None
            await self.jwks.wait_for_refresh()
            return self.verify(token)

    def _verify(self, token: str) -> Claims:
        options: Any = {"require": ["exp", "sub"], "verify_aud": self.audience is not None}
        try:
            if self.jwks is not None:
                kid = jwt.get_unverified_header(token).get("kid")
                if kid is not None and not isinstance(kid, str):
                    raise Unauthenticated("Invalid token: bad 'kid' header")
                signing_key = self.jwks.key_for(kid)
                if signing_key is None:
                    raise UnknownSigningKey()
                key: Any = signing_key.key
                algorithms = JWKS_ALGORITHMS
            else:
                key, algorithms = self.secret, SECRET_ALGORITHMS
            payload = jwt.decode(
                token, key, algorithms=algorithms, audience=self.audience, issuer=self.issuer, options=options
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise Unauthenticated(f"Invalid token: {exc}") from None
        sub = payload.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 255:
            raise Unauthenticated("Invalid token: bad 'sub' claim")
        role = payload.get("role")
        return Claims(
            user_id=sub,
            role=role if isinstance(role, str) and role in ROLES else "member",
            email=_str_claim(payload.get("email")),
            name=_str_claim(payload.get("name")),
            expires_at=int(payload["exp"]),
        )


def _str_claim(value: Any) -> str | None:
    return value[:320] if isinstance(value, str) and value else None


def mint(
    settings: Settings,
    user_id: str,
    *,
    role: str | None = None,
    email: str | None = None,
    name: str | None = None,
    ttl_seconds: int = 24 * 3600,
    now: int | None = None,
) -> str:
    """A dev token signed with JWT_SECRET (the CLI's `token` command, dev sign-in and the tests use it)."""
    now = int(time.time()) if now is None else now
    payload: dict[str, Any] = {"sub": user_id, "iat": now, "exp": now + ttl_seconds}
    if role:
        payload["role"] = role
    if email:
        payload["email"] = email
    if name:
        payload["name"] = name
    if settings.jwt_issuer:
        payload["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        payload["aud"] = settings.jwt_audience
    return jwt.encode(payload, settings.jwt_secret, algorithm="HS256")
