"""The delivery dashboard's insights: rates, the most common failure reasons (addresses taken out),
the queue-time histogram and the slowest sends, for a period; admins only; bad ranges are 422."""

from __future__ import annotations

from tests.email.support import Mail

COMPLETED = {
    "ticket": {"id": "7", "title": "Leaking tap", "status": "Completed", "url": "https://t.example.com/t/7"},
    "actor": {"name": "Bob"},
}


async def test_insights_count_rates_reasons_and_slowest(mail: Mail) -> None:
    await mail.users("carol", "dave", "erin")
    for who in ("dave@example.com", "erin@example.com"):
        mail.sink.script(who, f"550 5.1.1 <{who}>: Recipient address rejected")
    r = await mail.service.post(
        "/api/v1/events",
        json={"type": "TicketCompleted", "recipientIds": ["carol", "dave", "erin"], "data": COMPLETED},
    )
    assert r.status_code == 202, r.text
    await mail.settled(3)
    admin = mail.admin
    r = await admin.get("/api/v1/email/stats/insights")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rates"]["failure"] == round(2 / 3, 4)
    assert body["rates"]["delivery"] == 0.0 and body["rates"]["bounce"] == 0.0  # 1 sent, none reported yet
    # One reason for both recipients: the addresses are taken out of the reply.
    assert body["topFailures"] == [{"reason": "550 5.1.1 <address>: Recipient address rejected", "count": 2}]
    assert sum(b["count"] for b in body["queueToSent"]) == 1
    assert body["queueToSentP50Under"] is not None
    [slowest] = body["slowest"]
    assert slowest["recipientEmail"] == "carol@example.com" and slowest["seconds"] >= 0

    # A period without emails has no rates, and the stats agree with the counts endpoint.
    empty = (await admin.get("/api/v1/email/stats/insights", params={"to": "2020-01-01T00:00:00Z"})).json()
    assert empty["rates"] == {"delivery": None, "bounce": None, "complaint": None, "failure": None}
    assert empty["topFailures"] == [] and empty["slowest"] == [] and empty["queueToSentP50Under"] is None


async def test_insights_refuse_bad_ranges_and_members(mail: Mail) -> None:
    admin = mail.admin
    bad = await admin.get(
        "/api/v1/email/stats/insights", params={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    )
    assert bad.status_code == 422
    assert (
        await admin.get("/api/v1/email/stats/insights", params={"from": "2026-01-01T00:00:00"})
    ).status_code == 422
    assert (await admin.get("/api/v1/email/stats/insights", params={"from": "soon"})).status_code == 422
    assert (await mail.client("carol").get("/api/v1/email/stats/insights")).status_code == 403


async def test_daily_stats_over_a_far_off_range_list_only_days_with_emails(mail: Mail) -> None:
    await mail.users("carol")
    r = await mail.service.post(
        "/api/v1/events", json={"type": "TicketCompleted", "recipientIds": ["carol"], "data": COMPLETED}
    )
    assert r.status_code == 202, r.text
    await mail.settled(1)
    params = {"from": "0001-01-01T00:00:00Z", "to": "9999-01-01T00:00:00Z", "daily": "true"}
    body = (await mail.admin.get("/api/v1/email/stats", params=params)).json()
    assert body["total"] == 1 and len(body["daily"]) == 1 and body["daily"][0]["total"] == 1
    none = (
        await mail.admin.get("/api/v1/email/stats", params={**params, "to": "0002-01-01T00:00:00Z"})
    ).json()
    assert none["total"] == 0 and none["daily"] == []
