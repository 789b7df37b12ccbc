"""procrastinate jobs: the delayed work of notifications (chat-message digests).

Emails themselves are not one procrastinate job each: their `Pending` email log rows are the durable
queue the sender drains in batches (see worker.py and docs/architecture.md for the measurement behind
that). Jobs that must run *later* are procrastinate jobs, deferred on the caller's connection inside
its transaction (`task.configure(connection=conn)`), so a rollback leaves no job and a commit exactly one.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import procrastinate
from procrastinate import JobContext, RetryStrategy

from ticket_comms.database import SEARCH_PATH_OPTION, Connection, libpq_url

if TYPE_CHECKING:
    from ticket_comms.context import AppContext

log = logging.getLogger(__name__)

QUEUE = "notifications"
DIGEST_TASK = "notifications.message_digest"


async def _message_digest(context: JobContext, ticket_id: str, user_id: str) -> None:
    from ticket_comms.notifications import service as notifications

    ctx: AppContext = context.additional_context["ctx"]
    await notifications.run_digest(ctx, ticket_id, user_id)


def build_jobs(database_url: str) -> procrastinate.App:
    """The procrastinate app. Its own small pool opens only where a worker runs; deferring inside a
    transaction uses the caller's connection and needs no pool."""
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_url(database_url), min_size=1, max_size=4, kwargs={"options": SEARCH_PATH_OPTION}
    )
    app = procrastinate.App(connector=connector)
    app.task(
        name=DIGEST_TASK,
        queue=QUEUE,
        pass_context=True,
        retry=RetryStrategy(max_attempts=10, wait=5, exponential_wait=2),
    )(_message_digest)
    return app


async def defer_digests(
    jobs: procrastinate.App, conn: Connection, ticket_id: Any, user_ids: list[str], due_at: datetime
) -> None:
    """Defer one digest job per user, on `conn` (inside the caller's transaction)."""
    if not user_ids:
        return
    task = jobs.tasks[DIGEST_TASK]
    await task.configure(connection=conn, schedule_at=due_at).batch_defer_async(
        *[{"ticket_id": str(ticket_id), "user_id": user_id} for user_id in user_ids]  # type: ignore[arg-type]
    )
