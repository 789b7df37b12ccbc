"""Email templates: built-ins render for every event, the sandbox holds, CRUD and preview are admin-only."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ticket_comms.email import templates
from ticket_comms.email.templates import builtin, rendering

BASE = {
    "recipient": {"name": "Carol", "email": "carol@example.com"},
    "links": {
        "ticket": "https://tickets.example.com/t/42",
        "preferences": "https://tickets.example.com/me/preferences",
        "unsubscribe": "https://tickets.example.com/unsubscribe?token=abc.def",
    },
}
TICKET = {
    "id": "7d1e",
    "title": "Leaking tap in kitchen",
    "status": "InProgress",
    "url": "https://tickets.example.com/t/42",
}

# The data each event carries (API.md), with the values a real event would have.
SAMPLES: dict[str, dict[str, Any]] = {
    "TicketCreated": {"ticket": {**TICKET, "status": "Open"}, "actor": {"name": "Alice"}},
    "TicketAssigned": {
        "ticket": {**TICKET, "status": "Assigned"},
        "actor": {"name": "Alice"},
        "assignee": {"name": "Bob"},
    },
    "TicketStatusChanged": {"ticket": TICKET, "actor": {"name": "Bob"}, "previousStatus": "Assigned"},
    "TicketCompleted": {"ticket": {**TICKET, "status": "Completed"}, "actor": {"name": "Bob"}},
    "QuoteCreated": {
        "quote": {"number": "Q-1001", "total": 1250.5, "url": "https://tickets.example.com/q/1"}
    },
    "QuoteApproved": {"quote": {"number": "Q-1001", "total": "1250.50", "currency": "USD"}},
    "QuoteDeclined": {"quote": {"number": "Q-1001", "total": 1250.5}, "ticket": TICKET},
    "MessageReceived": {
        "ticket": TICKET,
        "messages": [
            {
                "senderName": "Bob",
                "content": "I'll be there at 10.",
                "createdAt": "2026-11-25T09:58:00+00:00",
            },
            {
                "senderName": "Alice",
                "content": "Photo of the leak",
                "createdAt": "2026-11-25T10:01:00Z",
                "attachmentName": "leak.jpg",
            },
        ],
    },
    "OTPRequested": {"otp": {"code": "482913", "expiresInMinutes": 10}},
    "InvoiceGenerated": {"invoice": {"number": "INV-2041", "total": 3400, "dueDate": "2026-12-15"}},
    "PaymentReceived": {"payment": {"amount": 3400, "currency": "AED", "reference": "PAY-88"}},
}
# What each email must say: the facts its reader came for.
EXPECT: dict[str, list[str]] = {
    "TicketCreated": ["Leaking tap in kitchen", "Alice", "View ticket"],
    "TicketAssigned": ["Bob", "Leaking tap in kitchen", "Open ticket"],
    "TicketStatusChanged": ["In progress", "Assigned", "Leaking tap in kitchen"],
    "TicketCompleted": ["Completed", "Leaking tap in kitchen"],
    "QuoteCreated": ["Q-1001", "AED\u00a01,250.50", "Review quote"],
    "QuoteApproved": ["Q-1001", "$1,250.50", "Approved"],
    "QuoteDeclined": ["Q-1001", "Declined"],
    "MessageReceived": ["Bob", "I'll be there at 10.", "leak.jpg", "Alice", "Reply in the chat"],
    "OTPRequested": ["482913", "10 minutes"],
    "InvoiceGenerated": ["INV-2041", "AED\u00a03,400.00", "December 15, 2026"],
    "PaymentReceived": ["AED\u00a03,400.00", "PAY-88"],
}


def test_every_event_type_has_a_builtin_template() -> None:
    assert set(SAMPLES) == set(builtin.EVENT_TYPES)
    assert len(builtin.EVENT_TYPES) == 11


@pytest.fixture
def admin(as_user: Any) -> Any:
    return as_user("root", role="admin")


@pytest.fixture(autouse=True)
async def drop_custom_templates(database_url: str) -> Any:
    """email_templates survives the per-test truncation (it holds the seeded built-ins): leave only those."""
    yield
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute("DELETE FROM email_templates WHERE NOT (name = ANY(%s))", (list(builtin.SPECS),))


async def reset(admin: Any, name: str) -> None:
    response = await admin.post(f"/api/v1/email/templates/{name}/reset")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("name", sorted(SAMPLES))
async def test_builtin_template_renders_with_its_event_data(app: Any, name: str) -> None:
    rendered = await templates.render(app.ctx, name, {**BASE, **SAMPLES[name]})
    assert rendered.subject and "{" not in rendered.subject and "\n" not in rendered.subject
    html = rendered.html.replace("&nbsp;", "\xa0")
    for fact in EXPECT[name]:
        assert fact in html, f"{name}: {fact!r} missing from the HTML"
    # Inlined: the layout's classes became style attributes; only @media rules stay in <style>.
    assert 'class="card"' in html and 'style="background-color: #fdfdfe;' in html
    assert "@media (prefers-color-scheme: dark)" in html
    assert "max-width: 600px" in html
    # The footer carries the unsubscribe and preferences links, in HTML and text.
    assert 'href="https://tickets.example.com/unsubscribe?token=abc.def"' in html
    assert 'href="https://tickets.example.com/me/preferences"' in html
    assert (
        "Unsubscribe from these emails: https://tickets.example.com/unsubscribe?token=abc.def"
        in rendered.text
    )
    assert "<" not in rendered.text.replace("<tap>", "")
    assert rendered.template.name == name and rendered.template.is_active


async def test_otp_code_is_big_and_subject_leads_with_it(app: Any) -> None:
    rendered = await templates.render(app.ctx, "OTPRequested", {**BASE, **SAMPLES["OTPRequested"]})
    assert rendered.subject == "482913 is your Tickets verification code"
    start = rendered.html.index('class="code"')
    tag = rendered.html[start : rendered.html.index(">", start)]
    assert "font-size: 36px" in tag and "letter-spacing: 10px" in tag
    assert ">482913</p>" in rendered.html
    assert "    482913" in rendered.text


async def test_values_are_escaped_in_html_but_not_in_text(app: Any) -> None:
    context = {
        **BASE,
        "ticket": {**TICKET, "title": '<script>alert("x")</script> & co'},
        "actor": {"name": "A"},
    }
    rendered = await templates.render(app.ctx, "TicketCreated", context)
    assert "<script>" not in rendered.html
    # (The inliner re-serialises the document, so quotes in text come back unescaped: still inert.)
    assert '&lt;script&gt;alert("x")&lt;/script&gt; &amp; co' in rendered.html
    assert '<script>alert("x")</script> & co' in rendered.text
    assert rendered.subject == 'New ticket: <script>alert("x")</script> & co'


async def test_buttons_only_link_to_web_addresses(app: Any) -> None:
    context = {
        **BASE,
        "links": {**BASE["links"], "ticket": "javascript:alert(1)"},
        "ticket": {**TICKET, "url": None},
        "actor": {"name": "A"},
    }
    rendered = await templates.render(app.ctx, "TicketCreated", context)
    assert "javascript:" not in rendered.html
    assert "View ticket" not in rendered.html


async def test_missing_variables_are_a_422_naming_them(admin: Any) -> None:
    response = await admin.post(
        "/api/v1/email/templates/QuoteCreated/preview", json={"context": {"quote": {"number": "Q-1"}}}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "missing_variables"
    assert error["details"] == {"missing": ["quote.total"]}
    assert "quote.total" in error["message"]
    response = await admin.post("/api/v1/email/templates/MessageReceived/preview", json={"context": {}})
    assert response.json()["error"]["details"]["missing"] == ["ticket.title", "messages"]


def test_validate_context_walks_dotted_names() -> None:
    row = {
        "id": None,
        "name": "x",
        "subject": "s",
        "html_content": "h",
        "text_content": None,
        "variables": ["ticket.title", "otp.code", "messages"],
        "is_active": True,
        "created_at": None,
        "updated_at": None,
    }
    template = templates.Template.from_row(row)
    assert templates.validate_context(template, {}) == ["ticket.title", "otp.code", "messages"]
    context = {"ticket": {"title": "T"}, "otp": {"code": None}, "messages": []}
    assert templates.validate_context(template, context) == ["otp.code"]
    assert templates.validate_context(template, {"ticket": "flat", "otp": {"code": 0}, "messages": []}) == [
        "ticket.title"
    ]


async def test_preview_returns_subject_html_and_text(admin: Any) -> None:
    response = await admin.post(
        "/api/v1/email/templates/TicketCompleted/preview",
        json={"context": {**BASE, **SAMPLES["TicketCompleted"]}},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["subject"] == "Completed: Leaking tap in kitchen"
    assert body["html"].startswith("<!DOCTYPE html>")
    assert "Good news" in body["text"]
    # Previewing the layout itself wraps a placeholder body.
    response = await admin.post("/api/v1/email/templates/layout/preview", json={"context": {"subject": "Hi"}})
    assert response.status_code == 200, response.text
    assert "The body of each email goes here." in response.json()["html"]


# -- saving ------------------------------------------------------------------------------------


async def test_invalid_jinja_is_rejected_on_save_with_its_line(admin: Any) -> None:
    html = "<p>one</p>\n<p>two</p>\n{% if ticket.title %}\n<p>{{ ticket.title }</p>\n"
    response = await admin.post(
        "/api/v1/email/templates", json={"name": "Broken", "subject": "Hi", "htmlContent": html}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "template_invalid"
    assert error["details"][0]["field"] == "htmlContent"
    assert error["details"][0]["line"] == 4
    assert "line 4" in error["message"]

    response = await admin.put(
        "/api/v1/email/templates/TicketCreated",
        json={"subject": "ok", "textContent": "a\n{% for x in y %}\nno end"},
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "textContent"
    # An unknown filter is caught on save too, not when the first email goes out.
    response = await admin.put("/api/v1/email/templates/TicketCreated", json={"subject": "{{ x|nosuch }}"})
    assert response.status_code == 422
    assert response.json()["error"]["details"][0] == {
        "field": "subject",
        "line": 1,
        "message": "No filter named 'nosuch'.",
    }
    # Nothing was saved.
    current = (await admin.get("/api/v1/email/templates/TicketCreated")).json()
    assert current["subject"] == builtin.SPECS["TicketCreated"].subject
    assert (await admin.get("/api/v1/email/templates/Broken")).status_code == 404


async def test_bad_bodies_are_422_not_500(admin: Any) -> None:
    cases = [
        {"name": "has space", "subject": "s", "htmlContent": "h"},
        {"name": "Ok", "subject": "", "htmlContent": "h"},
        {"name": "Ok", "subject": "s", "htmlContent": "h", "variables": ["ticket..title"]},
        {"name": "Ok", "subject": "s", "htmlContent": "h", "variables": "ticket.title"},
        {"name": "Ok", "subject": "s", "htmlContent": "h", "isActive": "yes"},
        {"name": "Ok", "subject": "s", "htmlContent": "x" * 200_001},
        {"subject": "s", "htmlContent": "h"},
    ]
    for body in cases:
        response = await admin.post("/api/v1/email/templates", json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] == "validation_failed"
    response = await admin.post("/api/v1/email/templates/TicketCreated/preview", json={"context": "nope"})
    assert response.status_code == 422
    response = await admin.get("/api/v1/email/templates/..%2F..%2Fetc")
    assert response.status_code in (404, 422)
    response = await admin.put("/api/v1/email/templates/layout", json={"htmlContent": "<p>no body</p>"})
    assert response.status_code == 422
    response = await admin.put("/api/v1/email/templates/layout", json={"isActive": False})
    assert response.status_code == 422


# -- the sandbox -------------------------------------------------------------------------------

ESCAPES = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ ''|attr('__class__') }}",
    "{{ cycler.__init__.__globals__.os.system('touch {marker}') }}",
    "{{ joiner.__init__.__globals__['__builtins__']['__import__']('os').system('touch {marker}') }}",
    "{% set x = namespace() %}{{ x.__class__.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ range.__globals__ }}",
    "{{ ticket._private }}",
    "{{ ticket.__class__ }}",
    "{{ messages.append(1) }}",
    "{{ '{0.__class__}'.format('') }}",
]


async def test_sandbox_escapes_fail_with_422_and_run_nothing(admin: Any, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for i, source in enumerate(ESCAPES):
        html = "<p>hello</p>\n" + source.replace("{marker}", str(marker))
        response = await admin.post(
            "/api/v1/email/templates", json={"name": f"Escape{i}", "subject": "s", "htmlContent": html}
        )
        assert response.status_code == 201, response.text
        response = await admin.post(
            f"/api/v1/email/templates/Escape{i}/preview",
            json={"context": {"ticket": {"title": "t"}, "messages": []}},
        )
        assert response.status_code == 422, (source, response.text)
        error = response.json()["error"]
        assert error["code"] == "template_render_failed", (source, error)
        assert error["details"]["reason"] == "unsafe", (source, error)
        assert error["details"]["line"] == 2, (source, error)
        assert (await admin.delete(f"/api/v1/email/templates/Escape{i}")).status_code == 204
    assert not marker.exists()


RUNAWAY = [
    ("{{ 'a' * 100000000 }}", "unsafe"),
    ("{{ [1] * 100000000 }}", "unsafe"),
    ("{{ 10 ** 100000 }}", "unsafe"),
    ("{{ (2 ** 1000) ** 1000 }}", "unsafe"),
    ("{{ '%999999999d' % 1 }}", "unsafe"),
    ("{{ '{:>999999999}'.format(1) }}", "unsafe"),
    ("{{ 'x'|center(999999999) }}", "unsafe"),
    ("{{ 'x'.ljust(999999999) }}", "unsafe"),
    ("{% set s = 'ab' * 50000 %}{{ s|replace('a', s) }}", "unsafe"),
    ("{% set s = 'ab' * 50000 %}{{ s.replace('a', s) }}", "unsafe"),
    ("{% set s = 'a' * 150000 %}{{ s + s }}", "unsafe"),
    ("{% set s = 'a' * 150000 %}{{ s ~ s }}", "unsafe"),
    ("{{ range(100000000)|list }}", "unsafe"),
    ("{% for i in range(10000) %}{{ 'x' * 100 }}{% endfor %}", "unsafe"),
    # Doubling through a namespace: `~` is checked like `+`.
    (
        "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
        "unsafe",
    ),
    # Shared members: tiny in memory, 2**40 items once printed, joined, formatted or filtered.
    (
        "{% set ns = namespace(t=['x']) %}{% for i in range(40) %}{% set ns.t = [ns.t, ns.t] %}{% endfor %}{{ ns.t }}",
        "unsafe",
    ),
    (
        "{% set ns = namespace(t=['x']) %}{% for i in range(40) %}{% set ns.t = [ns.t, ns.t] %}{% endfor %}"
        "{{ ns.t|string|length }}",
        "unsafe",
    ),
    (
        "{% set ns = namespace(t=['x']) %}{% for i in range(40) %}{% set ns.t = [ns.t, ns.t] %}{% endfor %}"
        "{{ 'a' ~ ns.t }}",
        "unsafe",
    ),
    (
        "{% set ns = namespace(t=['x']) %}{% for i in range(40) %}{% set ns.t = [ns.t, ns.t] %}{% endfor %}"
        "{{ '%s' % [ns.t] }}{{ '{}'.format(ns.t) }}",
        "unsafe",
    ),
    (
        "{% macro grow(t, n) %}{% if n %}{{ grow([t, t], n - 1) }}{% else %}{{ t|tojson|length }}{% endif %}"
        "{% endmacro %}{{ grow(['x'], 40) }}",
        "unsafe",
    ),
    ("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}", "timeout"),
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "recursion"),
]


async def test_runaway_templates_are_stopped(admin: Any) -> None:
    for i, (source, reason) in enumerate(RUNAWAY):
        response = await admin.post(
            "/api/v1/email/templates", json={"name": f"Runaway{i}", "subject": "s", "htmlContent": source}
        )
        assert response.status_code == 201, response.text
        started = time.monotonic()
        response = await admin.post(f"/api/v1/email/templates/Runaway{i}/preview", json={"context": {}})
        elapsed = time.monotonic() - started
        assert response.status_code == 422, (source, response.text[:300])
        error = response.json()["error"]
        assert error["code"] == "template_render_failed", (source, error)
        assert error["details"]["reason"] == reason, (source, error)
        assert elapsed < templates.RENDER_TIMEOUT_SECONDS + 2, (source, elapsed)
        await admin.delete(f"/api/v1/email/templates/Runaway{i}")
    # The service is still fine afterwards.
    response = await admin.post(
        "/api/v1/email/templates/OTPRequested/preview", json={"context": SAMPLES["OTPRequested"]}
    )
    assert response.status_code == 200


async def test_runtime_errors_report_the_line(admin: Any) -> None:
    html = "<p>a</p>\n<p>b</p>\n{{ 1 / 0 }}"
    response = await admin.post(
        "/api/v1/email/templates", json={"name": "Divides", "subject": "s", "htmlContent": html}
    )
    assert response.status_code == 201
    response = await admin.post("/api/v1/email/templates/Divides/preview", json={"context": {}})
    assert response.status_code == 422
    details = response.json()["error"]["details"]
    assert details == {"template": "Divides", "reason": "error", "part": "Divides:htmlContent", "line": 3}


# -- filters -----------------------------------------------------------------------------------


def render_string(source: str, **context: Any) -> str:
    return templates.HTML_ENV.from_string(source).render(**context)


def test_format_currency() -> None:
    assert render_string("{{ 1250.5|formatCurrency }}") == "AED\u00a01,250.50"
    assert render_string("{{ '99'|formatCurrency('usd') }}") == "$99.00"
    assert render_string("{{ 1250.5|formatCurrency('EUR', 'de_DE') }}") == "1.250,50\xa0€"
    assert render_string("{{ 1250.5|formatCurrency(none, 'fr') }}") == "1\u202f250,50\xa0AED"
    assert render_string("{{ 1250.5|formatCurrency }}", locale="de") == "1.250,50\xa0AED"
    assert render_string("{{ 5|formatCurrency('JPY') }}") == "¥5"
    assert render_string("{{ -3|formatCurrency }}") == "-AED\u00a03.00"
    # Not a number: shown as given rather than failing the whole email.
    assert render_string("{{ 'about ten'|formatCurrency }}") == "about ten"
    assert render_string("{{ missing|formatCurrency }}") == ""
    assert render_string("{{ 10|formatCurrency('NOPE') }}") == "NOPE 10"


def test_format_date() -> None:
    moment = "2026-11-25T13:49:00Z"
    assert render_string("{{ d|formatDate }}", d=moment) == "Nov 25, 2026, 1:49\u202fPM"
    assert render_string("{{ d|formatDate('long') }}", d=moment) == "November 25, 2026, 1:49\u202fPM"
    assert render_string("{{ d|formatDate('d MMM yyyy') }}", d=moment) == "25 Nov 2026"
    assert render_string("{{ d|formatDate('short', 'de') }}", d=moment) == "25.11.26, 13:49"
    assert (
        render_string("{{ d|formatDate('medium', tz='Asia/Dubai') }}", d=moment)
        == "Nov 25, 2026, 5:49\u202fPM"
    )
    assert render_string("{{ d|formatDate }}", d=moment, recipient={"timezone": "Asia/Dubai"}).endswith(
        "5:49\u202fPM"
    )
    assert render_string("{{ d|formatDate }}", d="2026-12-15") == "Dec 15, 2026"
    assert render_string("{{ d|formatDate }}", d="not a date") == "not a date"
    assert render_string("{{ d|formatDate }}", d=None) == ""


def test_humanize() -> None:
    assert render_string("{{ 'InProgress'|humanize }} {{ 'OnHold'|humanize }} {{ 'Open'|humanize }}") == (
        "In progress On hold Open"
    )


# -- CRUD and authorisation --------------------------------------------------------------------


async def test_builtins_are_seeded(admin: Any) -> None:
    response = await admin.get("/api/v1/email/templates")
    assert response.status_code == 200
    items = response.json()["items"]
    names = {t["name"] for t in items}
    assert names >= {*builtin.EVENT_TYPES, "layout"}
    one = next(t for t in items if t["name"] == "TicketCreated")
    assert set(one) >= {
        "id",
        "name",
        "subject",
        "htmlContent",
        "textContent",
        "variables",
        "isActive",
        "createdAt",
        "updatedAt",
    }
    assert one["variables"] == ["ticket.title"] and one["isActive"] is True and one["isBuiltin"] is True


async def test_members_and_services_cannot_touch_templates(as_user: Any) -> None:
    for client in (as_user("mallory"), as_user("svc", role="service")):
        calls = [
            client.get("/api/v1/email/templates"),
            client.post("/api/v1/email/templates", json={"name": "X", "subject": "s", "htmlContent": "h"}),
            client.get("/api/v1/email/templates/TicketCreated"),
            client.put("/api/v1/email/templates/TicketCreated", json={"subject": "pwned"}),
            client.delete("/api/v1/email/templates/TicketCreated"),
            client.post("/api/v1/email/templates/TicketCreated/reset"),
            client.post("/api/v1/email/templates/TicketCreated/preview", json={"context": {}}),
        ]
        for call in calls:
            response = await call
            assert response.status_code == 403, response.text
            assert response.json()["error"]["code"] == "forbidden"
    anonymous = as_user("x")
    anonymous.headers.pop("Authorization")
    assert (await anonymous.get("/api/v1/email/templates")).status_code == 401


async def test_custom_template_lifecycle(admin: Any) -> None:
    body = {
        "name": "Welcome",
        "subject": "Welcome, {{ recipient.name }}",
        "htmlContent": '<h1 class="title">Hello {{ recipient.name }}</h1><p>Your plan: <b>{{ plan.name }}</b></p>',
        "variables": ["plan.name"],
    }
    response = await admin.post("/api/v1/email/templates", json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["textContent"] is None and created["isActive"] is True and created["isBuiltin"] is False
    assert (await admin.post("/api/v1/email/templates", json=body)).status_code == 409

    response = await admin.post(
        "/api/v1/email/templates/Welcome/preview", json={"context": {**BASE, "plan": {"name": "Pro"}}}
    )
    assert response.status_code == 200, response.text
    preview = response.json()
    assert preview["subject"] == "Welcome, Carol"
    # No text part in the template: generated from the HTML, then wrapped by the layout's text.
    assert "Hello Carol" in preview["text"] and "Your plan: Pro" in preview["text"]
    assert "Unsubscribe from these emails:" in preview["text"]
    assert 'style="margin: 0 0 16px 0;font-size: 22px;' in preview["html"]

    response = await admin.put(
        "/api/v1/email/templates/Welcome", json={"textContent": "Plan: {{ plan.name }}", "isActive": False}
    )
    assert response.status_code == 200
    updated = response.json()
    assert updated["textContent"] == "Plan: {{ plan.name }}" and updated["isActive"] is False
    assert updated["subject"] == body["subject"] and updated["updatedAt"] > created["updatedAt"]
    response = await admin.post(
        "/api/v1/email/templates/Welcome/preview", json={"context": {"plan": {"name": "X"}}}
    )
    assert response.json()["text"].startswith("Plan: X\n")
    # Back to the generated text part.
    response = await admin.put("/api/v1/email/templates/Welcome", json={"textContent": None})
    assert response.json()["textContent"] is None

    assert (await admin.delete("/api/v1/email/templates/Welcome")).status_code == 204
    assert (await admin.get("/api/v1/email/templates/Welcome")).status_code == 404
    assert (await admin.delete("/api/v1/email/templates/Welcome")).status_code == 404
    assert (await admin.put("/api/v1/email/templates/Welcome", json={"subject": "x"})).status_code == 404
    assert (
        await admin.post("/api/v1/email/templates/Welcome/preview", json={"context": {}})
    ).status_code == 404


async def test_builtins_cannot_be_deleted_but_can_be_reset(admin: Any) -> None:
    try:
        response = await admin.delete("/api/v1/email/templates/TicketCreated")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "builtin_template"
        response = await admin.put(
            "/api/v1/email/templates/TicketCreated",
            json={"subject": "Edited {{ ticket.title }}", "isActive": False},
        )
        assert response.status_code == 200
        response = await admin.post("/api/v1/email/templates/TicketCreated/reset")
        assert response.status_code == 200
        restored = response.json()
        assert restored["subject"] == builtin.SPECS["TicketCreated"].subject and restored["isActive"] is True
        assert restored["htmlContent"] == builtin.load("TicketCreated").html_content
        assert (await admin.post("/api/v1/email/templates/NotBuiltin/reset")).status_code == 404
    finally:
        await reset(admin, "TicketCreated")


async def test_edits_are_used_on_the_next_render(app: Any, admin: Any, database_url: str) -> None:
    context = {**BASE, **SAMPLES["TicketCompleted"]}
    try:
        first = await templates.render(app.ctx, "TicketCompleted", context)
        assert first.subject == "Completed: Leaking tap in kitchen"
        response = await admin.put(
            "/api/v1/email/templates/TicketCompleted", json={"subject": "Done and dusted: {{ ticket.title }}"}
        )
        assert response.status_code == 200
        second = await templates.render(app.ctx, "TicketCompleted", context)
        assert second.subject == "Done and dusted: Leaking tap in kitchen"
        # Another process edits the row (straight SQL, no local invalidation): seen on the next render.
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            await conn.execute(
                "UPDATE email_templates SET subject = 'Closed: {{ ticket.title }}', updated_at = clock_timestamp() "
                "WHERE name = 'TicketCompleted'"
            )
        third = await templates.render(app.ctx, "TicketCompleted", context)
        assert third.subject == "Closed: Leaking tap in kitchen"
        # The layout is cached and invalidated the same way.
        layout = (await admin.get("/api/v1/email/templates/layout")).json()
        html = layout["htmlContent"].replace("Sent by {{ app.name }}", "Brought to you by {{ app.name }}")
        assert (
            await admin.put("/api/v1/email/templates/layout", json={"htmlContent": html})
        ).status_code == 200
        fourth = await templates.render(app.ctx, "TicketCompleted", context)
        assert "Brought to you by Tickets" in fourth.html
    finally:
        await reset(admin, "TicketCompleted")
        await reset(admin, "layout")
    again = await templates.render(app.ctx, "TicketCompleted", context)
    assert again.subject == first.subject and again.html == first.html


async def test_compiled_templates_are_reused(app: Any) -> None:
    context = {**BASE, **SAMPLES["TicketCreated"]}
    await templates.render(app.ctx, "TicketCreated", context)
    size = len(rendering._compiled_cache)
    for _ in range(5):
        await templates.render(app.ctx, "TicketCreated", context)
    assert len(rendering._compiled_cache) == size


class Rollback(Exception):
    pass


async def test_render_can_use_the_callers_transaction(app: Any) -> None:
    with pytest.raises(Rollback):
        async with app.ctx.db.transaction() as conn:
            await conn.execute(
                "UPDATE email_templates SET subject = 'Uncommitted {{ otp.code }}', "
                "updated_at = clock_timestamp() WHERE name = 'OTPRequested'"
            )
            inside = await templates.render(app.ctx, "OTPRequested", SAMPLES["OTPRequested"], conn=conn)
            assert inside.subject == "Uncommitted 482913"
            template = await templates.get(app.ctx, "OTPRequested", conn=conn)
            assert templates.validate_context(template, {"otp": {"code": "1"}}) == ["otp.expiresInMinutes"]
            raise Rollback
    outside = await templates.render(app.ctx, "OTPRequested", SAMPLES["OTPRequested"])
    assert outside.subject == "482913 is your Tickets verification code"


async def test_assignment_email_speaks_to_the_assignee(app: Any) -> None:
    data = {**SAMPLES["TicketAssigned"], "assignee": {"id": "bob", "name": "Bob", "email": "bob@example.com"}}
    to_bob = await templates.render(
        app.ctx, "TicketAssigned", {**data, "recipient": {"id": "bob", "name": "Bob"}}
    )
    assert to_bob.subject == "Assigned to you: Leaking tap in kitchen"
    assert (
        "You've been assigned a ticket" in to_bob.html
        and "assigned" in to_bob.text
        and "to you" in to_bob.text
    )
    to_carol = await templates.render(app.ctx, "TicketAssigned", {**BASE, **data})
    assert to_carol.subject == "Assigned to Bob: Leaking tap in kitchen"
    assert "Ticket assigned" in to_carol.html and "has been assigned to Bob by Alice" in to_carol.text
