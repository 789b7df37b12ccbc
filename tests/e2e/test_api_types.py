"""The web app's API types (web/src/lib/api/schema.d.ts) are generated from the server's current OpenAPI
document: this fails when someone changes the API without running `npm run gen:api` in web/."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_generated_api_types_are_current(tmp_path):
    out = tmp_path / "schema.d.ts"
    subprocess.run(
        ["node", "scripts/gen-api.mjs", str(out)],
        cwd=ROOT / "web",
        check=True,
        timeout=300,
        capture_output=True,
    )
    committed = (ROOT / "web" / "src" / "lib" / "api" / "schema.d.ts").read_text()
    assert out.read_text() == committed, "web/src/lib/api/schema.d.ts is stale: run `npm run gen:api` in web/"
