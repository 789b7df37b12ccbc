"""The permission table of API.md "Tickets", cell by cell, against the one function that decides it."""

from __future__ import annotations

import itertools
from typing import get_args

import pytest

from ticket_comms.tickets.permissions import (
    TRANSITIONS,
    AddParticipant,
    ChangeAssignee,
    ChangeStatus,
    EditDetails,
    InvalidTransition,
    NotAllowed,
    RemoveParticipant,
    Role,
    TicketState,
    decide,
    decide_for,
    roles_of,
)
from ticket_comms.tickets.schemas import TicketStatus

TICKET_STATUSES = get_args(TicketStatus)
STAFF, ASSIGNEE, CREATOR, OTHER = Role.STAFF, Role.ASSIGNEE, Role.CREATOR, Role.PARTICIPANT
# The allowed transitions exactly as API.md lists them (reopening marked apart).
GRAPH = {
    ("Open", "Assigned"),
    ("Open", "InProgress"),
    ("Open", "OnHold"),
    ("Open", "Cancelled"),
    ("Assigned", "InProgress"),
    ("Assigned", "OnHold"),
    ("Assigned", "Completed"),
    ("Assigned", "Cancelled"),
    ("Assigned", "Open"),
    ("InProgress", "OnHold"),
    ("InProgress", "Completed"),
    ("InProgress", "Cancelled"),
    ("OnHold", "InProgress"),
    ("OnHold", "Cancelled"),
}
REOPEN = {("Completed", "Open"), ("Cancelled", "Open")}


def ticket(status: str = "Open") -> TicketState:
    return TicketState(status=status, created_by="creator", assignee_id="tech")


def allowed(role: Role, action, state: TicketState | None = None) -> bool:
    return decide(role, action, state or ticket()) is None


def test_the_transition_graph_is_the_contracts():
    assert {(a, b) for a, tos in TRANSITIONS.items() for b in tos} == GRAPH | REOPEN
    assert set(TRANSITIONS) == set(TICKET_STATUSES)


@pytest.mark.parametrize("status", TICKET_STATUSES)
def test_title_and_description(status):
    state = ticket(status)
    assert [allowed(r, EditDetails(), state) for r in (STAFF, ASSIGNEE, CREATOR, OTHER)] == [
        True,
        True,
        True,
        False,
    ]
    assert isinstance(decide(OTHER, EditDetails(), state), NotAllowed)


@pytest.mark.parametrize(("current", "to"), list(itertools.permutations(TICKET_STATUSES, 2)))
def test_status_every_pair_for_every_role(current, to):
    state = ticket(current)
    in_graph = (current, to) in GRAPH
    reopening = (current, to) in REOPEN
    expected = {
        STAFF: in_graph or reopening,
        ASSIGNEE: in_graph,
        CREATOR: (current, to) == ("Open", "Cancelled"),
        OTHER: False,
    }
    for role, ok in expected.items():
        answer = decide(role, ChangeStatus(to), state)
        assert (answer is None) == ok, (role, current, to, answer)
        if answer is None:
            continue
        may_change_status = role in (STAFF, ASSIGNEE) or (role is CREATOR and current == "Open")
        if in_graph or reopening or not may_change_status:
            # A move the graph allows but this role may not make, or a role with no say: 403.
            assert isinstance(answer, NotAllowed) and answer.status == 403 and answer.code == "not_allowed"
        else:
            # A move the graph never allows: 409 naming what this caller could do instead.
            assert isinstance(answer, InvalidTransition) and answer.status == 409
            assert answer.code == "invalid_transition"
            assert answer.details["from"] == current and answer.details["to"] == to
            for name in answer.details["allowed"]:
                assert decide(role, ChangeStatus(name), state) is None
                assert name in answer.message


