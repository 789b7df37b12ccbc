"""A ticket with 10,000 messages opens at its latest message, scrolls back through older pages with only
a screenful of messages in the page (virtualized), in order, and a link to its very first message works.

No timing is asserted (that is bench/web_budgets.py's job): every wait is for a condition to be true.
The history is written straight into the database (10,000 HTTP posts would be most of the test).
"""

from __future__ import annotations

import re

import psycopg
from playwright.sync_api import Page, expect

from .conftest import create_ticket
from .test_chat import log, message

COUNT = 10_000
# Virtuoso draws what is on screen plus a little; a list that rendered the history would be thousands.
MAX_DRAWN = 150


def _seed(database_url: str, ticket_id: str, a: str, b: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            """
            INSERT INTO messages (ticket_id, seq, sender_id, type, content, created_at)
            SELECT t.id, t.last_seq + g, CASE WHEN g %% 3 = 0 THEN %(b)s ELSE %(a)s END, 'Text',
                   'Message ' || lpad(g::text, 5, '0') || ' of the long history',
                   now() - make_interval(secs => (%(n)s - g) * 20)
            FROM tickets t, generate_series(1, %(n)s) g WHERE t.id = %(t)s
            """,
            {"t": ticket_id, "a": a, "b": b, "n": COUNT},
        )
        conn.execute(
            "UPDATE tickets SET last_seq = last_seq + %(n)s, last_activity_at = now() WHERE id = %(t)s",
            {"t": ticket_id, "n": COUNT},
        )
        conn.execute(
            """UPDATE ticket_participants SET last_read_seq = (SELECT last_seq FROM tickets WHERE id = %(t)s)
               WHERE ticket_id = %(t)s""",
            {"t": ticket_id},
        )


def _drawn_numbers(page: Page) -> list[int]:
    texts = log(page).get_by_role("article").all_inner_texts()
    return [int(m.group(1)) for t in texts if (m := re.search(r"Message (\d{5})", t))]


def test_a_10000_message_ticket_opens_and_scrolls(people, pages, e2e_database_url):
    alice, tom = people("Alice Carter"), people("Tom Reyes")
    ticket = create_ticket(alice, "Ten thousand messages", tom)
    _seed(e2e_database_url, ticket, alice.id, tom.id)
    page = pages.open(tom, f"/tickets/{ticket}")
    expect(message(page, "Message 10000 of")).to_be_in_viewport(timeout=30_000)
    # Still there a moment later: the list once drifted up by part of a message after opening.
    page.wait_for_timeout(3000)
    expect(message(page, "Message 10000 of")).to_be_in_viewport()
    assert len(_drawn_numbers(page)) <= MAX_DRAWN

    # Wheel upwards like a reader: older pages are prepended, what is drawn stays a screenful, in order.
    log(page).hover()
    lowest = COUNT
    for _ in range(400):
        page.mouse.wheel(0, -1500)
        page.wait_for_timeout(50)
        drawn = _drawn_numbers(page)
        assert len(drawn) <= MAX_DRAWN, f"{len(drawn)} messages drawn at once"
        assert drawn == sorted(set(drawn)), "messages drawn out of order or twice"
        lowest = min([lowest, *drawn])
        if lowest <= COUNT - 400:  # several older pages (50 each) were loaded and scrolled through
            break
    assert lowest <= COUNT - 400, f"scrolling up only reached message {lowest}"

    # A link to the very first message loads history back to it and shows it, at the beginning.
    first_id = tom.http.get(f"/api/v1/tickets/{ticket}/messages", params={"afterSeq": 0, "limit": 1}).json()[
        "items"
    ][0]["id"]
    page.goto(f"/tickets/{ticket}?message={first_id}")
    first = message(page, "Message 00001 of")
    expect(first).to_be_in_viewport(timeout=120_000)
    expect(first).to_have_class(re.compile("message-highlight"))
    assert len(_drawn_numbers(page)) <= MAX_DRAWN
