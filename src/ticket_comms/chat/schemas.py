"""Chat request bodies and the wire shape of a Message (camelCase, as the contract defines it)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from ticket_comms.attachments.schemas import AttachmentOut, attachment_out
from ticket_comms.config import Settings
from ticket_comms.wire import CamelModel, iso

MAX_CONTENT = 10_000
MessageType = Literal["Text", "Image", "File"]


class SendMessage(CamelModel):
    content: str = Field(default="", max_length=MAX_CONTENT * 4)
    type: MessageType = "Text"
    attachment_id: UUID | None = Field(default=None, alias="attachmentId")
    reply_to_id: UUID | None = Field(default=None, alias="replyToId")
    client_id: str | None = Field(default=None, alias="clientId", min_length=1, max_length=200)

    @field_validator("content")
    @classmethod
    def _trim(cls, v: str) -> str:
        return v.strip()


class EditMessage(CamelModel):
    content: str = Field(max_length=MAX_CONTENT * 4)

    @field_validator("content")
    @classmethod
    def _trim(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("content must not be empty")
        if len(v) > MAX_CONTENT:
            raise ValueError(f"content must be at most {MAX_CONTENT} characters")
        return v


class MarkRead(CamelModel):
    up_to_seq: int | None = Field(default=None, alias="upToSeq", ge=0, le=2**62)


def message_out(row: dict[str, Any], settings: Settings) -> dict[str, Any]:
    reply_to = row["reply_to_id"]
    return {
        "id": str(row["id"]),
        "ticketId": str(row["ticket_id"]),
        "seq": row["seq"],
        "senderId": row["sender_id"],
        "type": row["type"],
        "content": row["content"],
        "attachment": attachment_out(row, settings),
        "replyToId": str(reply_to) if reply_to else None,
        "clientId": row["client_id"],
        "createdAt": iso(row["created_at"]),
        "editedAt": iso(row["edited_at"]),
        "deletedAt": iso(row["deleted_at"]),
        "reactions": row.get("reactions") or {},
    }


# Response shapes, for the OpenAPI document. Routers return pre-shaped JSON (see message_out), so these
# describe the wire format without being used to validate it on the hot path.
class MessageOut(BaseModel):
    id: UUID
    ticketId: UUID
    seq: int
    senderId: str | None
    type: Literal["Text", "Image", "File", "System"]
    content: str
    attachment: AttachmentOut | None
    replyToId: UUID | None
    clientId: str | None
    createdAt: datetime
    editedAt: datetime | None
    deletedAt: datetime | None
    reactions: dict[str, list[str]]


class MessagePage(BaseModel):
    items: list[MessageOut]
    hasMore: bool


class SearchHit(MessageOut):
    highlight: str


class SearchPage(BaseModel):
    items: list[SearchHit]
    nextCursor: str | None


class ReadMarkOut(BaseModel):
    ticketId: UUID
    userId: str
    lastReadSeq: int
    lastReadAt: datetime | None
