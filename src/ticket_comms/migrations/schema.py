"""Every table of the service (each domain's models.py), for Alembic and the migrations-match-models test."""

from ticket_comms.attachments import models as attachments_models
from ticket_comms.auth import models as auth_models
from ticket_comms.chat import models as chat_models
from ticket_comms.email import models as email_models
from ticket_comms.notifications import models as notifications_models
from ticket_comms.push import models as push_models
from ticket_comms.replies import models as replies_models
from ticket_comms.tables import metadata
from ticket_comms.tickets import models as tickets_models

__all__ = [
    "attachments_models",
    "auth_models",
    "chat_models",
    "email_models",
    "metadata",
    "notifications_models",
    "push_models",
    "replies_models",
    "tickets_models",
]
