"""A schema fuzzer (schemathesis) over the OpenAPI document: every operation, as an admin and as a
member, valid and invalid inputs; any 5xx fails the test.

Bounded for `make test` (FUZZ_SECONDS, FUZZ_EXAMPLES per operation and role) with a fixed seed
(FUZZ_SEED), so a failure reproduces; `make fuzz` runs the same with a longer budget.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import GenerationMode

from tests.chat.helpers import register, ticket_with
from tests.conftest import RunningApp, make_settings, start_app

FUZZ_SECONDS = float(os.environ.get("FUZZ_SECONDS", "75"))
FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
FUZZ_SEED = int(os.environ.get("FUZZ_SEED", "20261202"))


@pytest.fixture
async def fuzzed(database_url, tmp_path) -> AsyncIterator[RunningApp]:
    # Rate limits off: a fuzzer is a script, and limited answers would hide the handlers behind them.
    running = await start_app(make_settings(database_url, tmp_path, rate_limits_enabled=False))
    yield running
    await running.stop()


def fuzz(
    document: dict[str, Any],
    base_url: str,
    tokens: dict[str, str],
    known: dict[str, str],
    seen: dict[str, int],
) -> list[str]:
    """Run every operation for each role until the budget is spent; return the 5xx answers seen.

    `seen` counts the answers by "METHOD path status", to show what was reached."""
    schema = schemathesis.openapi.from_dict(document)
    picker = random.Random(FUZZ_SEED)
    failures: dict[str, str] = {}
    deadline = time.monotonic() + FUZZ_SECONDS
    session = requests.Session()
    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:
        for role, token in tokens.items():
            if time.monotonic() > deadline:
                return list(failures.values())
            _fuzz_one(operation, role, token, base_url, session, known, picker, deadline, failures, seen)
    return list(failures.values())


def _fuzz_one(
    operation: Any,
    role: str,
    token: str,
    base_url: str,
    session: requests.Session,
    known: dict[str, str],
    picker: random.Random,
    deadline: float,
    failures: dict[str, str],
    seen: dict[str, int],
) -> None:
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)

    @seed(FUZZ_SEED)
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=hypothesis.Verbosity.quiet,
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        if time.monotonic() > deadline:
            return
        # Half the cases aim at real rows, so handlers past the "not found" check are reached.
        for name in list(case.path_parameters or {}):
            if name in known and picker.random() < 0.5:
                case.path_parameters[name] = known[name]
        try:
            response = case.call(
                base_url=base_url,
                session=session,
                headers={"Authorization": f"Bearer {token}"},
                timeout=15,
            )
        except (
            requests.exceptions.InvalidHeader,
            requests.exceptions.InvalidURL,
            ValueError,
            UnicodeError,
        ):
            return  # a request no HTTP client can send
        key = f"{case.method} {case.operation.path} {response.status_code}"
        seen[key] = seen.get(key, 0) + 1
        if response.status_code >= 500:
            failures.setdefault(key, f"{key} as {role}: {case.as_curl_command()} -> {response.text[:300]}")

    run()


@pytest.mark.timeout(FUZZ_SECONDS + 90)
async def test_the_fuzzer_finds_no_5xx(fuzzed):
    await register(fuzzed, "bob")
    async with fuzzed.client("alice") as alice:
        tid = (await ticket_with(alice, "bob"))["id"]
        mid = (await alice.post(f"/api/v1/tickets/{tid}/messages", json={"content": "hello"})).json()["id"]
        att = await alice.post(
            f"/api/v1/tickets/{tid}/attachments", files={"file": ("a.txt", b"some text", "text/plain")}
        )
        document = (await alice.get("/openapi.json")).json()
    known = {
        "ticket_id": tid,
        "message_id": mid,
        "attachment_id": att.json()["id"],
        "user_id": "bob",
        "emoji": "👍",
        "name": "TicketCreated",
    }
    tokens = {"admin": fuzzed.token("root", "admin"), "member": fuzzed.token("alice")}
    seen: dict[str, int] = {}
    failures = await asyncio.to_thread(fuzz, document, fuzzed.base_url, tokens, known, seen)
    print("fuzzer answers:", *sorted(f"{n:5d} {key}" for key, n in seen.items()), sep="\n  ")
    assert not failures, "\n\n".join(failures)
    # It really ran: most operations were reached, and some got past validation to a 2xx.
    operations = {key.rsplit(" ", 1)[0] for key in seen}
    assert len(operations) >= 10, operations
    assert any(key.endswith((" 200", " 201", " 204")) for key in seen), seen
