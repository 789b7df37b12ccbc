"""Chat Markdown in the MessageReceived email: the safe subset renders, anything else is text or dropped;
migration 0012 moves the built-in template to it only where the admin never edited the template."""

from __future__ import annotations

from typing import Any

import psycopg
from alembic import command
from alembic.config import Config

from tests.conftest import _server_url, _with_database
from ticket_comms import migrations
from ticket_comms.database import libpq_url, sqlalchemy_url
from ticket_comms.email import templates
from ticket_comms.email.markdown import markdown_filter, to_html


def test_the_chat_subset_renders_and_nothing_else_gets_through() -> None:
    html = to_html("**bold** _it_ `x<y`\n\n- one\n- two\n\n> quoted\n\n```\nif a < b:\n```")
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert ">x&lt;y</code>" in html and "<li>one</li>" in html and "quoted</p></blockquote>" in html
    assert "if a &lt; b:\n</code></pre>" in html
    assert to_html("[site](https://example.com)") == (
        '<p style="margin:0 0 8px 0;"><a href="https://example.com" rel="noopener noreferrer">site</a></p>'
    )
    hostile = to_html(
        "<script>alert(1)</script><img src=x onerror=alert(1)> [x](javascript:alert(1)) "
        '![pixel](https://tracker.example/p.gif) <a href="https://evil.example">a</a>\n# Big'
    )
    assert "<script" not in hostile and "<img" not in hostile and "<h1" not in hostile
    assert "javascript:" not in hostile.replace("[x](javascript:alert(1))", "")
    assert "&lt;script&gt;" in hostile  # raw HTML shows as the text it is
    assert '<a href="https://evil.example"' not in hostile


def test_the_filter_bounds_its_input_and_handles_no_value() -> None:
    assert markdown_filter(None) == ""
    long = markdown_filter("word " * 1000, 100)
    assert long.endswith("…</p>") and len(long) < 200


async def test_message_received_email_shows_the_formatting(app: Any) -> None:
    context = {
        "recipient": {"name": "Carol"},
        "ticket": {"title": "Leaking tap", "url": "https://tickets.example.com/t/42"},
        "messages": [
            {"senderName": "Bob", "content": "It is **urgent**: see <b>this</b>", "createdAt": None}
        ],
    }
    rendered = await templates.render(app.ctx, "MessageReceived", context)
    assert "<strong>urgent</strong>" in rendered.html
    assert "&lt;b&gt;this&lt;/b&gt;" in rendered.html and "<b>this</b>" not in rendered.html
    assert "It is **urgent**" in rendered.text  # the text part keeps the message as written


def _at(url: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations.HERE))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    command.upgrade(cfg, revision)


def _html(url: str) -> str:
    with psycopg.connect(libpq_url(url)) as conn:
        row = conn.execute(
            "SELECT html_content FROM email_templates WHERE name = 'MessageReceived'"
        ).fetchone()
    assert row is not None
    return row[0]


def test_migration_0012_updates_the_template_only_if_never_edited() -> None:
    admin_url = _server_url()
    for edited in (False, True):
        name = f"test_migration_0012_{'edited' if edited else 'pristine'}"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = _with_database(admin_url, name)
        try:
            _at(url, "0011")
            assert "|markdown" not in _html(url)
            if edited:
                with psycopg.connect(libpq_url(url)) as conn:
                    conn.execute(
                        "UPDATE email_templates SET html_content = html_content || '<p>Our note</p>' "
                        "WHERE name = 'MessageReceived'"
                    )
            migrations.upgrade(url)
            html = _html(url)
            if edited:
                assert "|markdown" not in html and html.endswith("<p>Our note</p>")
            else:
                assert "message.content|markdown(1000)" in html
        finally:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
