"""Who may change what inside a ticket: the table of API.md "Tickets", in one pure function.

`decide(role, action, ticket)` answers for one role in the ticket; `decide_for(roles, ...)` for a
caller who holds several (a creator who is also the assignee). Nothing here touches the database:
the service works out the caller's roles and the ticket's state, asks, and raises the refusal.
Non-participants never get here: they are told the ticket does not exist (404) before any question.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ticket_comms.errors import AppError, Conflict, Forbidden


class Role(StrEnum):
    """A caller's role in one ticket, most powerful first."""

    STAFF = "staff"  # an admin or a `service` caller
    ASSIGNEE = "assignee"
    CREATOR = "creator"
    PARTICIPANT = "participant"  # any other participant: neither the creator nor the assignee


MAX_PARTICIPANTS = 50

# Status -> the statuses it may move to. Reopening is in the graph but only staff may do it.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "Open": ("Assigned", "InProgress", "OnHold", "Cancelled"),
    "Assigned": ("InProgress", "OnHold", "Completed", "Cancelled", "Open"),
    "InProgress": ("OnHold", "Completed", "Cancelled"),
    "OnHold": ("InProgress", "Cancelled"),
    "Completed": ("Open",),
    "Cancelled": ("Open",),
}
REOPENING = frozenset({("Completed", "Open"), ("Cancelled", "Open")})


@dataclass(frozen=True, slots=True)
class TicketState:
    status: str
    created_by: str
    assignee_id: str | None


@dataclass(frozen=True, slots=True)
class EditDetails:
    """Change the title or the description."""


@dataclass(frozen=True, slots=True)
class ChangeStatus:
    to: str


@dataclass(frozen=True, slots=True)
class ChangeAssignee:
    to: str | None  # None: unassign


@dataclass(frozen=True, slots=True)
class AddParticipant:
    user_id: str


@dataclass(frozen=True, slots=True)
class RemoveParticipant:
    user_id: str
    by_self: bool  # the caller removes themself: leaving


Action = EditDetails | ChangeStatus | ChangeAssignee | AddParticipant | RemoveParticipant


class NotAllowed(Forbidden):
    """You are not allowed to do this in this ticket."""

    code = "not_allowed"


class InvalidTransition(Conflict):
    """This status change is not allowed."""

    code = "invalid_transition"


def allowed_statuses(role: Role, status: str) -> list[str]:
    """The statuses a holder of `role` may move a ticket from `status` to."""
    if role is Role.STAFF:
        return list(TRANSITIONS[status])
    if role is Role.ASSIGNEE:
        return [to for to in TRANSITIONS[status] if (status, to) not in REOPENING]
    if role is Role.CREATOR and status == "Open":
        return ["Cancelled"]
    return []


def decide(role: Role, action: Action, ticket: TicketState) -> AppError | None:
    """None when `role` may do `action` to `ticket`, else the error to answer with."""
    match action:
        case EditDetails():
            if role is Role.PARTICIPANT:
                return NotAllowed("Only the ticket's creator, its assignee or an admin can edit it.")
            return None
        case ChangeStatus(to=to):
            return _status(role, ticket.status, to)
        case ChangeAssignee(to=to):
            if role is Role.STAFF:
                return None
            if role is Role.ASSIGNEE:
                if to is None or to == ticket.assignee_id:
                    return NotAllowed(
                        "The assignee can hand the ticket over to another user, not unassign it."
                    )
                return None
            return NotAllowed("Only the assignee or an admin can change who is assigned.")
        case AddParticipant():
            if role in (Role.STAFF, Role.ASSIGNEE):
                return None
            if role is Role.CREATOR:
                if ticket.status == "Open":
                    return None
                return NotAllowed("The creator can add participants only while the ticket is Open.")
            return NotAllowed("Only the ticket's creator, its assignee or an admin can add participants.")
        case RemoveParticipant(user_id=user_id, by_self=by_self):
            if role is Role.STAFF:
                return None
            if role is Role.ASSIGNEE:
                if user_id == ticket.created_by:
                    return NotAllowed("The assignee cannot remove the ticket's creator.")
                return None
            if role is Role.PARTICIPANT and by_self:
                return None
            if role is Role.CREATOR and by_self:
                return NotAllowed("The ticket's creator cannot leave it.")
            return NotAllowed("Only the assignee or an admin can remove participants.")
    raise AssertionError(f"unknown action {action!r}")


def _status(role: Role, current: str, to: str) -> AppError | None:
    if role is Role.PARTICIPANT:
        return NotAllowed("Only the assignee or an admin can change the status.")
    if role is Role.CREATOR and current != "Open":
        return NotAllowed("The creator can only cancel the ticket, and only while it is Open.")
    # The caller may change the status in this state: a move off the graph is a conflict (409) that
    # says which moves they can make.
    if to not in TRANSITIONS[current]:
        allowed = allowed_statuses(role, current)
        return InvalidTransition(
            f"A ticket cannot go from {current} to {to}; "
            + (f"allowed: {', '.join(allowed)}." if allowed else "you cannot change its status now."),
            details={"from": current, "to": to, "allowed": allowed},
        )
    if to in allowed_statuses(role, current):
        return None
    if (current, to) in REOPENING:
        return NotAllowed("Only an admin can reopen a ticket.")
    if role is Role.CREATOR:
        return NotAllowed("The creator can only cancel the ticket, and only while it is Open.")
    return NotAllowed("Only the assignee or an admin can change the status.")


def decide_for(roles: Iterable[Role], action: Action, ticket: TicketState) -> AppError | None:
    """None when any of the caller's roles allows the action; else the most powerful role's refusal."""
    refusal: AppError | None = None
    for role in sorted(roles, key=list(Role).index):
        answer = decide(role, action, ticket)
        if answer is None:
            return None
        refusal = refusal or answer
    return refusal or NotAllowed()


def roles_of(user_id: str, *, is_staff: bool, is_participant: bool, ticket: TicketState) -> frozenset[Role]:
    """The caller's roles in the ticket, the table's columns (empty: not a participant, so the ticket
    is hidden). A creator who is also the assignee holds both; PARTICIPANT is for everyone else."""
    roles: set[Role] = set()
    if is_staff:
        roles.add(Role.STAFF)
    if is_participant:
        if ticket.created_by == user_id:
            roles.add(Role.CREATOR)
        if ticket.assignee_id == user_id:
            roles.add(Role.ASSIGNEE)
        if not roles & {Role.CREATOR, Role.ASSIGNEE}:
            roles.add(Role.PARTICIPANT)
    return frozenset(roles)


def state_of(row: dict[str, Any]) -> TicketState:
    return TicketState(row["status"], row["created_by"], row["assignee_id"])
