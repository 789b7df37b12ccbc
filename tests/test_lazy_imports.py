"""What a `serve` process does not load until it needs it (ticket_comms/lazy_packages.py and the local
imports beside it): the memory a server holds before its first socket (issue 16)."""

from __future__ import annotations

import json
import subprocess
import sys

from ticket_comms import lazy_packages

# Each comes with code a server without that feature never runs: Socket.IO's clients and
# message-queue managers (aiohttp, requests, websocket-client), Redis (REDIS_URL unset), httpx (the
# push sender and SES's certificate fetch), the emoji data (the first reaction).
NOT_AT_START = ("aiohttp", "requests", "websocket", "redis", "httpx", "emoji", "kombu")

PROBE = """
import json, sys
import ticket_comms.app, ticket_comms.cli
from ticket_comms.config import Settings
from ticket_comms.realtime.server import build_server
build_server(lambda: None, Settings(jwt_secret="x" * 32))
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in NAMES)))
"""


def test_the_server_starts_without_what_it_does_not_use():
    probe = f"NAMES = {NOT_AT_START!r}\n{PROBE}"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == []


def test_the_lazy_packages_still_give_every_name_they_export():
    probe = """
import ticket_comms, socketio, engineio
from socketio import packet
from engineio import packet as eio_packet
assert socketio.AsyncServer.__module__ == "socketio.async_server"
assert socketio.AsyncClient.__module__ == "socketio.async_client"
assert engineio.AsyncServer.__module__ == "engineio.async_server"
assert socketio.exceptions.ConnectionRefusedError.__name__ == "ConnectionRefusedError"
assert "AsyncRedisManager" in socketio.__all__
try:
    socketio.NoSuchName
except AttributeError:
    print("ok")
"""
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "ok"


def test_names_are_read_from_the_package_init(tmp_path):
    init = tmp_path / "__init__.py"
    init.write_text(
        "from .client import Client\nfrom .server import Server as S\ntry:\n    from .t import h\nexcept ImportError:\n    h = None\n"
    )
    assert lazy_packages.exported_names(str(init)) == {"Client": ".client", "S": ".server", "h": ".t"}
