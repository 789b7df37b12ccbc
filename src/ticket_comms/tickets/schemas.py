"""Ticket request bodies and the wire shapes of a ticket, its participants and pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from ticket_comms.chat.schemas import MessageOut
from ticket_comms.wire import CamelModel, iso

TicketStatus = Literal["Open", "Assigned", "InProgress", "OnHold", "Completed", "Cancelled"]
UserId = str


class CreateTicket(CamelModel):
    title: str = Field(min_length=1, max_length=500)
    description: str = Field(default="", max_length=50_000)
    participant_ids: list[UserId] = Field(default_factory=list, alias="participantIds", max_length=200)

    @field_validator("title")
    @classmethod
    def _title(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("title must not be empty")
        return v


class UpdateTicket(CamelModel):
    title: str | None = Field(default=None, min_length=1, max_length=500)
    description: str | None = Field(default=None, max_length=50_000)
    status: TicketStatus | None = None
    assignee_id: UserId | None = Field(default=None, alias="assigneeId", min_length=1, max_length=255)


class AddParticipant(CamelModel):
    user_id: UserId = Field(alias="userId", min_length=1, max_length=255)


class MuteParticipant(CamelModel):
    is_muted: bool = Field(alias="isMuted", strict=True)


def ticket_out(
    row: dict[str, Any], unread: int = 0, last_message: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "title": row["title"],
        "description": row["description"],
        "status": row["status"],
        "createdBy": row["created_by"],
        "assigneeId": row["assignee_id"],
        "createdAt": iso(row["created_at"]),
        "updatedAt": iso(row["updated_at"]),
        "unreadCount": unread,
        "lastMessage": last_message,
    }


class TicketOut(BaseModel):
    """A ticket as the caller sees it (the OpenAPI description of ticket_out's JSON)."""

    id: UUID
    title: str
    description: str
    status: TicketStatus
    createdBy: str
    assigneeId: str | None
    createdAt: datetime
    updatedAt: datetime
    unreadCount: int
    lastMessage: MessageOut | None


class TicketPage(BaseModel):
    items: list[TicketOut]
    nextCursor: str | None


class ParticipantOut(BaseModel):
    userId: str
    name: str
    lastReadSeq: int
    lastReadAt: datetime | None
    isMuted: bool
