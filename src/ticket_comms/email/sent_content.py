"""The email as its recipient got it (subject, HTML, text), for the admin console's email log.

It is rendered again from the stored event rather than stored: keeping every sent body (tens of kB
each, even compressed) would add a large write to every send and cost the worker's throughput, while
the event's data, the recipient and the template history already determine the email. The template
and layout are taken as they were when the email was sent (the last saved version at that moment,
from the template history; the current one for emails older than the history). Secrets never show:
one-time codes are redacted in the stored event once sent, and redacted here in any case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from ticket_comms.catalogue import redact, secret_values
from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email import templates
from ticket_comms.email.composer import Composer
from ticket_comms.errors import Conflict, NotFound, ValidationFailed
from ticket_comms.wire import iso

ROW = """
SELECT l.id, l.template_name, l.recipient_id, l.recipient_email, l.recipient_name, l.status, l.created_at,
       l.sent_at, e.type AS event_type, e.ticket_id, e.data
FROM email_logs l JOIN events e ON e.id = l.event_id WHERE l.id = %s
"""

# The template as it was at %(at)s: its last version saved by then, else the current row.
AS_OF = """
-- A version's own id keys the compile cache, so it never takes the current template's place.
SELECT coalesce(v.id, t.id) AS id, t.name, coalesce(v.subject, t.subject) AS subject,
       coalesce(v.html_content, t.html_content) AS html_content,
       CASE WHEN v.id IS NULL THEN t.text_content ELSE v.text_content END AS text_content,
       coalesce(v.variables, t.variables) AS variables, t.is_active, t.created_at,
       coalesce(v.created_at, t.updated_at) AS updated_at, v.version
FROM email_templates t
LEFT JOIN LATERAL (
    SELECT * FROM email_template_versions v
    WHERE v.template_id = t.id AND v.created_at <= %(at)s ORDER BY v.version DESC LIMIT 1
) v ON true
WHERE t.name = %(name)s
"""


class SentContentOut(BaseModel):
    subject: str
    html: str
    text: str
    source: str = Field(
        description="`rerendered`: rendered again from the stored event (bodies are not stored)"
    )
    templateVersion: int | None = Field(description="The template version used (null: the current template)")
    at: str = Field(description="The moment whose template versions were used (sent, else queued)")


async def _as_of(conn: Connection, name: str, at: datetime) -> tuple[templates.Template | None, int | None]:
    cur = await conn.execute(AS_OF, {"name": name, "at": at})
    row = await cur.fetchone()
    if row is None:
        return None, None
    return templates.Template.from_row(row), row["version"]


async def sent_content(ctx: AppContext, log_id: UUID) -> SentContentOut:
    async with ctx.db.connection() as conn:
        cur = await conn.execute(ROW, (log_id,))
        row: dict[str, Any] | None = await cur.fetchone()
        if row is None:
            raise NotFound("Email log not found.", code="email_log_not_found")
        at: datetime = row["sent_at"] or row["created_at"]
        template, version = await _as_of(conn, row["template_name"], at)
        layout, _ = await _as_of(conn, templates.LAYOUT, at)
    if template is None:
        raise Conflict(
            f"The {row['template_name']} template no longer exists, so this email cannot be shown.",
            code="content_unavailable",
        )
    secrets = secret_values(row["event_type"], row["data"])
    context = Composer(ctx).context_for(row)
    try:
        rendered = await templates.render_template(ctx, template, layout, context)
    except ValidationFailed as exc:
        raise Conflict(
            f"This email cannot be rendered again: {redact(exc.message, secrets)}", code="content_unavailable"
        ) from None
    return SentContentOut(
        subject=redact(rendered.subject, secrets) or "",
        html=redact(rendered.html, secrets) or "",
        text=redact(rendered.text, secrets) or "",
        source="rerendered",
        templateVersion=version,
        at=iso(at) or "",
    )
