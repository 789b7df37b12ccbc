"""python-socketio and python-engineio, imported name by name instead of all at once.

Their package `__init__` imports everything they ship: the sync and asyncio clients (with requests,
websocket-client and aiohttp), and the Kafka, Kombu, ZeroMQ, aio-pika and Redis managers. A server
uses none of that, and it was ~20 MB of the 125 MB a `serve` process held before its first socket
(issue 16 compares that with a Node server starting at 66 MB).

`install()` registers each package as a module whose exported names resolve on first use:
`socketio.AsyncServer` imports `socketio.async_server` then, and nothing else. The names and the
submodule each comes from are read from the package's own `__init__` (its `from .x import Name`
lines, parsed, not run), so they follow the installed version. Submodules import as usual
(`socketio.exceptions`, `from engineio import packet`). It runs when `ticket_comms` is imported,
before any of our modules imports socketio; a process that imported socketio earlier keeps the
eager package, which behaves the same.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
import types
from pathlib import Path
from typing import Any

PACKAGES = ("socketio", "engineio")


def install() -> None:
    for name in PACKAGES:
        if name not in sys.modules:
            sys.modules[name] = lazy_package(name)


def exported_names(init_path: str) -> dict[str, str]:
    """Name -> relative submodule (".async_server") for each `from .x import Name` of an __init__."""
    tree = ast.parse(Path(init_path).read_text(encoding="utf-8"))
    exports: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            for alias in node.names:
                exports[alias.asname or alias.name] = "." + node.module
    return exports


def lazy_package(name: str) -> types.ModuleType:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not an installed package")
    module = importlib.util.module_from_spec(spec)  # __path__, __spec__, __file__; __init__ not run
    exports = exported_names(spec.origin)

    def __getattr__(attr: str) -> Any:
        if attr in exports:
            value = getattr(importlib.import_module(exports[attr], name), attr)
        elif attr.startswith("__"):
            raise AttributeError(attr)
        else:
            try:
                value = importlib.import_module(f"{name}.{attr}")
            except ModuleNotFoundError:
                raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None
        setattr(module, attr, value)
        return value

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    module.__all__ = list(exports)  # type: ignore[attr-defined]
    return module
