"""The objects a request needs, built once by the app factory from Settings and passed down."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ticket_comms.config import Settings
from ticket_comms.database import Database

if TYPE_CHECKING:
    from ticket_comms.attachments.imageworkers import ImageWorkers
    from ticket_comms.attachments.storage import Storage
    from ticket_comms.auth.service import Users
    from ticket_comms.auth.tokens import TokenVerifier
    from ticket_comms.chat.writer import MessageWriter
    from ticket_comms.email.dev_mailbox.sink import DevMailbox
    from ticket_comms.email.ses_webhook import SnsCertificates
    from ticket_comms.email.templates.render_pool import TemplateRenderer
    from ticket_comms.email.worker import Worker
    from ticket_comms.ratelimits import RateLimits
    from ticket_comms.realtime.broadcast import Broadcaster


@dataclass
class AppContext:
    settings: Settings
    db: Database
    verifier: TokenVerifier
    users: Users
    broadcast: Broadcaster
    storage: Storage
    # Plain chat messages, written together when sent together.
    messages: MessageWriter
    # Set while SMTP_URL is unset: the built-in SMTP sink; `dev_mailbox.url` is then the relay to send through.
    dev_mailbox: DevMailbox | None = None
    # The in-process email worker (WORKER=inline).
    worker: Worker | None = None
    # Per-user rate limits; None in processes that serve no requests (the standalone email worker).
    limits: RateLimits | None = None
    # Where uploaded images are decoded, in memory- and CPU-capped processes.
    image_workers: ImageWorkers | None = None
    # SNS signing certificates fetched for the SES webhook (one cache per app, not per process).
    sns_certificates: SnsCertificates | None = None
    # Template rendering threads and capped worker processes (one set per app, closed with it).
    renderer: TemplateRenderer | None = None
