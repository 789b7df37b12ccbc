"""After a Redis outage: put this process's sockets back in exactly the ticket rooms they belong to.

Membership changes travel on the Redis channel (realtime/manager.py). One published while this
process's subscription was down never arrives here: a participant added meanwhile would not get the
ticket's events on this process, a removed one would keep getting them. So when the subscription
comes back, each connected user's ticket rooms are recomputed from the database (the truth), the way
a new connection computes them; rooms an admin entered to watch a ticket (`watch:`) are left alone.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import Any

import socketio

from ticket_comms.context import AppContext
from ticket_comms.realtime.broadcast import ticket_room, user_room

log = logging.getLogger(__name__)

NAMESPACE = "/"
USERS_PER_QUERY = 1000


async def _rooms_of(ctx: AppContext, user_ids: list[str]) -> dict[str, set[str]]:
    rooms: dict[str, set[str]] = defaultdict(set)
    for start in range(0, len(user_ids), USERS_PER_QUERY):
        rows = await ctx.db.fetch_all(
            "SELECT user_id, ticket_id FROM ticket_participants WHERE user_id = ANY(%(ids)s)",
            {"ids": user_ids[start : start + USERS_PER_QUERY]},
        )
        for row in rows:
            rooms[row["user_id"]].add(ticket_room(row["ticket_id"]))
    return rooms


async def reconcile_rooms(manager: Any, ctx: AppContext) -> None:
    rooms = manager.rooms.get(NAMESPACE, {})
    user_ids = [
        room[len("user:") :] for room in list(rooms) if isinstance(room, str) and room.startswith("user:")
    ]
    if not user_ids:
        return
    wanted = await _rooms_of(ctx, user_ids)
    entered = removed = 0
    for user_id in user_ids:
        for sid, eio_sid in list(manager.get_participants(NAMESPACE, user_room(user_id))):
            current = manager.get_rooms(sid, NAMESPACE)
            have = {r for r in current if r.startswith("ticket:")}
            watched = {ticket_room(r[len("watch:") :]) for r in current if r.startswith("watch:")}
            for room in wanted[user_id] - have:
                await socketio.AsyncManager.enter_room(manager, sid, NAMESPACE, room, eio_sid=eio_sid)
                entered += 1
            for room in have - wanted[user_id] - watched:
                await socketio.AsyncManager.leave_room(manager, sid, NAMESPACE, room)
                removed += 1
    # As on connect: a removal committed between the query and the entering found the socket outside
    # the room; look again now that it is inside, and leave what is gone.
    still = await _rooms_of(ctx, user_ids)
    for user_id in user_ids:
        gone = wanted[user_id] - still[user_id]
        for sid, _ in list(manager.get_participants(NAMESPACE, user_room(user_id))) if gone else []:
            watched = {
                ticket_room(r[len("watch:") :])
                for r in manager.get_rooms(sid, NAMESPACE)
                if r.startswith("watch:")
            }
            for room in gone - watched:
                await socketio.AsyncManager.leave_room(manager, sid, NAMESPACE, room)
                removed += 1
    log.warning(
        "ticket rooms recomputed after Redis came back",
        extra={"fields": {"entered": entered, "left": removed}},
    )
