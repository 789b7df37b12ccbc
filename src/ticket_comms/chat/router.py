"""Chat endpoints: a ticket's messages (list, send, edit, delete, react), read marks, unread counts, search."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from ticket_comms.auth.deps import User
from ticket_comms.chat import read_marks, search, service
from ticket_comms.chat.schemas import (
    EditMessage,
    MarkRead,
    MessageOut,
    MessagePage,
    ReadMarkOut,
    SearchPage,
    SendMessage,
)
from ticket_comms.deps import Ctx, json
from ticket_comms.errors import ValidationFailed

router = APIRouter(prefix="/api/v1", tags=["chat"])

SEQ = 2**62
# Checked to be one emoji by the service (chat/reactions.py), for HTTP and socket callers alike.
Emoji = Path(min_length=1, max_length=64)


@router.get("/tickets/{ticket_id}/messages", response_model=MessagePage)
async def list_messages(
    ctx: Ctx,
    user: User,
    ticket_id: UUID,
    limit: int = Query(50, ge=1, le=200),
    before_seq: int | None = Query(None, alias="beforeSeq", ge=0, le=SEQ),
    after_seq: int | None = Query(None, alias="afterSeq", ge=0, le=SEQ),
):
    if before_seq is not None and after_seq is not None:
        raise ValidationFailed("Give beforeSeq or afterSeq, not both.")
    return json(
        await service.list_messages(
            ctx, user, ticket_id, limit=limit, before_seq=before_seq, after_seq=after_seq
        )
    )


@router.post("/tickets/{ticket_id}/messages", status_code=201, response_model=MessageOut)
async def send_message(ctx: Ctx, user: User, ticket_id: UUID, body: SendMessage):
    message, created = await service.send_message(ctx, user, ticket_id, body)
    return json(message, 201 if created else 200)


@router.get("/tickets/{ticket_id}/messages/search", response_model=SearchPage)
async def search_ticket(
    ctx: Ctx,
    user: User,
    ticket_id: UUID,
    q: str = Query(min_length=1, max_length=500),
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = Query(None, max_length=500),
):
    return json(await search.search(ctx, user, q, limit=limit, cursor=cursor, ticket_id=ticket_id))


@router.get("/search/messages", response_model=SearchPage)
async def search_all(
    ctx: Ctx,
    user: User,
    q: str = Query(min_length=1, max_length=500),
    limit: int = Query(20, ge=1, le=100),
    cursor: str | None = Query(None, max_length=500),
):
    return json(await search.search(ctx, user, q, limit=limit, cursor=cursor))


@router.patch("/tickets/{ticket_id}/messages/{message_id}", response_model=MessageOut)
async def edit_message(ctx: Ctx, user: User, ticket_id: UUID, message_id: UUID, body: EditMessage):
    return json(await service.edit_message(ctx, user, ticket_id, message_id, body))


@router.delete("/tickets/{ticket_id}/messages/{message_id}", status_code=204)
async def delete_message(ctx: Ctx, user: User, ticket_id: UUID, message_id: UUID):
    await service.delete_message(ctx, user, ticket_id, message_id)
    return Response(status_code=204)


@router.put("/tickets/{ticket_id}/messages/{message_id}/reactions/{emoji}", response_model=MessageOut)
async def add_reaction(ctx: Ctx, user: User, ticket_id: UUID, message_id: UUID, emoji: str = Emoji):
    return json(await service.set_reaction(ctx, user, ticket_id, message_id, emoji, on=True))


@router.delete("/tickets/{ticket_id}/messages/{message_id}/reactions/{emoji}", response_model=MessageOut)
async def remove_reaction(ctx: Ctx, user: User, ticket_id: UUID, message_id: UUID, emoji: str = Emoji):
    return json(await service.set_reaction(ctx, user, ticket_id, message_id, emoji, on=False))


@router.post("/tickets/{ticket_id}/read", response_model=ReadMarkOut)
async def mark_read(ctx: Ctx, user: User, ticket_id: UUID, body: MarkRead | None = None):
    return json(await read_marks.mark_read(ctx, user, ticket_id, body.up_to_seq if body else None))


@router.get("/me/unread", response_model=dict[str, int])
async def unread(ctx: Ctx, user: User):
    return json(await read_marks.unread_counts(ctx, user))
