"""Chat Markdown in emails: the `markdown` template filter, so a MessageReceived email shows a message's
bold, italics, code, links, lists and quotes as the web app does.

Message text is written by any participant and ends up in other people's mail, so two locks:
markdown-it parses with raw HTML off and only the web app's subset enabled (no images: a remote image
in a message would be a tracking pixel in everyone's inbox), and nh3 (ammonia) then keeps only an
allow-list of tags and `href`s with safe schemes, whatever the parser produced. Links get
`rel="noopener noreferrer"`. Style goes inline on the few tags that need it: email clients drop <style>.
"""

from __future__ import annotations

from typing import Any

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Long enough for any chat message the API accepts to be shown whole in an email's digest.
MAX_SOURCE = 20_000

_md = MarkdownIt("commonmark", {"html": False, "breaks": True}).disable(
    ["heading", "lheading", "hr", "image", "html_block", "html_inline", "reference"]
)

_TAGS = {"p", "br", "strong", "em", "code", "pre", "a", "ul", "ol", "li", "blockquote"}
_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}}
_SCHEMES = {"http", "https", "mailto"}

# Applied after sanitizing, to exact tags nh3 wrote: no user text can reach these strings.
_STYLES = {
    "<pre>": '<pre style="margin:8px 0;padding:8px 10px;background-color:#eef1f5;border-radius:6px;'
    'white-space:pre-wrap;word-break:break-word;font-family:Menlo,Consolas,monospace;font-size:13px;">',
    "<code>": '<code style="font-family:Menlo,Consolas,monospace;font-size:13px;">',
    "<blockquote>": '<blockquote style="margin:8px 0;padding:0 0 0 10px;border-left:3px solid #dde3ea;'
    'color:#5b6675;">',
    "<p>": '<p style="margin:0 0 8px 0;">',
    "<ul>": '<ul style="margin:0 0 8px 0;padding-left:22px;">',
    "<ol>": '<ol style="margin:0 0 8px 0;padding-left:22px;">',
}


def to_html(text: str) -> str:
    """Sanitized HTML for chat Markdown `text` (the safe subset; raw HTML shows as text)."""
    html = _md.render(text[:MAX_SOURCE])
    clean = nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    # Newlines between block tags would show as blank lines in a `white-space: pre-wrap` container.
    clean = clean.replace(">\n<", "><").strip()
    for tag, styled in _STYLES.items():
        clean = clean.replace(tag, styled)
    return clean


def markdown_filter(value: Any, limit: int = 1000) -> Markup:
    """`{{ message.content|markdown }}`: at most `limit` characters of source (cut on a word, with "…")."""
    if value is None:
        return Markup("")
    text = str(value)
    limit = max(1, min(int(limit), MAX_SOURCE))
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + "…"
    return Markup(to_html(text))  # noqa: S704 (sanitized by nh3 in to_html)
