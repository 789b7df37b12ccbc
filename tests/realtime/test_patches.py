"""The realtime transport's contract with the library versions it patches (realtime/patches.py)."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest

from ticket_comms.config import Settings
from ticket_comms.realtime import codec, engine, manager, patches, redis_manager, server, websocket
from ticket_comms.realtime.patches import PATCHES, VALIDATED, UnvalidatedLibraries, check_versions

LIBRARIES = ("engineio", "socketio", "uvicorn", "websockets")


def resolve(dotted: str) -> Any:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ImportError(dotted)


def test_the_installed_libraries_are_the_validated_ones():
    check_versions()  # raises otherwise
    assert patches.installed_versions() == VALIDATED


def test_another_version_stops_the_start_with_a_clear_error():
    installed = {**VALIDATED, "python-engineio": "4.16.0", "uvicorn": None}
    with pytest.raises(UnvalidatedLibraries) as refused:
        check_versions(installed)
    message = str(refused.value)
    assert "python-engineio==4.16.0 (validated: 4.15.1)" in message
    assert "uvicorn==(not installed) (validated: 0.54.0)" in message
    assert "python-socketio" not in message.split("installed:")[1]
    assert "realtime/patches.py" in message


def test_building_the_socket_server_checks_the_versions(monkeypatch: pytest.MonkeyPatch):
    # The library's own metadata answers another version, as after an unplanned upgrade.
    real_version = patches.metadata.version
    monkeypatch.setattr(
        patches.metadata, "version", lambda name: "9.9.9" if name == "python-socketio" else real_version(name)
    )
    with pytest.raises(UnvalidatedLibraries, match=r"python-socketio==9\.9\.9"):
        server.build_server(lambda: None, Settings(jwt_secret="x" * 32))  # type: ignore[arg-type,return-value]


def test_every_patched_name_still_exists_upstream():
    for patch in PATCHES:
        resolve(patch.target)
        assert patch.upstream and patch.why, patch.target


def test_every_library_method_our_classes_override_is_listed():
    listed = {p.target for p in PATCHES}
    ours = [
        cls
        for module in (codec, engine, manager, redis_manager, server, websocket)
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if cls.__module__ == module.__name__
    ]
    unlisted = []
    for cls in ours:
        for name, value in vars(cls).items():
            if not callable(value) or name in ("__init_subclass__",):
                continue
            for base in cls.__mro__[1:]:
                if base.__module__.split(".")[0] in LIBRARIES and name in vars(base):
                    owner = f"{base.__module__}.{base.__qualname__}.{name}"
                    if owner not in listed:
                        unlisted.append(f"{cls.__qualname__}.{name} overrides {owner}")
                    break
    assert unlisted == []


def test_engine_io_creates_our_sockets():
    from engineio import async_server

    server.build_server(lambda: None, Settings(jwt_secret="x" * 32))  # type: ignore[arg-type,return-value]
    assert async_server.async_socket.AsyncSocket is engine.EngineSocket
