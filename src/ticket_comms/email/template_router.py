"""Admin endpoints for email templates: list, create, read, edit, delete, reset a built-in, preview."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response

from ticket_comms.deps import Admin, Ctx, json
from ticket_comms.email import templates
from ticket_comms.email.templates import NAME_PATTERN, CreateTemplate, PreviewTemplate, UpdateTemplate

router = APIRouter(prefix="/api/v1/email/templates", tags=["email templates"])

TemplateName = Path(pattern=NAME_PATTERN, description="The template's name, e.g. TicketCreated or layout")


@router.get("")
async def list_templates(ctx: Ctx, _: Admin):
    return json(await templates.list_templates(ctx))


@router.post("", status_code=201)
async def create_template(ctx: Ctx, _: Admin, body: CreateTemplate):
    return json(await templates.create_template(ctx, body), 201)


@router.get("/{name}")
async def get_template(ctx: Ctx, _: Admin, name: str = TemplateName):
    return json(await templates.get_template(ctx, name))


@router.put("/{name}")
async def update_template(ctx: Ctx, _: Admin, body: UpdateTemplate, name: str = TemplateName):
    return json(await templates.update_template(ctx, name, body))


@router.delete("/{name}", status_code=204)
async def delete_template(ctx: Ctx, _: Admin, name: str = TemplateName):
    await templates.delete_template(ctx, name)
    return Response(status_code=204)


@router.post("/{name}/reset")
async def reset_template(ctx: Ctx, _: Admin, name: str = TemplateName):
    return json(await templates.reset_template(ctx, name))


@router.post("/{name}/preview")
async def preview_template(ctx: Ctx, _: Admin, body: PreviewTemplate, name: str = TemplateName):
    return json(await templates.preview(ctx, name, body))
