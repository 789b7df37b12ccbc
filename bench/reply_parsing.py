"""Reply by email: the CPU a reply costs before it reaches the chat service (replies/parse.py and text.py,
run in a worker thread), per sample in tests/replies/samples/, and for hostile mail: a 10 MiB reply
(one attachment) and 60 nested-looking parts. Prints one JSON object (p50/p95 milliseconds)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bench.common import percentiles
from ticket_comms.replies.parse import parse_mail
from ticket_comms.replies.text import reply_of

SAMPLES = Path(__file__).resolve().parent.parent / "tests" / "replies" / "samples"
ROUNDS = 200


def _fill(raw: bytes) -> bytes:
    for key in (
        b"FROM",
        b"TO",
        b"MESSAGE_ID",
        b"IN_REPLY_TO",
        b"REFERENCES",
        b"SUBJECT",
        b"DATE",
        b"FROM_NAME",
    ):
        raw = raw.replace(
            b"{{" + key + b"}}", b"x@example.com" if key != b"MESSAGE_ID" else b"<1@example.com>"
        )
    return raw


def _time(raw: bytes, rounds: int = ROUNDS) -> dict[str, float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        mail = parse_mail(raw)
        reply_of(mail.text, mail.html)
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def main() -> None:
    out: dict[str, object] = {}
    for path in sorted(SAMPLES.glob("*.eml")):
        out[path.stem] = _time(_fill(path.read_bytes()))
    gmail = _fill((SAMPLES / "gmail_en_top_posted.eml").read_bytes())
    big = gmail.replace(
        b"--000000000000a1b2c3d4e5f60718--",
        b"--000000000000a1b2c3d4e5f60718\r\nContent-Type: image/jpeg\r\nContent-Disposition: attachment; "
        b'filename="a.jpg"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + (b"A" * 76 + b"\r\n") * (10 * 1024 * 1024 // 78)
        + b"--000000000000a1b2c3d4e5f60718--",
    )
    out["hostile_10_mib_reply"] = _time(big, rounds=10)
    parts = b"".join(b"--a\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(61))
    out["hostile_61_parts"] = _time(
        b'From: a@b.c\r\nContent-Type: multipart/mixed; boundary="a"\r\n\r\n' + parts
    )
    print(json.dumps({"benchmark": "reply_parsing", "unit": "ms", "results": out}))


if __name__ == "__main__":
    main()
