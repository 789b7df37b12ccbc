"""Hosting of the built web app (web/dist) at `/`: hashed assets long-cached, every other non-API path
answered with index.html (the SPA fallback), plus `GET /api/v1/config`, what the app needs to know of
the server before anyone signs in."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from ticket_comms.config import Settings

# Paths the app never answers: they belong to the API, Socket.IO and the operational endpoints, so a
# mistyped API URL gets the API's JSON 404 instead of an HTML page.
RESERVED_PREFIXES = ("/api/", "/socket.io", "/docs", "/redoc", "/openapi.json", "/dev/mailbox")
RESERVED_EXACT = {"/api", "/healthz", "/readyz", "/metrics"}

# Files the build writes at the top of dist/ that must never be cached for long: a new deploy must
# reach users at their next visit (the service worker and the manifest name the hashed assets).
NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"

MISSING_BUILD = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Tickets</title></head>
<body style="font-family: system-ui, sans-serif; padding: 2rem; color: #27303f">
<h1>The web app is not built</h1><p>Run <code>make run</code> (it builds <code>web/</code> when its sources
change) or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>, then reload.</p></body></html>"""


class WebConfig(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    app_name: str
    dev_login: bool
    sign_in_url: str
    max_upload_bytes: int


def default_dist() -> Path:
    """web/dist beside the source tree (a checkout), or WEB_DIST when the app is deployed elsewhere."""
    configured = os.environ.get("WEB_DIST")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "web" / "dist"


def config_router(settings: Settings) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["web app"])

    @router.get("/config", response_model=WebConfig, response_model_by_alias=True)
    async def web_config() -> WebConfig:
        dev = settings.using_dev_secret
        return WebConfig(
            app_name=settings.app_name,
            dev_login=dev,
            sign_in_url=settings.web_sign_in_url or ("/dev/login" if dev else ""),
            max_upload_bytes=settings.max_upload_bytes,
        )

    return router


def is_reserved(path: str) -> bool:
    return path in RESERVED_EXACT or path.startswith(RESERVED_PREFIXES)


class WebApp:
    """ASGI middleware in front of the API: GET/HEAD for a non-reserved path is the web app's; anything
    else passes through untouched (so unknown API paths keep their JSON 404/405 answers)."""

    def __init__(self, app: Any, dist: Path | None = None):
        self.app = app
        self.root = (dist or default_dist()).resolve()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD") or is_reserved(scope["path"]):
            await self.app(scope, receive, send)
            return
        await self.response(scope["path"])(scope, receive, send)

    def response(self, url_path: str) -> Response:
        path = url_path.lstrip("/")
        if path:
            candidate = (self.root / path).resolve()
            # Only files inside dist/ are served; `..` tricks fall through to index.html.
            if candidate.is_relative_to(self.root) and candidate.is_file():
                cache = IMMUTABLE if path.startswith("assets/") else NO_CACHE
                return FileResponse(candidate, headers={"Cache-Control": cache})
            if path.startswith("assets/"):
                # A hashed asset of an older deploy: a 404, never index.html served as JavaScript.
                return Response(status_code=404, headers={"Cache-Control": NO_CACHE})
        index = self.root / "index.html"
        if not index.is_file():
            return HTMLResponse(MISSING_BUILD, status_code=503, headers={"Cache-Control": NO_CACHE})
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": NO_CACHE})
