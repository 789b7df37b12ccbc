"""Admins list inbound mail and what became of each (GET /api/v1/email/inbound), newest first, keyset paged."""

from __future__ import annotations

from tests.email.support import Mail
from tests.replies.support import inbound, new_ticket, reply_outcome, reply_to


async def test_admins_page_through_inbound_mail_and_what_became_of_it(mail: Mail):
    ticket_id, (email,) = await new_ticket(mail, "alice", "bob")
    accepted = await reply_outcome(mail, reply_to(email, "gmail_en_top_posted.eml"))
    auto = await reply_outcome(mail, reply_to(email, "out_of_office.eml"))
    forged = await reply_outcome(mail, reply_to(email, "iphone_de_plain.eml", FROM="mallory@evil.test"))
    r = await inbound(
        mail, b"From: someone@example.net\r\nTo: bounces@tickets.test\r\nSubject: hi\r\n\r\nhello\r\n"
    )
    assert r.status_code == 200 and r.json() == {"isReport": False, "matched": []}

    admin = mail.admin
    seen, cursor = [], None
    while True:
        r = await admin.get(
            "/api/v1/email/inbound", params={"limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        assert r.status_code == 200, r.text
        seen.extend(r.json()["items"])
        cursor = r.json()["nextCursor"]
        if cursor is None:
            break
    assert [i["outcome"] for i in seen] == ["Ignored", "Refused", "Refused", "Accepted"]
    assert [i["id"] for i in seen[1:]] == [forged["id"], auto["id"], accepted["id"]]
    assert seen[0]["reason"] == "not_a_reply" and seen[0]["toAddress"] == "bounces@tickets.test"
    assert (seen[1]["reason"], seen[1]["fromAddress"]) == ("sender_mismatch", "mallory@evil.test")
    assert seen[2]["reason"] == "auto_reply" and "Auto-Submitted" in seen[2]["detail"]
    assert (
        seen[3]["ticketId"] == ticket_id
        and seen[3]["userId"] == "bob"
        and len(seen[3]["chatMessageIds"]) == 1
    )

    refused = (await admin.get("/api/v1/email/inbound", params={"outcome": "Refused"})).json()["items"]
    assert [i["id"] for i in refused] == [forged["id"], auto["id"]]
    of_ticket = (await admin.get("/api/v1/email/inbound", params={"ticketId": ticket_id})).json()["items"]
    assert len(of_ticket) == 3


async def test_only_admins_list_inbound_mail_and_bad_input_is_a_4xx(mail: Mail):
    await mail.users("bob")
    assert (await mail.client("bob").get("/api/v1/email/inbound")).status_code == 403
    assert (await mail.client(None).get("/api/v1/email/inbound")).status_code == 401
    for params in ({"cursor": "not-a-cursor"}, {"outcome": "Whatever"}, {"limit": 0}, {"ticketId": "x"}):
        r = await mail.admin.get("/api/v1/email/inbound", params=params)
        assert r.status_code in (400, 422), (params, r.text)
        assert "error" in r.json()
    r = await mail.client("bob").post(
        "/api/v1/email/inbound", content=b"x", headers={"Content-Type": "message/rfc822"}
    )
    assert r.status_code == 403
    r = await mail.service.post("/api/v1/email/inbound", content=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
