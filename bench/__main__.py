"""`make bench`: run every scenario (or those named: `python -m bench chat_http`), each printing JSON."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> int:
    wanted = set(sys.argv[1:])
    names = sorted(
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if not m.name.startswith("_") and m.name != "common"
    )
    for name in names:
        if wanted and name not in wanted:
            continue
        module = importlib.import_module(f"bench.{name}")
        if hasattr(module, "main"):
            print(f"# bench.{name}", file=sys.stderr, flush=True)
            module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
