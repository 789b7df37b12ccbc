"""The delivery dashboard's hourly rollups: a period of 1,000,000 emails answered from ~720 hours of
counts instead of a scan of a million index entries.

- `email_stats_hourly`: per (UTC hour of created_at, status, shard), the emails, how many were opened
  or clicked, how many were ever sent, and the queue-time histogram (sent_at - created_at under 1, 5,
  30, 60, 300, 3600 seconds; cumulative);
- `email_failure_reasons_hourly`: per (hour, normalized reason, shard), the Failed and Bounced emails.

Kept exact by statement-level triggers with transition tables, in the transaction of every insert,
update and delete of email_logs (the old rows' contribution taken out, the new rows' put in, grouped,
so a batch of 100 status changes is one upsert per (hour, status) it touches; updates that change
nothing counted, such as an appended `attempt` event, write nothing). A delete also folds the
shards of the hours it touched and drops the rows left at zero (retention); TRUNCATE empties them.

`shard` is the writing backend's pid modulo 16: concurrent workers that move emails of the same hour
from Pending to Sent update different rows, instead of queueing behind one row lock until each other's
commit. Readers sum the shards. Upserts are made in key order, so two writers that do share a shard
lock their rows in the same order.

The reason is normalized by `email_failure_reason(text)` (addresses replaced by <address>), the one
definition both the trigger and the dashboard's edge-hour queries use. Frozen here: this migration
means the same thing forever.

Revision ID: 0013
Revises: 0012
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BUCKETS = (1, 5, 30, 60, 300, 3600)
LE = [f"le_{b}" for b in BUCKETS]
COUNTS = ["total", "opened", "clicked", "sent_ever", *LE]
SHARD = "(pg_backend_pid() % 16)::smallint"


def _contribution(source: str, sign: int) -> str:
    """One row per email of `source`: its hour, status and what it adds (sign 1) or takes away (-1)."""
    les = ", ".join(
        f"{sign} * coalesce(sent_at - created_at < interval '{b} seconds', false)::int AS le_{b}"
        for b in BUCKETS
    )
    return f"""
    SELECT date_trunc('hour', created_at, 'UTC') AS hour, status, {sign} AS total,
           {sign} * (events @> '[{{"type": "opened"}}]'::jsonb)::int AS opened,
           {sign} * (events @> '[{{"type": "clicked"}}]'::jsonb)::int AS clicked,
           {sign} * (sent_at IS NOT NULL)::int AS sent_ever, {les}
    FROM {source}"""


def _reasons(source: str, sign: int) -> str:
    return f"""
    SELECT date_trunc('hour', created_at, 'UTC') AS hour, email_failure_reason(error_message) AS reason,
           {sign} AS n
    FROM {source} WHERE status IN ('Failed', 'Bounced')"""


def _apply(parts: list[str], reason_parts: list[str], shard: str) -> str:
    sums = ", ".join(f"sum({c})" for c in COUNTS)
    nonzero = " OR ".join(f"sum({c}) <> 0" for c in COUNTS)
    updates = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in COUNTS)
    return f"""
    INSERT INTO email_stats_hourly AS t (hour, status, shard, {", ".join(COUNTS)})
    SELECT hour, status, {shard}, {sums}
    FROM ({" UNION ALL ".join(parts)}) c
    GROUP BY hour, status HAVING {nonzero}
    ORDER BY hour, status
    ON CONFLICT (hour, status, shard) DO UPDATE SET {updates};
    INSERT INTO email_failure_reasons_hourly AS t (hour, reason, shard, n)
    SELECT hour, reason, {shard}, sum(n)
    FROM ({" UNION ALL ".join(reason_parts)}) c
    GROUP BY hour, reason HAVING sum(n) <> 0
    ORDER BY hour, reason
    ON CONFLICT (hour, reason, shard) DO UPDATE SET n = t.n + excluded.n;
    """


def _compact(step: str) -> str:
    """Deletes (retention) fold the shards of the hours they touched into shard 0 and drop the rows
    left all zero, so the rollups do not keep rows for hours the log no longer holds (one shard's
    row holds deltas, e.g. -1 Pending where another backend queued the email, so it is rarely zero
    on its own). `lock` first takes those rows in key order, the order every writer takes them in."""
    touched = "hour IN (SELECT date_trunc('hour', created_at, 'UTC') FROM old_rows)"
    if step == "lock":
        return f"""
    PERFORM 1 FROM email_stats_hourly WHERE {touched} ORDER BY hour, status, shard FOR UPDATE;
    PERFORM 1 FROM email_failure_reasons_hourly WHERE {touched} ORDER BY hour, reason, shard FOR UPDATE;"""
    sums = ", ".join(f"sum({c})" for c in COUNTS)
    updates = ", ".join(f"{c} = t.{c} + excluded.{c}" for c in COUNTS)
    all_zero = " AND ".join(f"{c} = 0" for c in COUNTS)
    return f"""
    WITH gone AS (DELETE FROM email_stats_hourly WHERE {touched} AND shard <> 0 RETURNING *)
    INSERT INTO email_stats_hourly AS t (hour, status, shard, {", ".join(COUNTS)})
    SELECT hour, status, 0, {sums} FROM gone GROUP BY hour, status ORDER BY hour, status
    ON CONFLICT (hour, status, shard) DO UPDATE SET {updates};
    DELETE FROM email_stats_hourly WHERE {touched} AND shard = 0 AND {all_zero};
    WITH gone AS (DELETE FROM email_failure_reasons_hourly WHERE {touched} AND shard <> 0 RETURNING *)
    INSERT INTO email_failure_reasons_hourly AS t (hour, reason, shard, n)
    SELECT hour, reason, 0, sum(n) FROM gone GROUP BY hour, reason ORDER BY hour, reason
    ON CONFLICT (hour, reason, shard) DO UPDATE SET n = t.n + excluded.n;
    DELETE FROM email_failure_reasons_hourly WHERE {touched} AND shard = 0 AND n = 0;"""


def _function(name: str, body: str) -> str:
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
    {body}
    RETURN NULL;
    END
    $fn$"""


