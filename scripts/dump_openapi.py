"""Print the service's OpenAPI document as JSON, built from create_app without starting a server."""

from __future__ import annotations

import json
import sys

from ticket_comms.app import create_app
from ticket_comms.config import Settings


def openapi_document() -> dict:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return create_app(settings).fastapi.openapi()


if __name__ == "__main__":
    json.dump(openapi_document(), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
