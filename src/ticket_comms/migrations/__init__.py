"""Alembic migrations: `ticket-comms migrate`, and `serve` on start.

`serve` runs them in a child process (`python -m ticket_comms.migrations`): Alembic and SQLAlchemy
are about 40 MB of modules that a long-lived server would otherwise keep for nothing. Nothing
here imports them until `upgrade` runs.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import psycopg

from ticket_comms.database import Connection, sqlalchemy_url

HERE = Path(__file__).resolve().parent

# The head revision(s) of versions/. tests/test_migrations.py checks this against Alembic's own view,
# so a new migration cannot be forgotten here.
HEADS = frozenset({"0013"})

URL_VARIABLE = "TICKET_COMMS_MIGRATE_URL"
_APPLIED = "SELECT version_num FROM alembic_version"


def upgrade(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    command.upgrade(cfg, "heads")


async def upgrade_in_child_process(database_url: str) -> None:
    # The URL travels in the environment, not on the command line that `ps` shows.
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "ticket_comms.migrations", env={**os.environ, URL_VARIABLE: database_url}
    )
    code = await child.wait()
    if code != 0:
        raise RuntimeError(f"database migrations failed (exit code {code}); see the log above")


async def is_up_to_date(conn: Connection) -> bool:
    """True when the database is at every head revision (/readyz)."""
    try:
        async with conn.transaction():
            rows = await (await conn.execute(_APPLIED)).fetchall()
    except psycopg.errors.UndefinedTable:
        return False
    return {row["version_num"] for row in rows} == HEADS
