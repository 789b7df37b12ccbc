"""The template editor's endpoints: draft previews (nothing saved), the stale-save check, and the
version history with restore."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from ticket_comms.email.templates import builtin

CONTEXT = {
    "recipient": {"name": "Carol", "email": "carol@example.com"},
    "links": {"ticket": "https://t.example.com/t/1", "preferences": "https://t.example.com/p"},
    "ticket": {"id": "1", "title": "Leaking tap", "status": "Completed", "url": "https://t.example.com/t/1"},
    "actor": {"name": "Bob"},
}
BASE = "/api/v1/email/templates"


@pytest.fixture
def admin(as_user: Any) -> Any:
    return as_user("root", role="admin")


@pytest.fixture(autouse=True)
async def restore_builtins(database_url: str, admin: Any) -> Any:
    yield
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("DELETE FROM email_templates WHERE NOT (name = ANY(%s))", (list(builtin.SPECS),))
    assert (await admin.post(f"{BASE}/TicketCompleted/reset")).status_code == 200
    assert (await admin.post(f"{BASE}/layout/reset")).status_code == 200


async def test_a_draft_previews_without_being_saved(admin: Any) -> None:
    saved = (await admin.get(f"{BASE}/TicketCompleted")).json()
    response = await admin.post(
        f"{BASE}/TicketCompleted/preview",
        json={
            "context": CONTEXT,
            "subject": "Draft: {{ ticket.title | upper }}",
            "htmlContent": "<p>Draft body for {{ recipient.name }}</p>",
            "textContent": "",
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subject"] == "Draft: LEAKING TAP"
    assert "Draft body for Carol" in body["html"] and body["html"].startswith(
        "<!DOCTYPE html>"
    )  # in the layout
    assert "Draft body for Carol" in body["text"]  # generated from the HTML
    # Nothing was saved, and the saved version still renders as before.
    assert (await admin.get(f"{BASE}/TicketCompleted")).json() == saved
    plain = (await admin.post(f"{BASE}/TicketCompleted/preview", json={"context": CONTEXT})).json()
    assert plain["subject"] == "Completed: Leaking tap"
    # Only the parts sent are replaced.
    only_subject = await admin.post(
        f"{BASE}/TicketCompleted/preview", json={"context": CONTEXT, "subject": "Hi"}
    )
    assert only_subject.json()["subject"] == "Hi" and only_subject.json()["text"] == plain["text"]


async def test_a_draft_with_a_syntax_error_is_a_422_at_its_line(admin: Any) -> None:
    response = await admin.post(
        f"{BASE}/TicketCompleted/preview",
        json={"context": CONTEXT, "htmlContent": "<p>ok</p>\n<p>{{ ticket.title </p>"},
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "template_invalid"
    assert error["details"][0]["field"] == "htmlContent" and error["details"][0]["line"] == 2


async def test_a_layout_draft_previews_with_a_placeholder_body(admin: Any) -> None:
    response = await admin.post(
        f"{BASE}/layout/preview",
        json={"context": {}, "htmlContent": "<main>NEW LAYOUT {{ content }}</main>"},
    )
    assert response.status_code == 200, response.text
    assert "NEW LAYOUT The body of each email goes here." in response.json()["html"]
    missing = await admin.post(
        f"{BASE}/layout/preview", json={"context": {}, "htmlContent": "<main>x</main>"}
    )
    assert missing.status_code == 422


async def test_a_stale_save_is_refused_and_overwrites_nothing(admin: Any) -> None:
    opened = (await admin.get(f"{BASE}/TicketCompleted")).json()
    first = await admin.put(
        f"{BASE}/TicketCompleted",
        json={"subject": "First {{ ticket.title }}", "updatedAt": opened["updatedAt"]},
    )
    assert first.status_code == 200, first.text
    second = await admin.put(
        f"{BASE}/TicketCompleted",
        json={"subject": "Second {{ ticket.title }}", "updatedAt": opened["updatedAt"]},
    )
    assert second.status_code == 409, second.text
    error = second.json()["error"]
    assert error["code"] == "stale_template"
    assert error["details"]["updatedAt"] == first.json()["updatedAt"]
    assert (await admin.get(f"{BASE}/TicketCompleted")).json()["subject"] == "First {{ ticket.title }}"
    # Saving against the latest version works; without updatedAt the check is skipped.
    third = await admin.put(
        f"{BASE}/TicketCompleted", json={"subject": "Third", "updatedAt": first.json()["updatedAt"]}
    )
    assert third.status_code == 200, third.text
    assert (await admin.put(f"{BASE}/TicketCompleted", json={"subject": "Fourth"})).status_code == 200
    bad = await admin.put(f"{BASE}/TicketCompleted", json={"subject": "x", "updatedAt": "yesterday"})
    assert bad.status_code == 422
    naive = await admin.put(
        f"{BASE}/TicketCompleted", json={"subject": "x", "updatedAt": "2026-01-01T00:00:00"}
    )
    assert naive.status_code == 422


async def test_every_save_keeps_a_version_that_can_be_restored(admin: Any) -> None:
    shipped = (await admin.get(f"{BASE}/TicketCompleted")).json()
    for subject in ("One {{ ticket.title }}", "Two {{ ticket.title }}"):
        assert (await admin.put(f"{BASE}/TicketCompleted", json={"subject": subject})).status_code == 200
    # Switching on or off is not a new version of the content.
    assert (await admin.put(f"{BASE}/TicketCompleted", json={"isActive": False})).status_code == 200
    response = await admin.get(f"{BASE}/TicketCompleted/versions")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [v["version"] for v in items] == [3, 2, 1]
    assert [v["subject"] for v in items] == [
        "Two {{ ticket.title }}",
        "One {{ ticket.title }}",
        shipped["subject"],
    ]
    assert (
        items[0]["createdBy"] == "root" and items[2]["createdBy"] is None
    )  # 1: what was there before history
    assert items[2]["htmlContent"] == shipped["htmlContent"]
    # Who, by name when the user is known (the token's name or address), else by id.
    assert items[0]["createdByName"] and items[2]["createdByName"] is None

    one = await admin.get(f"{BASE}/TicketCompleted/versions/{items[1]['id']}")
    assert one.status_code == 200 and one.json() == items[1]

    restored = await admin.post(f"{BASE}/TicketCompleted/versions/{items[2]['id']}/restore")
    assert restored.status_code == 200, restored.text
    assert restored.json()["subject"] == shipped["subject"] and restored.json()["isActive"] is False
    after = (await admin.get(f"{BASE}/TicketCompleted/versions")).json()["items"]
    assert after[0]["version"] == 4 and after[0]["subject"] == shipped["subject"]


async def test_created_templates_start_their_history_and_unknown_versions_are_404(admin: Any) -> None:
    body = {"name": "Welcome", "subject": "Hi {{ recipient.name }}", "htmlContent": "<p>Hello</p>"}
    assert (await admin.post(BASE, json=body)).status_code == 201
    items = (await admin.get(f"{BASE}/Welcome/versions")).json()["items"]
    assert [(v["version"], v["createdBy"]) for v in items] == [(1, "root")]
    missing = "00000000-0000-0000-0000-000000000000"
    assert (await admin.get(f"{BASE}/Welcome/versions/{missing}")).status_code == 404
    assert (await admin.post(f"{BASE}/Welcome/versions/{missing}/restore")).status_code == 404
    assert (await admin.get(f"{BASE}/Welcome/versions/not-a-uuid")).status_code == 422
    assert (await admin.get(f"{BASE}/Nope/versions")).status_code == 404
    # A version of another template cannot be restored here.
    other = (await admin.get(f"{BASE}/Welcome/versions")).json()["items"][0]["id"]
    assert (await admin.post(f"{BASE}/TicketCompleted/versions/{other}/restore")).status_code == 404


async def test_members_cannot_read_or_restore_history(as_user: Any) -> None:
    member = as_user("mallory")
    missing = "00000000-0000-0000-0000-000000000000"
    for call in (
        member.get(f"{BASE}/TicketCompleted/versions"),
        member.get(f"{BASE}/TicketCompleted/versions/{missing}"),
        member.post(f"{BASE}/TicketCompleted/versions/{missing}/restore"),
        member.post(f"{BASE}/TicketCompleted/preview", json={"context": {}, "subject": "x"}),
    ):
        response = await call
        assert response.status_code == 403, response.text
