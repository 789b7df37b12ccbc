import hashlib

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from psycopg.rows import dict_row
from sqlalchemy import create_engine, pool

from tests.conftest import _server_url, _with_database
from ticket_comms import migrations
from ticket_comms.database import libpq_url, sqlalchemy_url
from ticket_comms.email.templates import builtin
from ticket_comms.migrations.schema import metadata


async def _up_to_date(url: str) -> bool:
    async with await psycopg.AsyncConnection.connect(libpq_url(url), row_factory=dict_row) as conn:
        return await migrations.is_up_to_date(conn)


async def test_migrations_apply_to_an_empty_database_and_match_the_models():
    admin_url = _server_url()
    name = "test_migrations_empty"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(admin_url, name)
    try:
        assert not await _up_to_date(url)
        migrations.upgrade(url)
        migrations.upgrade(url)  # a second run is a no-op
        assert await _up_to_date(url)
        engine = create_engine(sqlalchemy_url(url), poolclass=pool.NullPool)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        engine.dispose()
        assert diff == []
        # Every built-in template reaches a migrated database (a new one needs its own data migration).
        with psycopg.connect(libpq_url(url)) as conn:
            names = {row[0] for row in conn.execute("SELECT name FROM email_templates")}
        assert names == set(builtin.SPECS)
        # migrations.HEADS (what /readyz compares with, without loading Alembic) is Alembic's view.
        config = Config()
        config.set_main_option("script_location", str(migrations.HERE))
        assert set(ScriptDirectory.from_config(config).get_heads()) == migrations.HEADS
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_health_and_readiness(app, as_user):
    client = as_user("probe")
    assert (await client.get("/healthz")).status_code == 200
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    metrics = await as_user("ops", "admin").get("/metrics")  # operators only
    assert metrics.status_code == 200
    assert "http_requests_total" in metrics.text


# What migration 0003 inserts, fixed for ever: editing the frozen copy would give databases migrated
# before and after the edit different templates under the same revision. A changed built-in reaches
# existing databases through a data migration of its own (and `POST /email/templates/{name}/reset`).
FROZEN_0003_SHA256 = "82b5dfeec1c3d955db114612b623b9c6848298cf8c6d5b713a74f80544d957a1"


def test_migration_0003_inserts_the_same_templates_forever():
    frozen = migrations.HERE / "frozen" / "0003_builtin_templates.json"
    assert hashlib.sha256(frozen.read_bytes()).hexdigest() == FROZEN_0003_SHA256
