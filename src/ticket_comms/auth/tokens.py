"""JWT verification (HS256 secret, or RS256/ES256 keys from a JWKS) and dev token minting."""

from __future__ import annotations

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


@dataclass(frozen=True, slots=True)
class Claims:
    user_id: str
    role: str
    email: str | None
    name: str | None
    expires_at: int


class TokenVerifier:
    """Verifies bearer tokens. Verified tokens are remembered for a minute (never past their `exp`):
    clients send the same token on every request, and a signature check is the largest fixed cost of
    a small request."""

    def __init__(self, settings: Settings):
        self._verified: TTLCache[str, Claims] = TTLCache(maxsize=50_000, ttl=60)
        self.secret = settings.jwt_secret
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.jwks = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True) if settings.jwt_jwks_url else None

    def verify(self, token: str | None) -> Claims:
        if not token or not isinstance(token, str):
            raise Unauthenticated()
        claims = self._verified.get(token)
        if claims is not None and claims.expires_at > time.time():
            return claims
        claims = self._verify(token)
        self._verified[token] = claims
        return claims

    def _verify(self, token: str) -> Claims:
        options: Any = {"require": ["exp", "sub"], "verify_aud": self.audience is not None}
        try:
            if self.jwks is not None:
                key: Any = self.jwks.get_signing_key_from_jwt(token).key
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
