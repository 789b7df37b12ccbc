"""Admin endpoints for email templates: list, create, read, edit, delete, reset a built-in, preview."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Path, Response

from ticket_comms.auth.deps import Admin
from ticket_comms.deps import Ctx, json
from ticket_comms.email import admin_sends
from ticket_comms.email.templates import service as templates
from ticket_comms.email.templates import versions
from ticket_comms.email.templates.schemas import (
    NAME_PATTERN,
    CreateTemplate,
    PreviewOut,
    PreviewTemplate,
    SendTest,
    SendTestOut,
    TemplateList,
    TemplateOut,
    TemplateVersionList,
    TemplateVersionOut,
    UpdateTemplate,
)

router = APIRouter(prefix="/api/v1/email/templates", tags=["email templates"])

TemplateName = Path(pattern=NAME_PATTERN, description="The template's name, e.g. TicketCreated or layout")


@router.get("", response_model=TemplateList)
async def list_templates(ctx: Ctx, _: Admin):
    """Every template (built-in and custom), by name: `{items: [Template], nextCursor: null}`."""
    return json(await templates.list_templates(ctx))


@router.post("", status_code=201, response_model=TemplateOut)
async def create_template(ctx: Ctx, admin: Admin, body: CreateTemplate):
    """A custom template. Jinja errors are a 422 with the field and line in `details`; a taken name is 409."""
    return json(await templates.create_template(ctx, body, admin.id), 201)


@router.get("/{name}", response_model=TemplateOut)
async def get_template(ctx: Ctx, _: Admin, name: str = TemplateName):
    """One template by name."""
    return json(await templates.get_template(ctx, name))


@router.put("/{name}", response_model=TemplateOut)
async def update_template(ctx: Ctx, admin: Admin, body: UpdateTemplate, name: str = TemplateName):
    """Change the fields sent (others stay). Checked like a new template; used by the next email sent.
    With `updatedAt` (the version the edit started from), a template saved since is refused with 409
    `stale_template` and left as it is. A change of the sources keeps a version (see `.../versions`)."""
    return json(await templates.update_template(ctx, name, body, admin.id))


@router.delete("/{name}", status_code=204)
async def delete_template(ctx: Ctx, _: Admin, name: str = TemplateName):
    """Delete a custom template (204). Built-in ones are refused with 409 `builtin_template`: switch one
    off with `isActive: false`, or restore the shipped version with `POST .../reset`."""
    await templates.delete_template(ctx, name)
    return Response(status_code=204)


@router.post("/{name}/reset", response_model=TemplateOut)
async def reset_template(ctx: Ctx, admin: Admin, name: str = TemplateName):
    """Restore a built-in template to the version shipped with the service (and switch it on)."""
    return json(await templates.reset_template(ctx, name, admin.id))


@router.post("/{name}/preview", response_model=PreviewOut)
async def preview_template(ctx: Ctx, _: Admin, body: PreviewTemplate, name: str = TemplateName):
    """Render with `context` exactly as an email would be: `{subject, html, text}`. `subject`,
    `htmlContent`, `textContent` render an unsaved draft instead of the saved parts (nothing is saved).
    Syntax errors, missing variables, sandbox violations and runtime errors are 422s that say what and
    where."""
    return json(await templates.preview(ctx, name, body))


@router.get("/{name}/versions", response_model=TemplateVersionList)
async def list_versions(ctx: Ctx, _: Admin, name: str = TemplateName):
    """Every saved version of the template, newest first, with who saved it (user id) and when."""
    return json(await versions.list_versions(ctx, name))


@router.get("/{name}/versions/{version_id}", response_model=TemplateVersionOut)
async def get_version(ctx: Ctx, _: Admin, version_id: UUID, name: str = TemplateName):
    """One saved version."""
    return json(await versions.get_version(ctx, name, version_id))


@router.post("/{name}/versions/{version_id}/restore", response_model=TemplateOut)
async def restore_version(ctx: Ctx, admin: Admin, version_id: UUID, name: str = TemplateName):
    """Make a saved version the current template again (the restore is kept as a new version)."""
    return json(await versions.restore(ctx, name, version_id, admin.id))


@router.post("/{name}/test", status_code=201, response_model=SendTestOut)
async def send_test(ctx: Ctx, admin: Admin, body: SendTest, name: str = TemplateName):
    """Render the saved template with `context` (sample data) and send it to the caller's own address
    through the normal outbox (logged like any email: follow `emailLogId` in the email log)."""
    queued = await admin_sends.send_test(ctx, admin, name, body.context)
    return json(
        SendTestOut(emailLogId=queued.emailLogId, recipientEmail=queued.recipientEmail).model_dump(), 201
    )