def upgrade() -> None:
    counts = ",\n".join(f"{c} bigint NOT NULL DEFAULT 0" for c in COUNTS)
    op.execute(f"""
    CREATE TABLE email_stats_hourly (
        hour timestamptz NOT NULL,
        status text NOT NULL,
        shard smallint NOT NULL,
        {counts},
        PRIMARY KEY (hour, status, shard)
    )""")
    op.execute("""
    CREATE TABLE email_failure_reasons_hourly (
        hour timestamptz NOT NULL,
        reason text NOT NULL,
        shard smallint NOT NULL,
        n bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (hour, reason, shard)
    )""")
    op.execute(r"""
    CREATE FUNCTION email_failure_reason(message text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $fn$
      SELECT left(regexp_replace(coalesce(message, '(no reply recorded)'),
                                 '<[^>]*>|[^\s<>"'']+@[^\s<>"'']+', '<address>', 'g'), 160)
    $fn$""")
    new, old = "new_rows", "old_rows"
    op.execute(_function("email_rollup_insert", _apply([_contribution(new, 1)], [_reasons(new, 1)], SHARD)))
    op.execute(
        _function(
            "email_rollup_update",
            _apply(
                [_contribution(new, 1), _contribution(old, -1)], [_reasons(new, 1), _reasons(old, -1)], SHARD
            ),
        )
    )
    op.execute(
        _function(
            "email_rollup_delete",
            _compact("lock")
            + _apply([_contribution(old, -1)], [_reasons(old, -1)], SHARD)
            + _compact("merge"),
        )
    )
    op.execute(
        _function(
            # DELETE, not TRUNCATE: a TRUNCATE that lists the rollups too (test fixtures) is using them.
            "email_rollup_truncate",
            "DELETE FROM email_stats_hourly; DELETE FROM email_failure_reasons_hourly;",
        )
    )
    op.execute("""
    CREATE TRIGGER email_rollup_insert AFTER INSERT ON email_logs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION email_rollup_insert()""")
    op.execute("""
    CREATE TRIGGER email_rollup_update AFTER UPDATE ON email_logs
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION email_rollup_update()""")
    op.execute("""
    CREATE TRIGGER email_rollup_delete AFTER DELETE ON email_logs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION email_rollup_delete()""")
    op.execute("""
    CREATE TRIGGER email_rollup_truncate AFTER TRUNCATE ON email_logs
    FOR EACH STATEMENT EXECUTE FUNCTION email_rollup_truncate()""")
    # Backfill what is there (shard 0). CREATE TRIGGER locked email_logs against writes until this
    # migration commits, so no email is counted twice or missed.
    op.execute(_apply([_contribution("email_logs", 1)], [_reasons("email_logs", 1)], "0::smallint"))


def downgrade() -> None:
    for event in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER email_rollup_{event} ON email_logs")
        op.execute(f"DROP FUNCTION email_rollup_{event}()")
    op.execute("DROP FUNCTION email_failure_reason(text)")
    op.execute("DROP TABLE email_failure_reasons_hourly")
    op.execute("DROP TABLE email_stats_hourly")
