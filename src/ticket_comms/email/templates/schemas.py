"""The wire shapes of the template endpoints: request bodies and answers (used for both the JSON and OpenAPI)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from ticket_comms.email.templates.rendering import Rendered, Template
from ticket_comms.wire import CamelModel, iso

# Sources: generous for hand-written emails.
MAX_SUBJECT_SOURCE = 2_000
MAX_HTML_SOURCE = 200_000
MAX_TEXT_SOURCE = 100_000
MAX_VARIABLES = 100

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$"
VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def _check_variables(names: list[str]) -> list[str]:
    bad = [n for n in names if not VARIABLE_RE.match(n)]
    if bad:
        raise ValueError(f"variables must be dotted names like ticket.title: {', '.join(bad[:5])}")
    return list(dict.fromkeys(names))


class CreateTemplate(CamelModel):
    name: str = Field(pattern=NAME_PATTERN)
    subject: str = Field(min_length=1, max_length=MAX_SUBJECT_SOURCE)
    html_content: str = Field(alias="htmlContent", min_length=1, max_length=MAX_HTML_SOURCE)
    text_content: str | None = Field(default=None, alias="textContent", max_length=MAX_TEXT_SOURCE)
    variables: list[str] = Field(default_factory=list, max_length=MAX_VARIABLES)
    is_active: bool = Field(default=True, alias="isActive", strict=True)

    @field_validator("variables")
    @classmethod
    def _variables(cls, v: list[str]) -> list[str]:
        return _check_variables(v)


class UpdateTemplate(CamelModel):
    """Every field optional: only what is sent changes. `textContent: null` goes back to generated text."""

    subject: str | None = Field(default=None, min_length=1, max_length=MAX_SUBJECT_SOURCE)
    html_content: str | None = Field(
        default=None, alias="htmlContent", min_length=1, max_length=MAX_HTML_SOURCE
    )
    text_content: str | None = Field(default=None, alias="textContent", max_length=MAX_TEXT_SOURCE)
    variables: list[str] | None = Field(default=None, max_length=MAX_VARIABLES)
    is_active: bool | None = Field(default=None, alias="isActive", strict=True)
    updated_at: datetime | None = Field(
        default=None,
        alias="updatedAt",
        description="The `updatedAt` the edit started from: when the template was saved since, the "
        "update is refused with 409 `stale_template` (nothing is overwritten). Omit to save regardless.",
    )

    @field_validator("variables")
    @classmethod
    def _variables(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _check_variables(v)

    @field_validator("updated_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("updatedAt needs a UTC offset, as the template's updatedAt has")
        return v


class PreviewTemplate(CamelModel):
    """`subject`, `htmlContent`, `textContent`: an unsaved draft rendered instead of the saved sources
    (each one sent replaces that part; nothing is saved). `textContent: ""` or null generates the text."""

    context: dict[str, Any] = Field(default_factory=dict)
    subject: str | None = Field(default=None, min_length=1, max_length=MAX_SUBJECT_SOURCE)
    html_content: str | None = Field(
        default=None, alias="htmlContent", min_length=1, max_length=MAX_HTML_SOURCE
    )
    text_content: str | None = Field(default=None, alias="textContent", max_length=MAX_TEXT_SOURCE)


class SendTest(CamelModel):
    """The sample data to render with (the editor's variables panel); sent to the caller's own address."""

    context: dict[str, Any] = Field(default_factory=dict)


class SendTestOut(BaseModel):
    emailLogId: str
    recipientEmail: str


class TemplateOut(BaseModel):
    id: str
    name: str
    subject: str
    htmlContent: str
    textContent: str | None
    variables: list[str]
    isActive: bool
    isBuiltin: bool
    createdAt: str
    updatedAt: str

    @classmethod
    def of(cls, template: Template) -> TemplateOut:
        return cls(
            id=str(template.id),
            name=template.name,
            subject=template.subject,
            htmlContent=template.html_content,
            textContent=template.text_content,
            variables=list(template.variables),
            isActive=template.is_active,
            isBuiltin=template.is_builtin,
            createdAt=iso(template.created_at) or "",
            updatedAt=iso(template.updated_at) or "",
        )


class TemplateList(BaseModel):
    items: list[TemplateOut]
    nextCursor: str | None = None


class PreviewOut(BaseModel):
    subject: str
    html: str
    text: str

    @classmethod
    def of(cls, rendered: Rendered) -> PreviewOut:
        return cls(subject=rendered.subject, html=rendered.html, text=rendered.text)


class TemplateVersionOut(BaseModel):
    id: str
    version: int
    subject: str
    htmlContent: str
    textContent: str | None
    variables: list[str]
    createdAt: str
    createdBy: str | None = Field(
        description="The id of the user who saved it (null: before history was kept)"
    )
    createdByName: str | None = Field(default=None, description="That user's name or address, when known")

    @classmethod
    def of(cls, row: dict[str, Any]) -> TemplateVersionOut:
        return cls(
            id=str(row["id"]),
            version=row["version"],
            subject=row["subject"],
            htmlContent=row["html_content"],
            textContent=row["text_content"],
            variables=list(row["variables"] or ()),
            createdAt=iso(row["created_at"]) or "",
            createdBy=row["created_by"],
            createdByName=row.get("created_by_name"),
        )


class TemplateVersionList(BaseModel):
    items: list[TemplateVersionOut]
    nextCursor: str | None = None
