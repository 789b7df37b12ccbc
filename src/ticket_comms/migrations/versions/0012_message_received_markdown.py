"""The built-in MessageReceived email shows chat Markdown (the `markdown` filter) instead of plain text.

Only a row the admin never edited changes: its HTML must still be exactly what 0003 inserted. An
edited template is the admin's, and stays as they left it (they can reset it to the new built-in).
Both versions are frozen copies (0003's JSON, `frozen/0012_message_received.html`), never the live
files, so this migration means the same thing forever.

Revision ID: 0012
Revises: 0011
"""

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

FROZEN = Path(__file__).resolve().parent.parent / "frozen"
NAME = "MessageReceived"


def _versions() -> tuple[str, str]:
    shipped = json.loads((FROZEN / "0003_builtin_templates.json").read_text(encoding="utf-8"))
    before = next(t["html_content"] for t in shipped if t["name"] == NAME)
    after = (FROZEN / "0012_message_received.html").read_text(encoding="utf-8")
    return before, after


def _replace(old: str, new: str) -> None:
    op.get_bind().execute(
        sa.text(
            "UPDATE email_templates SET html_content = :new, updated_at = now() "
            "WHERE name = :name AND html_content = :old"
        ),
        {"new": new, "old": old, "name": NAME},
    )


def upgrade() -> None:
    before, after = _versions()
    _replace(before, after)


def downgrade() -> None:
    before, after = _versions()
    _replace(after, before)
