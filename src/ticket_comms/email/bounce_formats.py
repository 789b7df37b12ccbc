"""Bounces that do not follow RFC 3464 (a plain "Undelivered Mail Returned to Sender", qmail's QSBMF,
Exim's and Exchange's texts, ...): recognised with flufl.bounce's detectors when the standard parse
finds no delivery-status part.

What a detector gives is only the addresses that failed, permanently or for now. Which email the bounce
is about still has to be proved as for any report (delivery_reports.match_log): the signed bounce address
it came back to, or our own ids quoted in the returned text (these formats paste the original headers
as plain text). Its failed addresses must include that email's recipient.
"""

from __future__ import annotations

import email
import email.policy
import logging
import re
from typing import Any

log = logging.getLogger(__name__)

# Headers of our original email that these formats quote in their text.
QUOTED_MESSAGE_ID_RE = re.compile(rb"(?im)^\s*message-id:\s*(<[^>\s]{1,300}>)")
QUOTED_LOG_ID_RE = re.compile(rb"(?im)^\s*x-email-log-id:\s*([0-9a-f-]{36})")
# The detectors are regular expressions over the text: only mail of a bounce's size is given to them.
MAX_BOUNCE_BYTES = 512 * 1024


def _address(value: Any) -> str | None:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    text = text.strip().strip("<>").lower()
    return text if "@" in text and len(text) <= 320 else None


def detect(raw: bytes) -> tuple[list[str], list[str], list[str], list[str]] | None:
    """(permanently failed addresses, temporarily failed ones, quoted Message-IDs, quoted log ids), or None
    when no detector recognises a bounce. Blocking: call it through a thread."""
    if len(raw) > MAX_BOUNCE_BYTES:
        return None
    from flufl.bounce import all_failures

    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector tripped over strange input: not a bounce we can read
        log.warning("a bounce detector failed on an inbound message", exc_info=True)
        return None
    failed = sorted({a for a in (_address(x) for x in permanent) if a})
    delayed = sorted({a for a in (_address(x) for x in temporary) if a} - set(failed))
    if not failed and not delayed:
        return None
    message_ids = [m.decode("ascii", "replace") for m in QUOTED_MESSAGE_ID_RE.findall(raw)]
    log_ids = [m.decode("ascii") for m in QUOTED_LOG_ID_RE.findall(raw)]
    return failed, delayed, message_ids, log_ids
