"""NUL, lone surrogates and invalid UTF-8 in a URL's path or query are a 4xx, never a database error."""

from __future__ import annotations

import pytest

from tests.chat.helpers import ticket_with

BAD = ["%00", "a%00b", "%ED%A0%80", "%FF", "%C0%80"]


@pytest.mark.parametrize("bad", BAD)
async def test_bad_text_in_paths_and_queries_is_4xx(app, as_user, bad):
    alice = as_user("alice")
    admin = as_user("root", role="admin")
    svc = as_user("svc", role="service")
    tid = (await ticket_with(alice))["id"]
    cases = [
        (svc, "PUT", f"/api/v1/users/{bad}", {"name": "x", "email": "x@example.com"}),
        (alice, "DELETE", f"/api/v1/tickets/{tid}/participants/{bad}", None),
        (admin, "DELETE", f"/api/v1/email/suppressions/{bad}", None),
        (admin, "GET", f"/api/v1/email/templates/{bad}", None),
        (admin, "PUT", f"/api/v1/email/templates/{bad}", {"subject": "s", "htmlContent": "h"}),
        (admin, "POST", f"/api/v1/email/templates/{bad}/preview", {}),
        (alice, "GET", f"/api/v1/search/messages?q={bad}", None),
        (alice, "GET", f"/api/v1/tickets/{tid}/messages/search?q=x{bad}", None),
        (alice, "GET", f"/api/v1/tickets?cursor={bad}", None),
        (admin, "GET", f"/api/v1/email/logs?recipient={bad}", None),
        (admin, "GET", f"/api/v1/email/logs?template={bad}", None),
        (admin, "GET", f"/api/v1/email/logs?status={bad}", None),
        (alice, "GET", f"/api/v1/email/unsubscribe?token={bad}", None),
    ]
    for client, method, url, body in cases:
        r = (
            await client.request(method, url, json=body)
            if body is not None
            else await client.request(method, url)
        )
        assert r.status_code < 500, (method, url, r.status_code, r.text)
