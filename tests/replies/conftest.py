"""Reply-by-email fixtures: the sending fixtures of tests/email with REPLY_DOMAIN set."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import RunningApp, empty_tables, free_port, make_settings, start_app
from tests.email.support import MAIL_SETTINGS, mail, sink

__all__ = ["mail", "mail_app", "sink"]

REPLY_DOMAIN = "reply.tickets.test"
REPLY_SETTINGS = {
    **MAIL_SETTINGS,
    "reply_domain": REPLY_DOMAIN,
    "signing_secret": "reply-signing-secret-" + "y" * 30,
}


@pytest.fixture(scope="module")
async def mail_app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, sink
) -> AsyncIterator[RunningApp]:
    settings = make_settings(
        database_url,
        tmp_path_factory.mktemp("replies"),
        smtp_url=sink.url,
        inbound_smtp_port=free_port(),
        **REPLY_SETTINGS,
    )
    await empty_tables(database_url)  # conftest.empty_tables says why
    running = await start_app(settings)
    yield running
    await running.stop()
