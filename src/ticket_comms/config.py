"""Settings: every knob the contract names, read from the environment (or a `.env` file)."""

from __future__ import annotations

import functools
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "ticket-comms-dev-secret-change-me-0123456789"
# Shorter secrets can be brute-forced offline from one signed token or link.
MIN_SECRET_LENGTH = 32
SIGNING_SECRET_FILE = "signing-secret"
DEVELOPMENT_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./.data")
    database_url: str | None = None
    database_pool_size: int = 20
    redis_url: str | None = None

    jwt_secret: str = DEV_JWT_SECRET
    # Signs attachment download links and unsubscribe tokens. Separate from JWT_SECRET, which keeps
    # its public built-in value when tokens are verified against a JWKS. Unset in development: one is
    # generated into DATA_DIR; outside development `serve` refuses to start without it.
    signing_secret: str | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None

    smtp_url: str | None = None
    email_provider: str = "smtp"
    email_from: str = "Tickets <no-reply@localhost>"
    public_base_url: str | None = None
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    max_upload_bytes: int = 26_214_400
    # Uploaded images are decoded in worker processes (attachments/imageworkers.py): how many, and the
    # address space and CPU seconds each image may take there.
    image_workers: int = Field(default=1, ge=1, le=32)
    image_memory_bytes: int = Field(default=1_073_741_824, ge=64 * 1024 * 1024)
    image_cpu_seconds: int = Field(default=10, ge=1)
    worker: str = "inline"
    email_retry_base_seconds: float = 60
    email_retry_max_seconds: float = 3600
    email_max_age_seconds: float = 172_800
    message_email_delay_seconds: float = 120
    # Web Push (push/): the VAPID key (PEM or base64url; unset: generated once in DATA_DIR, development),
    # its subject (mailto: or https:), and how long a chat message stays unread before it is pushed.
    vapid_private_key: str | None = None
    vapid_subject: str | None = None
    push_message_delay_seconds: float = Field(default=10, ge=0)
    # Extensions: retries of a push answered 429/5xx (or not answered) wait this long, doubling, capped.
    push_retry_base_seconds: float = Field(default=5, gt=0)
    push_retry_max_seconds: float = Field(default=900, gt=0)
    # A push service that has not answered within this long is retried later (its slot is freed).
    push_timeout_seconds: float = Field(default=15, gt=0)
    bounce_address: str | None = None
    # Reply by email (replies/): unset, off. Ticket emails carry Reply-To <REPLY_LOCAL_PART>+<token>@REPLY_DOMAIN.
    reply_domain: str | None = None
    reply_local_part: str = "reply"
    # Extensions: a reply address stops working this long after its email; mail over REPLY_MAX_BYTES is refused.
    reply_token_max_age_days: int = Field(default=180, ge=1)
    reply_max_bytes: int = Field(default=10 * 1024 * 1024, ge=64 * 1024)
    # Extension: this many soft bounces (4.x.x) to one address within the window suppress it for a while.
    soft_bounce_threshold: int = Field(default=5, ge=1)
    soft_bounce_window_seconds: float = Field(default=7 * 86400, gt=0)
    soft_bounce_suppress_seconds: float = Field(default=3 * 86400, gt=0)
    # Open and click tracking (email/tracking.py): the templates (JSON lists of names) whose emails get a
    # pixel / signed redirect links. Empty (the default): no tracking.
    email_track_opens_templates: list[str] = Field(default_factory=list)
    email_track_clicks_templates: list[str] = Field(default_factory=list)
    inbound_smtp_port: int | None = None
    dkim_private_key: str | None = None
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    # Extension: the SES configuration set whose event destinations publish Delivery/Bounce/Complaint to SNS.
    ses_configuration_set: str | None = None
    # The SNS topics (ARNs, a JSON list) whose SES events are accepted; any other topic is refused and
    # its subscription never confirmed. Empty: no SES events are accepted.
    ses_topic_arns: list[str] = Field(default_factory=list)
    # The networks (a JSON list of CIDRs) the inbound SMTP listener accepts mail from.
    inbound_smtp_networks: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])

    # Extensions beyond the contract.
    cors_origins: list[str] = Field(default_factory=list)
    socketio_origins: list[str] = Field(default_factory=list)
    # Engine.IO heartbeat (socket.io's pingInterval/pingTimeout): a client that leaves a ping
    # unanswered for the timeout is disconnected.
    socketio_ping_interval: float = Field(default=25.0, gt=0)
    socketio_ping_timeout: float = Field(default=20.0, gt=0)
    # Per-user rate limits and quotas (ticket_comms/ratelimits.py): `limits` strings, windows joined by ";".
    rate_limits_enabled: bool = True
    rate_limit_message_send: str = "30 per 10 seconds; 120 per minute"
    rate_limit_message_edit: str = "30 per minute"
    rate_limit_reaction: str = "60 per minute"
    rate_limit_upload: str = "30 per minute; 1000 per day"
    rate_limit_upload_bytes: str = "2147483648 per day"  # 2 GiB of uploads per user per day
    rate_limit_search: str = "120 per minute"
    # Per service (or admin) caller of POST /events: a product backend raising events for everyone.
    rate_limit_event: str = "6000 per minute"
    # Per client address of the public POST /push/subscription-change (service workers, no JWT).
    rate_limit_push_subscription_change: str = "10 per minute; 100 per day"
    # WebSocket per-message compression: off when unset; when set, offered to clients and used only for
    # messages of at least this many bytes (chat events are a few hundred bytes: compressing them costs
    # CPU per recipient and ~34 KB of zlib state per socket, and saves almost nothing).
    socketio_compression_threshold: int | None = Field(default=None, ge=0)
    # /metrics: with METRICS_PORT set, served only there (on HOST, without a token; keep the port
    # private to the scraper's network); unset, on the main port to admin tokens only.
    metrics_port: int | None = Field(default=None, ge=1, le=65535)
    # The dev mailbox (an SMTP sink shown at /dev/mailbox, used when SMTP_URL is unset). Unset: on in
    # development (PUBLIC_BASE_URL on this machine) only.
    dev_mailbox: bool | None = None
    migrate_on_start: bool = True
    # In development (the dev JWT secret in use), `serve` fills an empty database with the demo
    # tickets and users; DEMO_DATA=false keeps it empty.
    demo_data: bool = True
    log_level: str = "INFO"
    app_name: str = "Tickets"
    # Where the web app sends a signed-out user (the host product's sign-in); unset in development: /dev/login.
    web_sign_in_url: str | None = None

    @property
    def using_dev_secret(self) -> bool:
        return self.jwt_secret == DEV_JWT_SECRET and not self.jwt_jwks_url

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://localhost:{self.port}").rstrip("/")

    @property
    def is_development(self) -> bool:
        """Development means the service is only reachable on this machine: PUBLIC_BASE_URL on localhost."""
        host = (urlsplit(self.base_url).hostname or "").lower()
        return host in DEVELOPMENT_HOSTS or host.endswith(".localhost")

    @property
    def dev_mailbox_enabled(self) -> bool:
        return self.is_development if self.dev_mailbox is None else self.dev_mailbox

    @property
    def signing_key(self) -> str:
        """The secret for signed links and tokens: SIGNING_SECRET, or in development the one in DATA_DIR."""
        if self.signing_secret:
            return self.signing_secret
        if self.is_development:
            return _development_signing_secret(self.data_dir.expanduser().resolve())
        raise RuntimeError("SIGNING_SECRET must be set outside development (see docs/operations.md)")

    def secret_problems(self) -> list[str]:
        """Why these secrets must not face the internet; empty in development, where anything goes."""
        if self.is_development:
            return []
        problems = []
        if not self.jwt_jwks_url:
            if self.jwt_secret == DEV_JWT_SECRET:
                problems.append(
                    "JWT_SECRET is the built-in development secret, which is public. Set JWT_SECRET to a "
                    f"random value of at least {MIN_SECRET_LENGTH} characters (e.g. `openssl rand -base64 48`), "
                    "or JWT_JWKS_URL to verify your identity provider's tokens."
                )
            elif len(self.jwt_secret) < MIN_SECRET_LENGTH:
                problems.append(
                    f"JWT_SECRET is shorter than {MIN_SECRET_LENGTH} characters. Set it to a random value "
                    "(e.g. `openssl rand -base64 48`), or set JWT_JWKS_URL."
                )
        if not self.signing_secret:
            problems.append(
                "SIGNING_SECRET is not set. It signs attachment links and unsubscribe links: set it to a "
                f"random value of at least {MIN_SECRET_LENGTH} characters (e.g. `openssl rand -base64 48`)."
            )
        elif len(self.signing_secret) < MIN_SECRET_LENGTH:
            problems.append(
                f"SIGNING_SECRET is shorter than {MIN_SECRET_LENGTH} characters; use a random value."
            )
        elif self.signing_secret == self.jwt_secret:
            problems.append("SIGNING_SECRET must differ from JWT_SECRET.")
        return problems


class UnsafeSecrets(RuntimeError):
    """The secrets are not fit for a service reachable from other machines."""

    def __init__(self, settings: Settings, problems: list[str]):
        lines = [
            f"refusing to start: PUBLIC_BASE_URL ({settings.base_url}) is not on this machine, and",
            *(f"  - {problem}" for problem in problems),
            "The production checklist is in docs/operations.md.",
        ]
        super().__init__("\n".join(lines))


def check_secrets(settings: Settings) -> None:
    """Raise UnsafeSecrets outside development when a secret is built in, short or missing."""
    problems = settings.secret_problems()
    if problems:
        raise UnsafeSecrets(settings, problems)


@functools.lru_cache(maxsize=8)
def _development_signing_secret(data_dir: Path) -> str:
    """DATA_DIR/signing-secret, created once (mode 0600). Several processes may start at once: the
    file appears whole or not at all (written aside, then linked into place), and the first one wins."""
    path = data_dir / SIGNING_SECRET_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        temporary = data_dir / f".{SIGNING_SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_urlsafe(48).encode())
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    secret = path.read_text().strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise RuntimeError(f"{path} holds no usable secret; delete it to have a new one generated")
    return secret
