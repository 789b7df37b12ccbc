"""Finding people to add to a ticket (`GET /users?q=`): the people picker of the web app.

What a member may see is the people they already share a ticket with, and only their id, name and
role: the user directory is not public (an address book of every customer would leak to every
customer), and an email address is never shown or searched (a search that matched on it would reveal
it letter by letter). Admins and `service` callers see everyone and may also search by email.
Anyone else is added by exact id, which reveals nothing (adding answers alike for unknown ids).
"""

from __future__ import annotations

from typing import Any

from ticket_comms.auth.service import CurrentUser
from ticket_comms.database import Database
from ticket_comms.pagination import decode_cursor, encode_cursor

# Sorted by display name (then id), so a page boundary is a (sort name, id) pair: keyset pagination.
_SORT = "lower(coalesce(u.name, u.id))"

# A member sees the people who share at least one ticket with them (EXISTS over the participants'
# (user_id, ticket_id) key, so a technician on thousands of tickets costs one probe per candidate).
_SHARES_A_TICKET = """
EXISTS (SELECT 1 FROM ticket_participants mine
        JOIN ticket_participants theirs ON theirs.ticket_id = mine.ticket_id
        WHERE mine.user_id = %(caller)s AND theirs.user_id = u.id)
"""


def _like(q: str) -> str:
    """`q` as a case-insensitive substring pattern, its own % and _ taken literally."""
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def find_people(
    db: Database, caller: CurrentUser, q: str, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    """A page of `{id, name, role}` matching `q` (in name or id; email too for admins), the caller and
    `service` accounts left out (neither is someone to add), sorted by name."""
    everyone = caller.is_admin or caller.is_service
    where = ["u.id <> %(caller)s", "u.role <> 'service'"]
    params: dict[str, Any] = {"caller": caller.id, "limit": limit + 1}
    if q:
        params["q"] = _like(q)
        fields = ["u.name", "u.id"] + (["u.email"] if everyone else [])
        where.append("(" + " OR ".join(f"{f} ILIKE %(q)s" for f in fields) + ")")
    if not everyone:
        where.append(_SHARES_A_TICKET)
    if cursor:
        params["after_name"], params["after_id"] = decode_cursor(cursor, str, str)
        where.append(f"({_SORT}, u.id) > (%(after_name)s, %(after_id)s)")
    rows = await db.fetch_all(
        f"""
        SELECT u.id, coalesce(u.name, u.id) AS name, u.role, {_SORT} AS sort_name
        FROM users u WHERE {" AND ".join(where)}
        ORDER BY {_SORT}, u.id LIMIT %(limit)s
        """,
        params,
    )
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]["sort_name"], page[-1]["id"]) if len(rows) > limit else None
    return {
        "items": [{"id": r["id"], "name": r["name"], "role": r["role"]} for r in page],
        "nextCursor": next_cursor,
    }
