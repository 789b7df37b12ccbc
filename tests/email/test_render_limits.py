"""Admin-edited templates cannot exhaust the service: the operating system caps their memory and CPU.

Each known way around the sandbox's size checks, and a generic output explosion the sandbox knows
nothing about, ends in a clear 422 `template_render_failed`, and the service keeps rendering after.
Shipped templates render in-process (the email hot path); edited ones in the capped pool.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from ticket_comms.email.templates import builtin, rendering
from ticket_comms.email.templates.rendering import Template
from ticket_comms.email.templates.sandbox import HTML_ENV, compile_source, places_variable

# name -> (subject, htmlContent, the reason the render is refused)
TRICKS: dict[str, tuple[str, str, str]] = {
    # printf with a mapping key: the width comes after `(a)`, where the printf check does not look.
    "PrintfKey": ("s", "{{ '%(a)999999999s' % {'a': 'x'} }}", "memory"),
    # str.format with the width in a nested field.
    "NestedFormat": ("s", "{{ '{:{}}'.format('x', 999999999) }}", "memory"),
    # str.join with a large separator: 10,000 x 200 kB.
    "JoinSeparator": ("s", "{{ ('x' * 199999).join(['a'] * 10000)|length }}", "memory"),
    # batch() pads the last batch with `fill` up to N items.
    "BatchFill": ("s", "{{ [1]|batch(300000000, 'x')|list|length }}", "memory"),
    # The subject was rendered whole before it was cut to size (one preview reached 1.2 GB).
    "HugeSubject": ("{% for i in range(10000) %}{{ 'x' * 199999 }}{% endfor %}", "<p>b</p>", "unsafe"),
    # A generic explosion no sandbox check knows about: a string that doubles itself 20 times.
    "Doubling": (
        "s",
        "{% set ns = namespace(s='x' * 100000) %}{% for i in range(20) %}{% set ns.s = '{0}{0}'.format(ns.s) %}"
        "{% endfor %}{{ ns.s|length }}",
        "memory",
    ),
    # One C-level operation the watchdog cannot interrupt: comparing two 2**200-node shared structures.
    "EndlessCompare": (
        "s",
        "{% set ns = namespace(a=[1], b=[1]) %}{% for i in range(200) %}{% set ns.a = [ns.a, ns.a] %}"
        "{% set ns.b = [ns.b, ns.b] %}{% endfor %}{{ ns.a == ns.b }}",
        "timeout",
    ),
}


@pytest.fixture
def admin(as_user: Any) -> Any:
    return as_user("root", role="admin")


@pytest.fixture(autouse=True)
async def drop_custom_templates(database_url: str) -> Any:
    yield
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("DELETE FROM email_templates WHERE NOT (name = ANY(%s))", (list(builtin.SPECS),))


async def _still_renders(admin: Any) -> None:
    """The service answers, a built-in renders, and the pool renders an edited template again."""
    response = await admin.post(
        "/api/v1/email/templates/OTPRequested/preview",
        json={"context": {"otp": {"code": "482913", "expiresInMinutes": 10}}},
    )
    assert response.status_code == 200, response.text
    response = await admin.post(
        "/api/v1/email/templates",
        json={"name": "Harmless", "subject": "Hi {{ who }}", "htmlContent": "<p>{{ who }}</p>"},
    )
    assert response.status_code in (201, 409), response.text
    response = await admin.post("/api/v1/email/templates/Harmless/preview", json={"context": {"who": "Ann"}})
    assert response.status_code == 200, response.text
    assert response.json()["subject"] == "Hi Ann"


@pytest.mark.parametrize("name", list(TRICKS))
async def test_each_trick_ends_in_a_template_error_and_the_service_survives(admin: Any, name: str) -> None:
    subject, html, reason = TRICKS[name]
    response = await admin.post(
        "/api/v1/email/templates", json={"name": name, "subject": subject, "htmlContent": html}
    )
    assert response.status_code == 201, response.text
    response = await admin.post(f"/api/v1/email/templates/{name}/preview", json={"context": {}})
    assert response.status_code == 422, response.text[:300]
    error = response.json()["error"]
    assert error["code"] == "template_render_failed", error
    assert error["details"]["template"] == name
    assert error["details"]["reason"] == reason, error
    await _still_renders(admin)


async def test_shipped_templates_render_in_process_and_edited_ones_in_the_pool(app: Any, admin: Any) -> None:
    rows = await app.ctx.db.fetch_all("SELECT * FROM email_templates")
    seeded = [Template.from_row(row) for row in rows]
    assert {t.name for t in seeded} >= set(builtin.SPECS)
    # What the service ships is trusted: every seeded built-in (and the layout) stays in-process.
    assert [t.name for t in seeded if t.name in builtin.SPECS and not rendering.is_shipped(t)] == []

    response = await admin.put(
        "/api/v1/email/templates/TicketCreated", json={"subject": "Edited: {{ ticket.title }}"}
    )
    assert response.status_code == 200, response.text
    edited = Template.from_row(
        await app.ctx.db.fetch_one("SELECT * FROM email_templates WHERE name = 'TicketCreated'")
    )
    assert not rendering.is_shipped(edited)
    response = await admin.post(
        "/api/v1/email/templates/TicketCreated/preview",
        json={"context": {"ticket": {"title": "Tap"}, "recipient": {"name": "C", "email": "c@example.com"}}},
    )
    assert response.status_code == 200, response.text
    assert response.json()["subject"] == "Edited: Tap"

    # Reset restores the shipped version, which renders in-process again.
    response = await admin.post("/api/v1/email/templates/TicketCreated/reset")
    assert response.status_code == 200
    reset = Template.from_row(
        await app.ctx.db.fetch_one("SELECT * FROM email_templates WHERE name = 'TicketCreated'")
    )
    assert rendering.is_shipped(reset)


# Expressions whose parts are all literals: Jinja would fold each while compiling, calling the filter.
FOLDABLE = [
    "{{ 1|probe }}",
    "{{ [1, 2]|probe|length }}",
    "<p>{{ content }}</p>{{ 'x'|probe }}",
    "{% autoescape 1|probe %}<b>{{ content }}</b>{% endautoescape %}",
]


@pytest.mark.parametrize("source", FOLDABLE)
def test_compiling_a_template_runs_nothing_it_wrote(source: str) -> None:
    """Saving checks a template by compiling it in the serve process, outside the workers' limits:
    the compiler must not evaluate the admin's expressions (`[1]|batch(300000000, 'x')|list|length`
    built 4.6 GB there, for 16 s, on the event loop). They run when rendering, in a capped worker."""
    calls: list[Any] = []

    def probe(value: Any) -> Any:
        calls.append(value)
        return value

    env = HTML_ENV.overlay()
    env.filters = {**HTML_ENV.filters, "probe": probe}
    compiled = compile_source(env, source, "<probe>")
    places_variable(env, source, "content")
    assert calls == []
    compiled.render(content="c")
    assert len(calls) == 1


def test_the_layout_must_place_the_body() -> None:
    assert places_variable(HTML_ENV, "<main>{{ content }}</main>", "content")
    assert places_variable(HTML_ENV, "{% if content %}{{ content|safe }}{% endif %}", "content")
    assert not places_variable(HTML_ENV, "<main>{{ body }}</main>", "content")
    assert not places_variable(HTML_ENV, "{% set content = 'x' %}{{ content }}", "content")


async def test_saving_a_layout_without_the_body_is_refused(admin: Any) -> None:
    response = await admin.put(
        "/api/v1/email/templates/layout", json={"htmlContent": "<main>{{ body }}</main>"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "htmlContent"
