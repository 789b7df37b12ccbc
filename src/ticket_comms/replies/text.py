"""A reply's own words: HTML turned into text, then the quoted history, the "On … wrote:" / "From: … Sent:"
headers, signatures and mobile footers cut away.

mail-parser-reply does the cutting (docs/replies.md says why it and not quotequail): it splits the text at
the reply headers of many clients in many languages and knows signatures and disclaimers. On top of it,
only what it leaves: mobile footers in the word orders it does not know ("Von meinem iPhone gesendet").
Inline answers (quoted lines with answers between them, below an "On … wrote:") keep their quoted
lines: without them the answers make no sense.
"""

from __future__ import annotations

import re

import html2text
from mailparser_reply.parser import EmailMessage

LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "sv", "da", "pl"]
# Footers that phone clients append, in the languages above (mail-parser-reply knows the English ones).
MOBILE_FOOTER_RE = re.compile(
    r"^\s*(?:"
    r"sent from my \w[\w ]{0,30}|get outlook for \w+|sent from (?:outlook|mail) for \w+"
    r"|von meinem \w[\w ]{0,30} gesendet|gesendet von meinem \w[\w ]{0,30}|gesendet von \w[\w ]{0,30}"
    r"|envoy[ée] de mon \w[\w ]{0,30}|enviado desde mi \w[\w ]{0,30}|inviato da \w[\w ]{0,30}"
    r"|verzonden vanaf mijn \w[\w ]{0,30}|skickat fr[åa]n min \w[\w ]{0,30}|sendt fra min \w[\w ]{0,30}"
    r"|wys[łl]ane z \w[\w ]{0,30}"
    r")\s*$",
    re.IGNORECASE | re.MULTILINE,
)
MAX_TEXT = 50_000
BLANK_LINES_RE = re.compile(r"\n{3,}")
# What html2text makes of an `<hr>` (Outlook on the web puts one above the quoted mail).
TRAILING_RULE_RE = re.compile(r"(?:\n\s*(?:\* \* \*|-{3,}|_{3,})\s*)+$")


def html_to_text(html: str) -> str:
    """Readable text of an HTML mail: paragraphs and lists kept, links as `text (url)`, images dropped,
    quotes (`<blockquote>`) as `>` lines so the reply cutting can recognise them."""
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    converter.ignore_links = False
    converter.inline_links = True
    converter.protect_links = True
    converter.unicode_snob = True
    text = converter.handle(html)
    # html2text writes links as markdown `[text](url)`; in a chat message `text (url)` reads better.
    text = re.sub(r"\[([^\]\n]*)\]\(<?([^)\s>]+)>?\)", lambda m: _link(m[1], m[2]), text)
    return BLANK_LINES_RE.sub("\n\n", text).strip()


def _link(label: str, url: str) -> str:
    label = label.strip()
    if not label or label == url or url == f"mailto:{label}":
        return url.removeprefix("mailto:")
    return f"{label} ({url})"


def reply_text(text: str) -> str:
    """The newest reply in `text`, without quotes, headers, signatures and footers."""
    message = EmailMessage(text, languages=list(LANGUAGES), keep_hyphen_lists=True).read()
    body = message.replies[0].body if message.replies else text
    body = MOBILE_FOOTER_RE.split(body, maxsplit=1)[0] if MOBILE_FOOTER_RE.search(body) else body
    return TRAILING_RULE_RE.sub("", BLANK_LINES_RE.sub("\n\n", body).strip()).strip()


def reply_of(plain: str | None, html: str | None) -> str:
    """The reply's text from its plain part, or its HTML part when it has no plain one. Only the start of a
    long mail is read: a chat message holds 10,000 characters, and the reply is at the top (inline answers
    too, within this much), so megabytes of quoted history cost no regular-expression time."""
    if plain and plain.strip():
        return reply_text(plain[:MAX_TEXT])
    if html and html.strip():
        return reply_text(html_to_text(html[: MAX_TEXT * 2])[:MAX_TEXT])
    return ""
