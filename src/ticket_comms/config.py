"""Settings: every knob the contract names, read from the environment (or a `.env` file)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "ticket-comms-dev-secret-change-me-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./.data")
    database_url: str | None = None
    database_pool_size: int = 20
    redis_url: str | None = None

    jwt_secret: str = DEV_JWT_SECRET
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
    inbound_smtp_port: int | None = None
    dkim_private_key: str | None = None
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    # Extension: the SES configuration set whose event destinations publish Delivery/Bounce/Complaint to SNS.
    ses_configuration_set: str | None = None

    # Extensions beyond the contract.
    cors_origins: list[str] = Field(default_factory=list)
    socketio_origins: list[str] = Field(default_factory=list)
    # Engine.IO heartbeat (socket.io's pingInterval/pingTimeout): a client that leaves a ping
    # unanswered for the timeout is disconnected.
    socketio_ping_interval: float = Field(default=25.0, gt=0)
    socketio_ping_timeout: float = Field(default=20.0, gt=0)
    migrate_on_start: bool = True
    log_level: str = "INFO"
    app_name: str = "Tickets"

    @property
    def using_dev_secret(self) -> bool:
        return self.jwt_secret == DEV_JWT_SECRET and not self.jwt_jwks_url

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://localhost:{self.port}").rstrip("/")
