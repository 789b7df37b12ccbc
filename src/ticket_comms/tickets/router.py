"""Ticket endpoints: create, list, read, change; participants (list, add, remove, mute)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from ticket_comms.auth.deps import User
from ticket_comms.deps import Ctx, json
from ticket_comms.tickets import service as tickets
from ticket_comms.tickets.schemas import (
    AddParticipant,
    CreateTicket,
    MuteParticipant,
    ParticipantOut,
    TicketOut,
    TicketPage,
    UpdateTicket,
)

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])


@router.post("", status_code=201, response_model=TicketOut)
async def create_ticket(ctx: Ctx, user: User, body: CreateTicket):
    return json(await tickets.create_ticket(ctx, user, body), 201)


@router.get("", response_model=TicketPage)
async def list_tickets(
    ctx: Ctx,
    user: User,
    limit: int = Query(50, ge=1, le=200),
    cursor: str | None = Query(None, max_length=500),
):
    return json(await tickets.list_tickets(ctx, user, limit=limit, cursor=cursor))


@router.get("/{ticket_id}", response_model=TicketOut)
async def get_ticket(ctx: Ctx, user: User, ticket_id: UUID):
    return json(await tickets.get_ticket(ctx, user, ticket_id))


@router.patch("/{ticket_id}", response_model=TicketOut)
async def update_ticket(ctx: Ctx, user: User, ticket_id: UUID, body: UpdateTicket):
    return json(await tickets.update_ticket(ctx, user, ticket_id, body))


@router.get("/{ticket_id}/participants", response_model=list[ParticipantOut])
async def list_participants(ctx: Ctx, user: User, ticket_id: UUID):
    return json(await tickets.list_participants(ctx, user, ticket_id))


@router.post("/{ticket_id}/participants", status_code=201, response_model=ParticipantOut)
async def add_participant(ctx: Ctx, user: User, ticket_id: UUID, body: AddParticipant):
    participant, created = await tickets.add_participant(ctx, user, ticket_id, body.user_id)
    return json(participant, 201 if created else 200)


@router.patch("/{ticket_id}/participants/me", response_model=ParticipantOut)
async def update_my_participation(ctx: Ctx, user: User, ticket_id: UUID, body: MuteParticipant):
    return json(await tickets.set_muted(ctx, user, ticket_id, body.is_muted))


@router.delete("/{ticket_id}/participants/{user_id}", status_code=204)
async def remove_participant(
    ctx: Ctx, user: User, ticket_id: UUID, user_id: str = Path(min_length=1, max_length=255)
):
    await tickets.remove_participant(ctx, user, ticket_id, user_id)
    return Response(status_code=204)
