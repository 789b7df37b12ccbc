"""docs/asyncapi.yaml says exactly what the server does: its events, and the shape of their payloads."""

from __future__ import annotations

import ast
from typing import Any

import yaml

from tests.conftest import ROOT, RunningApp
from tests.realtime.conftest import Connect, Http, make_ticket

SPEC = ROOT / "docs" / "asyncapi.yaml"
SOURCES = ROOT / "src" / "ticket_comms"
LIFECYCLE = {"connect", "disconnect"}


def _spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text())


def _resolve(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    if isinstance(node, dict) and set(node) == {"$ref"}:
        return _resolve(spec, node["$ref"])
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _emitted_event_names() -> set[str]:
    """Every event name the code emits: the first argument of `.emit(...)` / `._emit(...)` calls."""
    names: set[str] = set()
    for path in SOURCES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("emit", "_emit")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                names.add(node.args[0].value)
    return names


def _operations(action: str) -> set[str]:
    return {name for name, op in _spec()["operations"].items() if op["action"] == action}


def test_every_ref_resolves() -> None:
    spec = _spec()
    for ref in _refs(spec):
        assert ref.startswith("#/"), ref
        _resolve(spec, ref)


def test_client_events_match_the_registered_handlers(app: RunningApp) -> None:
    sio = app.asgi.fastapi.state.sio
    handlers = set(sio.handlers["/"]) - LIFECYCLE
    assert _operations("receive") == handlers


def test_server_events_match_what_the_code_emits() -> None:
    emitted = _emitted_event_names()
    assert emitted, "found no emit calls: the scan is broken"
    assert _operations("send") == emitted


def test_every_channel_message_has_an_operation() -> None:
    spec = _spec()
    channel = spec["channels"]["default"]["messages"]
    assert set(channel) == set(spec["operations"])
    for name, op in spec["operations"].items():
        (message,) = op["messages"]
        assert _resolve(spec, message["$ref"])["name"] == name


def _check(spec: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> None:
    """Enough of JSON Schema to hold the documented payloads against real ones."""
    if "$ref" in schema:
        _check(spec, _resolve(spec, schema["$ref"]), value, where)
        return
    if "oneOf" in schema:
        errors = []
        for option in schema["oneOf"]:
            try:
                _check(spec, option, value, where)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{where}: matches no option: {errors}")
    if "const" in schema:
        assert value == schema["const"], where
    if "enum" in schema:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    types = schema.get("type")
    if types is not None:
        allowed = types if isinstance(types, list) else [types]
        python = {
            "object": dict,
            "array": list,
            "string": str,
            "integer": int,
            "boolean": bool,
            "null": type(None),
        }
        assert any(isinstance(value, python[t]) for t in allowed), f"{where}: {value!r} is not {allowed}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{where}: missing {key}"
        properties = schema.get("properties", {})
        for key, sub in properties.items():
            if key in value:
                _check(spec, sub, value[key], f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            _check(spec, schema["items"], item, f"{where}[{i}]")


async def test_real_payloads_match_the_documented_schemas(
    app: RunningApp, connect: Connect, as_user: Http
) -> None:
    spec = _spec()
    messages = spec["components"]["messages"]
    ticket = await make_ticket(as_user, "alice", "bob")
    alice, bob = await connect("alice"), await connect("bob")

    sent = await alice.call("sendMessage", {"ticketId": ticket, "content": "documented", "clientId": "d-1"})
    _check(spec, messages["sendMessageAck"]["payload"], sent, "sendMessage ack")
    new = await bob.wait("newMessage")
    _check(spec, messages["newMessage"]["payload"], new, "newMessage")
    message_schema = spec["components"]["schemas"]["Message"]
    assert set(new["message"]) == set(message_schema["properties"]) == set(message_schema["required"])

    _check(spec, messages["joinTicketAck"]["payload"], await bob.call("joinTicket", ticket), "joinTicket ack")
    _check(spec, messages["messages"]["payload"], await bob.wait("messages"), "messages")
    _check(spec, messages["markAsReadAck"]["payload"], await bob.call("markAsRead", ticket), "markAsRead ack")
    _check(spec, messages["messagesRead"]["payload"], await alice.wait("messagesRead"), "messagesRead")
    typing = {"ticketId": ticket, "isTyping": True}
    _check(spec, messages["okAck"]["payload"], await alice.call("typing", typing), "typing ack")
    _check(spec, messages["userTyping"]["payload"], await bob.wait("userTyping"), "userTyping")
    sync = await bob.call("sync", {"ticketId": ticket, "afterSeq": 0})
    _check(spec, messages["syncAck"]["payload"], sync, "sync ack")
    error_ack = await bob.call("sync", {"ticketId": ticket})
    _check(spec, messages["syncAck"]["payload"], error_ack, "sync error ack")
    await bob.emit("sync", {"ticketId": ticket})
    _check(spec, messages["error"]["payload"], await bob.wait("error"), "error")

    r = await as_user("boss", role="admin").patch(f"/api/v1/tickets/{ticket}", json={"status": "InProgress"})
    assert r.status_code == 200
    _check(spec, messages["ticketUpdate"]["payload"], await bob.wait("ticketUpdate"), "ticketUpdate")
    r = await as_user("alice").put(f"/api/v1/tickets/{ticket}/messages/{sent['message']['id']}/reactions/🎉")
    _check(spec, messages["messageUpdated"]["payload"], await bob.wait("messageUpdated"), "messageUpdated")
    await as_user("boss", role="admin").delete(f"/api/v1/tickets/{ticket}/participants/bob")
    _check(
        spec,
        messages["ticketUpdate"]["payload"],
        await bob.wait("ticketUpdate", lambda d: d["event"] == "removed"),
        "ticketUpdate removed",
    )


def test_spec_is_asyncapi_3() -> None:
    assert _spec()["asyncapi"].startswith("3.")
