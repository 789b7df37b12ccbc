"""The shape of the code base: each module says what it holds on its first line, stays small, and
migrations mean the same thing forever (they import nothing of the live service)."""

from __future__ import annotations

import ast
from pathlib import Path

import ticket_comms
from ticket_comms.catalogue import EVENT_TYPES
from ticket_comms.email.templates import builtin

SRC = Path(ticket_comms.__file__).resolve().parent
MAX_LINES = 400
# A module may be longer when its docstring says why, with these words.
LONG_REASON = "Longer than 400 lines because"


def modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if p.stat().st_size > 0)


def test_every_module_says_what_it_holds_on_its_first_line():
    missing = [str(p.relative_to(SRC)) for p in modules() if not p.read_text().startswith('"""')]
    assert missing == []


def test_no_module_is_over_400_lines_without_a_reason_at_its_top():
    long = []
    for path in modules():
        text = path.read_text()
        if text.count("\n") > MAX_LINES and LONG_REASON not in (ast.get_docstring(ast.parse(text)) or ""):
            long.append(f"{path.relative_to(SRC)}: {text.count(chr(10))} lines")
    assert long == []


def test_migrations_import_nothing_of_the_live_service():
    for path in sorted((SRC / "migrations" / "versions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any(n.startswith("ticket_comms") for n in names), f"{path.name} imports {names}"


def test_the_built_in_templates_follow_the_catalogue_of_events():
    assert set(builtin.SPECS) == {builtin.LAYOUT, *EVENT_TYPES}
