"""The admin operations on templates: list, create, read, edit, delete, reset a built-in, preview; and
what the event path asks of a template before queuing (its declared variables and switch)."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from ticket_comms.context import AppContext
from ticket_comms.database import Connection
from ticket_comms.email.templates import builtin, versions
from ticket_comms.email.templates.errors import TemplateInvalid
from ticket_comms.email.templates.rendering import LAYOUT, Template, forget, get, render, render_template
from ticket_comms.email.templates.sandbox import HTML_ENV, check_syntax, places_variable
from ticket_comms.email.templates.schemas import (
    CreateTemplate,
    PreviewOut,
    PreviewTemplate,
    TemplateList,
    TemplateOut,
    UpdateTemplate,
)
from ticket_comms.errors import Conflict, NotFound, ValidationFailed
from ticket_comms.wire import iso


class StaleTemplate(Conflict):
    """The update started from an older `updatedAt`: someone saved the template in between."""

    code = "stale_template"


async def declared(conn: Connection, name: str) -> Template | None:
    """The template's declared variables and switch; its sources are not needed to check an event's data."""
    cur = await conn.execute(
        "SELECT id, name, subject, '' AS html_content, NULL AS text_content, variables, is_active, created_at, "
        "updated_at FROM email_templates WHERE name = %s",
        (name,),
    )
    row = await cur.fetchone()
    return Template.from_row(row) if row else None


def _validate_sources(name: str, subject: str | None, html: str | None, text: str | None) -> None:
    if subject is not None:
        check_syntax("subject", subject)
    if html is not None:
        check_syntax("htmlContent", html)
        if name == LAYOUT and not places_variable(HTML_ENV, html, "content"):
            raise TemplateInvalid(
                "The layout must place the email's body with {{ content }}.",
                details=[{"field": "htmlContent", "line": None, "message": "{{ content }} is missing"}],
            )
    if text:
        check_syntax("textContent", text)


async def list_templates(ctx: AppContext) -> TemplateList:
    rows = await ctx.db.fetch_all("SELECT * FROM email_templates ORDER BY name")
    return TemplateList(items=[TemplateOut.of(Template.from_row(r)) for r in rows])


async def get_template(ctx: AppContext, name: str) -> TemplateOut:
    return TemplateOut.of(await get(ctx, name))


async def create_template(ctx: AppContext, body: CreateTemplate, user_id: str | None = None) -> TemplateOut:
    _validate_sources(body.name, body.subject, body.html_content, body.text_content)
    async with ctx.db.transaction() as conn:
        cur = await conn.execute(
            """
            INSERT INTO email_templates (name, subject, html_content, text_content, variables, is_active)
            VALUES (%(name)s, %(subject)s, %(html)s, %(text)s, %(variables)s, %(active)s)
            ON CONFLICT (name) DO NOTHING
            RETURNING *
            """,
            {
                "name": body.name,
                "subject": body.subject,
                "html": body.html_content,
                "text": body.text_content or None,
                "variables": body.variables,
                "active": body.is_active,
            },
        )
        row = await cur.fetchone()
        if row is None:
            raise Conflict(f"A template named {body.name!r} already exists.", code="template_exists")
        await versions.keep(conn, None, row, user_id)
    return TemplateOut.of(Template.from_row(row))


# `updated_at` must move forward on every edit even within one clock tick: it is the cache key.
TOUCH = "updated_at = greatest(clock_timestamp(), updated_at + interval '1 microsecond')"


async def update_template(
    ctx: AppContext, name: str, body: UpdateTemplate, user_id: str | None = None
) -> TemplateOut:
    sent = body.model_fields_set
    if name == LAYOUT and body.is_active is False:
        raise ValidationFailed(
            "The layout cannot be switched off.",
            details=[{"field": "isActive", "message": "the layout is always active"}],
        )
    _validate_sources(name, body.subject, body.html_content, body.text_content)
    columns = {
        "subject": "subject",
        "html_content": "html_content",
        "text_content": "text_content",
        "variables": "variables",
        "is_active": "is_active",
    }
    values: dict[str, Any] = {}
    for field, column in columns.items():
        if field not in sent:
            continue
        value = getattr(body, field)
        if value is None and field != "text_content":
            continue  # null for a required column means "leave as is"
        values[column] = (value or None) if field == "text_content" else value
    assignments = ", ".join([f"{column} = %({column})s" for column in values] + [TOUCH])
    async with ctx.db.transaction() as conn:
        cur = await conn.execute("SELECT * FROM email_templates WHERE name = %s FOR UPDATE", (name,))
        before = await cur.fetchone()
        if before is None:
            raise NotFound(f"There is no email template named {name!r}.")
        if body.updated_at is not None and body.updated_at != before["updated_at"]:
            raise StaleTemplate(
                f"{name} was saved by someone else at {iso(before['updated_at'])}, after the version this "
                "edit started from. Nothing was overwritten: load the latest version, or save again with "
                "its updatedAt to replace it.",
                details={"updatedAt": iso(before["updated_at"])},
            )
        cur = await conn.execute(
            f"UPDATE email_templates SET {assignments} WHERE id = %(id)s RETURNING *",
            {**values, "id": before["id"]},
        )
        row = await cur.fetchone()
        assert row is not None  # locked above
        await versions.keep(conn, before, row, user_id)
    template = Template.from_row(row)
    forget(template.id)
    return TemplateOut.of(template)


async def delete_template(ctx: AppContext, name: str) -> None:
    """Custom templates are deleted. Built-in ones are what events send, so they are never deleted:
    409 `builtin_template`; switch one off with `isActive: false` or restore it with `.../reset`."""
    if name in builtin.SPECS:
        raise Conflict(
            f"{name} is a built-in template and cannot be deleted. Set isActive to false to stop it, "
            f"or POST /api/v1/email/templates/{name}/reset to restore the shipped version.",
            code="builtin_template",
        )
    row = await ctx.db.fetch_one(
        "DELETE FROM email_templates WHERE name = %(name)s RETURNING id", {"name": name}
    )
    if row is None:
        raise NotFound(f"There is no email template named {name!r}.")
    forget(row["id"])


async def reset_template(ctx: AppContext, name: str, user_id: str | None = None) -> TemplateOut:
    """Put a built-in template back to the version shipped with the service (active again)."""
    if name not in builtin.SPECS:
        raise NotFound(f"There is no built-in email template named {name!r}.")
    shipped = builtin.load(name)
    async with ctx.db.transaction() as conn:
        cur = await conn.execute("SELECT * FROM email_templates WHERE name = %s FOR UPDATE", (name,))
        before = await cur.fetchone()
        cur = await conn.execute(
            """
            INSERT INTO email_templates (name, subject, html_content, text_content, variables, is_active)
            VALUES (%(name)s, %(subject)s, %(html)s, %(text)s, %(variables)s, true)
            ON CONFLICT (name) DO UPDATE SET subject = EXCLUDED.subject, html_content = EXCLUDED.html_content,
                text_content = EXCLUDED.text_content, variables = EXCLUDED.variables, is_active = true,
                updated_at = greatest(clock_timestamp(), email_templates.updated_at + interval '1 microsecond')
            RETURNING *
            """,
            {
                "name": name,
                "subject": shipped.subject,
                "html": shipped.html_content,
                "text": shipped.text_content,
                "variables": list(shipped.variables),
            },
        )
        row = await cur.fetchone()
        if row is None:  # the upsert always returns its row
            raise NotFound(f"There is no built-in email template named {name!r}.")
        await versions.keep(conn, before, row, user_id)
    template = Template.from_row(row)
    forget(template.id)
    return TemplateOut.of(template)


def _draft_of(saved: Template, body: PreviewTemplate) -> Template | None:
    """The saved template with the draft's parts in place, or None when the body has no draft."""
    sent = body.model_fields_set & {"subject", "html_content", "text_content"}
    if not sent:
        return None
    subject = body.subject if body.subject is not None else saved.subject
    html = body.html_content if body.html_content is not None else saved.html_content
    text = (body.text_content or None) if "text_content" in sent else saved.text_content
    _validate_sources(saved.name, subject, html, text)
    # The compile cache is keyed by (id, updated_at): a draft gets an id of its own sources, so it never
    # takes the saved version's place, and retyping the same draft reuses its compiled form.
    digest = hashlib.sha256("\x00".join((saved.name, subject, html, text or "")).encode()).hexdigest()
    return dataclasses.replace(
        saved,
        id=uuid.UUID(digest[:32]),
        subject=subject,
        html_content=html,
        text_content=text,
        updated_at=DRAFT_AT,
    )


DRAFT_AT = datetime(2000, 1, 1, tzinfo=UTC)


async def preview(ctx: AppContext, name: str, body: PreviewTemplate) -> PreviewOut:
    """Render like an email would be; a draft in the body is rendered instead of the saved sources."""
    saved = await get(ctx, name)
    draft = _draft_of(saved, body)
    if draft is None:
        return PreviewOut.of(await render(ctx, name, body.context))
    if name == LAYOUT:
        context = {
            **body.context,
            "content": body.context.get("content") or "The body of each email goes here.",
        }
        return PreviewOut.of(await render_template(ctx, draft, None, context))
    layout = await get(ctx, LAYOUT)
    return PreviewOut.of(await render_template(ctx, draft, layout, body.context))
