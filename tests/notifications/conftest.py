"""The sending fixtures (a real SMTP server and an app whose worker sends to it) for these tests."""

from tests.email.support import mail, mail_app, sink

__all__ = ["mail", "mail_app", "sink"]
