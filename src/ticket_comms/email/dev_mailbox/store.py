"""The dev mailbox's store: caught mail as files in DATA_DIR/mailbox, and reading one caught message.

Mail is stored as `<id>.eml` (the bytes exactly as received) and `<id>.json` (envelope and summary,
written last: its presence means the message is complete). Ids sort by arrival. Files survive
restarts; the oldest are removed past MAX_MESSAGES.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

MAX_MESSAGES = 500
ID_RE = re.compile(r"^\d{16}-[0-9a-f]{8}$")


@dataclass(frozen=True, slots=True)
class Summary:
    id: str
    received_at: str
    mail_from: str
    rcpt_tos: list[str]
    subject: str
    from_: str
    to: str
    message_id: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "receivedAt": self.received_at,
            "mailFrom": self.mail_from,
            "rcptTos": self.rcpt_tos,
            "subject": self.subject,
            "from": self.from_,
            "to": self.to,
            "messageId": self.message_id,
            "size": self.size,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        return cls(
            data["id"],
            data["receivedAt"],
            data["mailFrom"],
            list(data["rcptTos"]),
            data["subject"],
            data["from"],
            data["to"],
            data["messageId"],
            int(data["size"]),
        )


class MailboxStore:
    """Caught mail on disk. Methods are blocking file I/O: call them through a thread."""

    def __init__(self, directory: Path, max_messages: int = MAX_MESSAGES):
        self.directory = directory
        self.max_messages = max_messages
        # Summaries never change once written, so they are read from disk once per process.
        self._summaries: dict[str, Summary] = {}

    def save(self, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> Summary:
        self.directory.mkdir(parents=True, exist_ok=True)
        message_id = f"{time.time_ns() // 1000:016d}-{secrets.token_hex(4)}"
        headers = email.message_from_bytes(raw.split(b"\r\n\r\n", 1)[0], policy=email.policy.default)
        summary = Summary(
            id=message_id,
            received_at=datetime.now(UTC).isoformat(),
            mail_from=mail_from,
            rcpt_tos=rcpt_tos,
            subject=_header(headers, "Subject"),
            from_=_header(headers, "From"),
            to=_header(headers, "To"),
            message_id=_header(headers, "Message-ID"),
            size=len(raw),
        )
        self._write(f"{message_id}.eml", raw)
        self._write(f"{message_id}.json", json.dumps(summary.to_json()).encode())
        self._summaries[message_id] = summary
        self._trim()
        return summary

    def _write(self, name: str, data: bytes) -> None:
        tmp = self.directory / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, self.directory / name)

    def _ids(self) -> list[str]:
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        return sorted((n[:-5] for n in names if n.endswith(".json") and ID_RE.match(n[:-5])), reverse=True)

    def _trim(self) -> None:
        for old in self._ids()[self.max_messages :]:
            self._remove(old)

    def _remove(self, message_id: str) -> None:
        for suffix in (".json", ".eml"):
            (self.directory / f"{message_id}{suffix}").unlink(missing_ok=True)
        self._summaries.pop(message_id, None)

    def summary(self, message_id: str) -> Summary | None:
        if not ID_RE.match(message_id):
            return None
        cached = self._summaries.get(message_id)
        if cached is not None:
            return cached
        try:
            data = json.loads((self.directory / f"{message_id}.json").read_text(encoding="utf-8"))
            summary = Summary.from_json(data)
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None
        self._summaries[message_id] = summary
        return summary

    def list(self, limit: int = MAX_MESSAGES) -> list[Summary]:
        ids = self._ids()
        for gone in set(self._summaries) - set(ids):
            self._summaries.pop(gone, None)
        return [s for s in (self.summary(i) for i in ids[:limit]) if s is not None]

    def raw(self, message_id: str) -> tuple[Summary, bytes] | None:
        summary = self.summary(message_id)
        if summary is None:
            return None
        try:
            return summary, (self.directory / f"{message_id}.eml").read_bytes()
        except FileNotFoundError:
            return None

    def clear(self) -> int:
        ids = self._ids()
        for message_id in ids:
            self._remove(message_id)
        return len(ids)


def _header(message: Any, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        return ""
    return " ".join(str(value).split()) if value is not None else ""


def _part_text(part: Any) -> str:
    try:
        return str(part.get_content())
    except (LookupError, ValueError, AssertionError):
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")


def parse(raw: bytes) -> dict[str, Any]:
    message: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[assignment]
    html_part = message.get_body(preferencelist=("html",))
    text_part = message.get_body(preferencelist=("plain",))
    attachments = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True) or b""
        attachments.append(
            {"filename": part.get_filename(), "contentType": part.get_content_type(), "size": len(payload)}
        )
    headers = []
    for name, value in message.raw_items():
        headers.append(
            {
                "name": name,
                "value": _header(message, name)
                if name.lower() in ("subject", "from", "to")
                else " ".join(str(value).split()),
            }
        )
    return {
        "headers": headers,
        "html": _part_text(html_part) if html_part is not None else None,
        "text": _part_text(text_part) if text_part is not None else None,
        "attachments": attachments,
    }