def test_an_invalid_transition_names_the_allowed_ones():
    refusal = decide(ASSIGNEE, ChangeStatus("Completed"), ticket("OnHold"))
    assert isinstance(refusal, InvalidTransition)
    assert refusal.details["allowed"] == ["InProgress", "Cancelled"]
    assert refusal.message == "A ticket cannot go from OnHold to Completed; allowed: InProgress, Cancelled."
    refusal = decide(STAFF, ChangeStatus("InProgress"), ticket("Completed"))
    assert isinstance(refusal, InvalidTransition) and refusal.details["allowed"] == ["Open"]


def test_reopening_is_for_admins_and_services_only():
    for status in ("Completed", "Cancelled"):
        assert allowed(STAFF, ChangeStatus("Open"), ticket(status))
        for role in (ASSIGNEE, CREATOR, OTHER):
            refusal = decide(role, ChangeStatus("Open"), ticket(status))
            assert isinstance(refusal, NotAllowed), role


def test_assignee_column():
    state = ticket("Assigned")
    assert allowed(STAFF, ChangeAssignee("someone")) and allowed(STAFF, ChangeAssignee(None))
    # The assignee hands over to another user, but cannot unassign or "hand over" to themself.
    assert allowed(ASSIGNEE, ChangeAssignee("someone"), state)
    assert not allowed(ASSIGNEE, ChangeAssignee(None), state)
    assert not allowed(ASSIGNEE, ChangeAssignee("tech"), state)
    for role in (CREATOR, OTHER):
        assert isinstance(decide(role, ChangeAssignee("someone"), state), NotAllowed)
        assert isinstance(decide(role, ChangeAssignee(None), state), NotAllowed)


@pytest.mark.parametrize("status", TICKET_STATUSES)
def test_add_participants(status):
    state = ticket(status)
    add = AddParticipant("newcomer")
    assert allowed(STAFF, add, state) and allowed(ASSIGNEE, add, state)
    assert allowed(CREATOR, add, state) == (status == "Open")
    assert isinstance(decide(OTHER, add, state), NotAllowed)


def test_remove_participants():
    state = ticket("InProgress")
    someone, creator = (
        RemoveParticipant("someone", by_self=False),
        RemoveParticipant("creator", by_self=False),
    )
    assert allowed(STAFF, someone, state) and allowed(STAFF, creator, state)
    assert allowed(ASSIGNEE, someone, state) and not allowed(ASSIGNEE, creator, state)
    assert allowed(ASSIGNEE, RemoveParticipant("tech", by_self=True), state)
    assert not allowed(CREATOR, someone, state)
    assert not allowed(CREATOR, RemoveParticipant("creator", by_self=True), state)
    assert not allowed(OTHER, someone, state) and not allowed(OTHER, creator, state)
    assert allowed(OTHER, RemoveParticipant("me", by_self=True), state)


def test_roles_in_a_ticket():
    state = ticket()
    assert roles_of("x", is_staff=False, is_participant=False, ticket=state) == frozenset()
    assert roles_of("x", is_staff=False, is_participant=True, ticket=state) == {OTHER}
    assert roles_of("creator", is_staff=False, is_participant=True, ticket=state) == {CREATOR}
    assert roles_of("tech", is_staff=False, is_participant=True, ticket=state) == {ASSIGNEE}
    both = TicketState("Open", "tech", "tech")
    assert roles_of("tech", is_staff=False, is_participant=True, ticket=both) == {ASSIGNEE, CREATOR}
    assert STAFF in roles_of("boss", is_staff=True, is_participant=False, ticket=state)
    # A creator or assignee who is no longer a participant has no say.
    assert roles_of("creator", is_staff=False, is_participant=False, ticket=state) == frozenset()


def test_a_caller_with_several_roles_gets_the_union():
    both = TicketState("Completed", "tech", "tech")
    assert decide_for({ASSIGNEE, CREATOR}, AddParticipant("x"), both) is None  # the assignee may, any time
    refusal = decide_for({ASSIGNEE, CREATOR}, ChangeStatus("InProgress"), both)
    assert isinstance(refusal, InvalidTransition) and refusal.details["allowed"] == []
    assert isinstance(decide_for(set(), EditDetails(), both), NotAllowed)
