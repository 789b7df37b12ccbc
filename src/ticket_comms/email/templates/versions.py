"""Template history: every save keeps a version (who, when), listed newest first, restorable.

A version is written in the transaction that changes the template, after the template row is locked
by that change, so two saves never take the same number. The first save of a template that has no
history yet also keeps what was there before (version 1, `createdBy: null`): the shipped built-in or
the template as created before history was kept, so it can always be restored.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email.templates.rendering import Template, forget
from ticket_comms.email.templates.schemas import TemplateOut, TemplateVersionList, TemplateVersionOut
from ticket_comms.errors import NotFound

WITH_AUTHOR = (
    "SELECT v.*, coalesce(u.name, u.email) AS created_by_name "
    "FROM email_template_versions v LEFT JOIN users u ON u.id = v.created_by"
)
SOURCE_COLUMNS = ("subject", "html_content", "text_content", "variables")

KEEP = """
INSERT INTO email_template_versions
    (template_id, version, subject, html_content, text_content, variables, created_by, created_at)
SELECT %(id)s, coalesce(max(version), 0) + 1, %(subject)s, %(html_content)s, %(text_content)s,
       %(variables)s, %(by)s, coalesce(%(at)s, now())
FROM email_template_versions WHERE template_id = %(id)s
"""


def _sources(row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c] for c in SOURCE_COLUMNS)


async def keep(
    conn: Connection, before: dict[str, Any] | None, after: dict[str, Any], user_id: str | None
) -> None:
    """Record `after` (the template as just saved by `user_id`) when its sources changed; with no history
    yet, `before` goes first. Call inside the transaction that wrote `after`."""
    if before is not None and _sources(before) == _sources(after):
        return  # only switched on or off: not a new version of the content
    cur = await conn.execute(
        "SELECT 1 FROM email_template_versions WHERE template_id = %s LIMIT 1", (after["id"],)
    )
    if before is not None and await cur.fetchone() is None:
        await conn.execute(KEEP, {**_params(before), "by": None, "at": before["updated_at"]})
    await conn.execute(KEEP, {**_params(after), "by": user_id, "at": None})


def _params(row: dict[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], **{c: row[c] for c in SOURCE_COLUMNS}}


async def _template_id(ctx: AppContext, name: str) -> UUID:
    row = await ctx.db.fetch_one("SELECT id FROM email_templates WHERE name = %s", (name,))
    if row is None:
        raise NotFound(f"There is no email template named {name!r}.")
    return row["id"]


async def list_versions(ctx: AppContext, name: str) -> TemplateVersionList:
    template_id = await _template_id(ctx, name)
    rows = await ctx.db.fetch_all(
        f"{WITH_AUTHOR} WHERE v.template_id = %s ORDER BY v.version DESC", (template_id,)
    )
    return TemplateVersionList(items=[TemplateVersionOut.of(r) for r in rows])


async def _version(conn: Connection, template_id: UUID, version_id: UUID) -> dict[str, Any]:
    cur = await conn.execute(
        f"{WITH_AUTHOR} WHERE v.id = %s AND v.template_id = %s", (version_id, template_id)
    )
    row = await cur.fetchone()
    if row is None:
        raise NotFound("That template has no such version.", code="version_not_found")
    return row


async def get_version(ctx: AppContext, name: str, version_id: UUID) -> TemplateVersionOut:
    template_id = await _template_id(ctx, name)
    async with ctx.db.connection() as conn:
        return TemplateVersionOut.of(await _version(conn, template_id, version_id))


async def restore(ctx: AppContext, name: str, version_id: UUID, user_id: str) -> TemplateOut:
    """Make version `version_id` the current template again; the restore is itself a new version."""
    async with ctx.db.transaction() as conn:
        cur = await conn.execute("SELECT * FROM email_templates WHERE name = %s FOR UPDATE", (name,))
        before = await cur.fetchone()
        if before is None:
            raise NotFound(f"There is no email template named {name!r}.")
        old = await _version(conn, before["id"], version_id)
        cur = await conn.execute(
            """
            UPDATE email_templates SET subject = %(subject)s, html_content = %(html_content)s,
                text_content = %(text_content)s, variables = %(variables)s,
                updated_at = greatest(clock_timestamp(), updated_at + interval '1 microsecond')
            WHERE id = %(id)s RETURNING *
            """,
            {**_params(old), "id": before["id"]},
        )
        after = await cur.fetchone()
        assert after is not None  # the row is locked above
        await keep(conn, before, after, user_id)
    template = Template.from_row(after)
    forget(template.id)
    return TemplateOut.of(template)
