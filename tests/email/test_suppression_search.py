"""The suppression list's `q` search: addresses containing the text, any case, with keyset paging."""

from __future__ import annotations

from typing import Any

import psycopg


async def test_q_finds_addresses_containing_the_text(as_user: Any, database_url: str) -> None:
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        for email in ("alice@example.com", "bob@example.com", "malice@other.org", "carol@example.com"):
            await conn.execute(
                "INSERT INTO email_suppressions (email, reason) VALUES (%s, 'Bounce')", (email,)
            )
    admin = as_user("root", role="admin")
    r = await admin.get("/api/v1/email/suppressions", params={"q": "ALICE"})
    assert r.status_code == 200, r.text
    assert [s["email"] for s in r.json()["items"]] == ["alice@example.com", "malice@other.org"]
    first = (await admin.get("/api/v1/email/suppressions", params={"q": "example", "limit": 2})).json()
    assert [s["email"] for s in first["items"]] == ["alice@example.com", "bob@example.com"]
    rest = await admin.get(
        "/api/v1/email/suppressions", params={"q": "example", "limit": 2, "cursor": first["nextCursor"]}
    )
    assert [s["email"] for s in rest.json()["items"]] == ["carol@example.com"]
    assert rest.json()["nextCursor"] is None
    # Blank searches list everything; LIKE wildcards are plain text; members are refused.
    assert len((await admin.get("/api/v1/email/suppressions", params={"q": "  "})).json()["items"]) == 4
    assert (await admin.get("/api/v1/email/suppressions", params={"q": "%"})).json()["items"] == []
    assert (await admin.get("/api/v1/email/suppressions", params={"q": "x" * 400})).status_code == 422
    assert (await as_user("mallory").get("/api/v1/email/suppressions", params={"q": "a"})).status_code == 403
