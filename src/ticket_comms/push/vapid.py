"""The VAPID key (RFC 8292) that identifies this service to push services: loaded from VAPID_PRIVATE_KEY,
or generated once into DATA_DIR in development; and the `Authorization: vapid t=..., k=...` header,
signed by py-vapid and reused per push-service origin until shortly before it expires."""

from __future__ import annotations

import base64
import binascii
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from ticket_comms.config import Settings

log = logging.getLogger(__name__)

KEY_FILE = Path("push") / "vapid-private.pem"
# RFC 8292 caps `exp` at 24 h from now; a token lives 12 h and is renewed when under an hour remains,
# so a push service whose clock runs a little ahead still accepts it.
TOKEN_LIFETIME_SECONDS = 12 * 3600
TOKEN_RENEW_BEFORE_SECONDS = 3600


class VapidKeyError(ValueError):
    """VAPID_PRIVATE_KEY or VAPID_SUBJECT cannot be used."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Strict base64url (padding optional); raises ValueError on anything else."""
    cleaned = text.strip()
    if not cleaned or any(c not in _B64URL for c in cleaned.rstrip("=")):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(cleaned.rstrip("=") + "=" * (-len(cleaned.rstrip("=")) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64url") from exc


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def parse_private_key(value: str) -> ec.EllipticCurvePrivateKey:
    """A P-256 private key from PEM (PKCS#8 or SEC1), or base64url of the raw 32-byte scalar (what
    `web-push generate-vapid-keys` prints) or of DER."""
    text = value.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = b64url_decode(text.replace("\n", ""))
            if len(raw) == 32:
                key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
            else:
                key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError) as exc:
        raise VapidKeyError(f"VAPID_PRIVATE_KEY is neither a PEM key nor base64url: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise VapidKeyError("VAPID_PRIVATE_KEY must be an EC key on the P-256 curve (prime256v1).")
    return key


def _generated_key(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The development key: generated on first use and kept in DATA_DIR, so subscriptions made by
    browsers stay valid across restarts. Several processes may start at once: the first link wins."""
    path = data_dir.expanduser() / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        try:
            os.link(tmp, path)  # fails if another process got there first; theirs is kept
            log.warning(
                "VAPID_PRIVATE_KEY is not set: generated a development key",
                extra={"fields": {"path": str(path)}},
            )
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return parse_private_key(path.read_text())


def subject_for(settings: Settings) -> str:
    """VAPID_SUBJECT, else a contact derived from PUBLIC_BASE_URL (https) or EMAIL_FROM."""
    if settings.vapid_subject:
        subject = settings.vapid_subject.strip()
        if not (subject.startswith("mailto:") or subject.startswith("https://")):
            raise VapidKeyError("VAPID_SUBJECT must be a mailto: or https: URL.")
        return subject
    if settings.base_url.startswith("https://"):
        return settings.base_url
    address = parseaddr(settings.email_from)[1] or "no-reply@localhost"
    return f"mailto:{address}"


@dataclass
class VapidSigner:
    """Signs VAPID tokens with one key; tokens are cached per audience (push-service origin)."""

    key: ec.EllipticCurvePrivateKey
    subject: str
    _vapid: Vapid02 = field(init=False)
    _cache: dict[str, tuple[float, str]] = field(init=False, default_factory=dict)
    public_key: str = field(init=False)

    def __post_init__(self) -> None:
        self._vapid = Vapid02(self.key)
        # Our own subject check: py-vapid's is an email regex that refuses valid internal names.
        self._vapid.conf["no-strict"] = True
        point = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.public_key = b64url(point)

    def authorization(self, audience: str, now: float | None = None) -> str:
        """The `Authorization` header value for a push to a service at `audience` (scheme://host[:port])."""
        now = time.time() if now is None else now
        cached = self._cache.get(audience)
        if cached is not None and cached[0] - now > TOKEN_RENEW_BEFORE_SECONDS:
            return cached[1]
        expires = int(now) + TOKEN_LIFETIME_SECONDS
        header = self._vapid.sign({"aud": audience, "exp": expires, "sub": self.subject})["Authorization"]
        self._cache[audience] = (expires, header)
        return str(header)


def load_signer(settings: Settings) -> VapidSigner:
    """The signer for these settings; loaded once per process (the key file is read only once)."""
    cache_key = (
        settings.vapid_private_key,
        subject_for(settings),
        str(settings.data_dir.expanduser().resolve()),
    )
    signer = _signers.get(cache_key)
    if signer is None:
        if settings.vapid_private_key:
            key = parse_private_key(settings.vapid_private_key)
        else:
            if not settings.is_development:
                # It works while DATA_DIR persists and is shared, but a lost file orphans every subscription.
                log.warning("VAPID_PRIVATE_KEY is not set outside development; see docs/operations.md")
            key = _generated_key(settings.data_dir)
        signer = _signers[cache_key] = VapidSigner(key, cache_key[1])
    return signer


_signers: dict[tuple[str | None, str, str], VapidSigner] = {}


def is_development(settings: Settings) -> bool:
    """Development as everywhere else (Settings.is_development: PUBLIC_BASE_URL on this machine)."""
    return settings.is_development
