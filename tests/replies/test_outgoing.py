"""Every ticket email carries the signed Reply-To address and the thread headers (one root per ticket and
recipient), so a ticket's emails are one conversation in mail clients."""

from __future__ import annotations

from tests.email.support import Mail
from tests.replies.conftest import REPLY_DOMAIN
from tests.replies.support import new_ticket, raise_ticket_event, reply_outcome, reply_to


async def test_ticket_emails_carry_reply_to_and_one_thread(mail: Mail):
    ticket_id, created = await new_ticket(mail, "alice", "bob", "carol")
    by_rcpt = {m.rcpt_tos[0]: m for m in created}
    bob, carol = by_rcpt["bob@example.com"], by_rcpt["carol@example.com"]
    reply_to = bob.header("Reply-To")
    assert reply_to.startswith("reply+") and reply_to.endswith("@" + REPLY_DOMAIN)
    assert len(reply_to.partition("@")[0]) <= 64
    assert carol.header("Reply-To") != reply_to  # bound to its recipient
    root = bob.header("References")
    assert root.startswith("<ticket.") and bob.header("In-Reply-To") == root
    assert carol.header("References") != root  # one root per recipient: nothing about bob leaks to carol
    assert "bob" not in root

    later = await raise_ticket_event(mail, ticket_id, "bob")
    assert later.header("References") == root and later.header("In-Reply-To") == root
    assert later.header("Reply-To") not in ("", reply_to)  # a token per email
    # Outlook: the same 22-byte conversation head, a different child block.
    assert later.header("Thread-Index")[:28] == bob.header("Thread-Index")[:28]
    assert later.header("Thread-Index") != bob.header("Thread-Index")
    assert bob.header("Thread-Topic") == "Leaking tap"


async def test_mail_about_no_ticket_has_no_reply_address(mail: Mail):
    await mail.users("dave")
    r = await mail.service.post(
        "/api/v1/events",
        json={
            "type": "OTPRequested",
            "recipientIds": ["dave"],
            "data": {"otp": {"code": "1234", "expiresInMinutes": 5}},
        },
    )
    assert r.status_code == 202, r.text
    (otp,) = await mail.sink.wait_for(1)
    assert otp.header("Reply-To") == "" and otp.header("References") == ""


async def test_the_message_digest_joins_the_thread_and_can_be_answered(mail: Mail):
    ticket_id, (created,) = await new_ticket(mail, "alice", "bob")
    r = await mail.client("alice").post(f"/api/v1/tickets/{ticket_id}/messages", json={"content": "Tuesday?"})
    assert r.status_code == 201, r.text
    (digest,) = await mail.sink.wait_for(
        1, timeout=10, predicate=lambda m: "new message" in m.header("Subject")
    )
    assert digest.header("References") == created.header("References")
    assert digest.header("Reply-To").startswith("reply+")
    outcome = await reply_outcome(mail, reply_to(digest, "gmail_en_top_posted.eml"))
    assert outcome["outcome"] == "Accepted" and outcome["ticketId"] == ticket_id
