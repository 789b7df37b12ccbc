"""An inbound mail read into what the reply checks and the chat message need: ids, addresses, the
automatic-mail signs, the text (plain, else HTML) and the attachments.

Strangers write this input. It is parsed in a thread (the caller's), after a cheap count of its parts,
with bounds on parts, nesting and sizes; anything the email package cannot make sense of makes the mail
`malformed` rather than raising.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses, parseaddr
from typing import Any

MAX_PARTS = 60
MAX_DEPTH = 6
MAX_ATTACHMENTS = 10
MAX_HEADER = 998
# Inline images below this size referred to by Content-ID are signature logos, not the reply's content.
SIGNATURE_IMAGE_BYTES = 16 * 1024
PART_START_RE = re.compile(rb"(?im)^content-type:")
# Defects after which the parts are not what the sender meant (the email package guesses on).
BROKEN_STRUCTURE = {
    "NoBoundaryInMultipartDefect",
    "StartBoundaryNotFoundDefect",
    "MultipartInvariantViolationDefect",
    "CloseBoundaryNotFoundDefect",
}
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Where an MTA names the address a mail was delivered to, most specific first.
RECIPIENT_HEADERS = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")


@dataclass
class Attachment:
    file_name: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    size: int
    message_id: str | None = None
    from_address: str | None = None
    subject: str | None = None
    recipients: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)  # lower-cased names, first occurrence
    text: str | None = None
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    # Why it could not be read (None: it could).
    malformed: str | None = None

    @property
    def dedupe_id(self) -> str:
        """The Message-ID; without one, a digest of the headers we read (a repeat has the same)."""
        if self.message_id:
            return self.message_id
        seed = "\x00".join(f"{k}:{v}" for k, v in sorted(self.headers.items()))
        return "<sha256." + hashlib.sha256(seed.encode()).hexdigest() + "@no-message-id>"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = storable(str(value)).replace("\r", " ").replace("\n", " ").strip()
    return text[:MAX_HEADER] or None


def storable(text: str) -> str:
    """`text` without what PostgreSQL cannot store or a chat should not show: NUL and other control
    characters (tabs and line breaks stay), lone surrogates (undecodable header bytes)."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return CONTROL_RE.sub("", text)


def _header(message: Message, name: str) -> str | None:
    try:
        return _text(message.get(name))
    except Exception:  # the email package raises many kinds on malformed headers
        return None


def _addresses(values: list[str]) -> list[str]:
    try:
        pairs = getaddresses(values)
    except Exception:
        return []
    return [a.strip().strip("<>").lower() for _, a in pairs if "@" in (a or "")]


def read_headers(raw: bytes, size: int) -> ParsedMail:
    """Only the headers (for a mail we will not read further, such as one over the size limit)."""
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][:65536]
    mail = ParsedMail(size=size)
    try:
        message = email.message_from_bytes(head + b"\r\n\r\n", policy=email.policy.compat32)
    except Exception as exc:
        mail.malformed = f"unreadable headers: {type(exc).__name__}"
        return mail
    _fill_headers(mail, message)
    return mail


def _fill_headers(mail: ParsedMail, message: Message) -> None:
    for name in message.keys()[:200]:
        key = name.lower()
        if key not in mail.headers:
            value = _header(message, name)
            if value is not None:
                mail.headers[key] = value
    mail.message_id = _header(message, "Message-ID")
    mail.subject = _header(message, "Subject")
    sender = _header(message, "From")
    if sender:
        address = parseaddr(sender)[1].strip().lower()
        mail.from_address = address if "@" in address else None
    for name in RECIPIENT_HEADERS:
        try:
            values = [str(v) for v in message.get_all(name) or []]
        except Exception:  # a malformed header names no address
            values = []
        mail.recipients.extend(a for a in _addresses(values) if a not in mail.recipients)


def _depth(message: Message, limit: int) -> int:
    deepest = 0
    stack: list[tuple[Any, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend((p, depth + 1) for p in payload)
    return deepest


def _decoded(part: Message) -> str:
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return storable(data.decode(charset, "replace"))
    except LookupError:  # an unknown charset name
        return storable(data.decode("utf-8", "replace"))


def parse_mail(raw: bytes) -> ParsedMail:
    """Blocking: call it through a thread."""
    if len(PART_START_RE.findall(raw)) > MAX_PARTS:
        mail = read_headers(raw, len(raw))
        mail.malformed = mail.malformed or f"more than {MAX_PARTS} parts"
        return mail
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as exc:
        mail = read_headers(raw, len(raw))
        mail.malformed = f"unreadable MIME: {type(exc).__name__}"
        return mail
    mail = ParsedMail(size=len(raw))
    _fill_headers(mail, message)
    broken = [type(d).__name__ for d in message.defects if type(d).__name__ in BROKEN_STRUCTURE]
    if broken:
        mail.malformed = "broken MIME structure: " + ", ".join(broken[:3])
        return mail
    if _depth(message, MAX_DEPTH) > MAX_DEPTH:
        mail.malformed = f"parts nested deeper than {MAX_DEPTH}"
        return mail
    try:
        _read_body(mail, message)
    except Exception as exc:  # a broken part: say so rather than fail
        mail.malformed = f"unreadable body: {type(exc).__name__}"
    for text in (mail.text, mail.html):
        if text and text.count("\ufffd") > max(3, len(text) // 10):
            mail.malformed = "text that is not in its declared charset"
    if b"\x00" in raw:
        mail.malformed = "NUL bytes (RFC 5322 allows none)"
    if mail.text is None and mail.html is None and not mail.attachments and message.defects:
        mail.malformed = "no readable part: " + ", ".join(type(d).__name__ for d in message.defects[:3])
    return mail


def _read_body(mail: ParsedMail, message: Message) -> None:
    for part in message.walk():
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        file_name = part.get_filename()
        if ctype == "message/rfc822" or ctype.startswith("multipart/"):
            continue  # a forwarded mail inside the reply: not the reply's own text
        if disposition != "attachment" and not file_name and ctype in ("text/plain", "text/html"):
            text = _decoded(part)
            if ctype == "text/plain" and mail.text is None:
                mail.text = text
            elif ctype == "text/html" and mail.html is None:
                mail.html = text
            continue
        if disposition == "inline" and not file_name:
            continue  # an inline image of a signature, a tracking pixel
        data = part.get_payload(decode=True)
        if (
            part.get("Content-ID")
            and disposition != "attachment"
            and len(data or b"") < SIGNATURE_IMAGE_BYTES
        ):
            continue  # a logo in a signature (Outlook's image001.png), referred to by the HTML
        if isinstance(data, bytes) and data and len(mail.attachments) < MAX_ATTACHMENTS:
            mail.attachments.append(Attachment(_text(file_name) or "attachment", ctype, data))
