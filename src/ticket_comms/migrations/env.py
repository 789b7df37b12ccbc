"""Alembic's environment: run the migrations online, one process at a time (advisory lock)."""

from alembic import context
from sqlalchemy import create_engine, pool, text

from ticket_comms.migrations.schema import metadata

config = context.config
# Serialises concurrent `migrate` runs (two `serve` processes starting at once).
MIGRATION_LOCK_KEY = 7_216_449_001


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "", poolclass=pool.NullPool)
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=metadata,
                compare_server_default=False,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
            connection.commit()


run_migrations_online()
