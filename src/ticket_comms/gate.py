"""The front door for requests: no NUL in the URL; for request bodies, the caller is authenticated before any byte of a body is read,
and a body is bounded (1 MiB) except on the routes that stream their own, larger bodies.

FastAPI reads and parses a JSON body before it runs the dependency that checks the token, so without
this gate anyone could make the server buffer a body of any size. Only the bearer token's signature
and expiry are checked here (no database); the route's own dependency still signs the user in.
"""

from __future__ import annotations

import re
from typing import Any

from ticket_comms import ratelimits
from ticket_comms.errors import AppError, Unauthenticated, Unavailable
from ticket_comms.responses import error_response

MAX_JSON_BODY = 1_048_576

# Routes whose bodies are streamed by the route itself, under its own limit, after it authenticated.
STREAMED_ROUTES = (
    ("POST", re.compile(r"/api/v1/tickets/[^/]+/attachments")),  # MAX_UPLOAD_BYTES, to storage
    ("POST", re.compile(r"/api/v1/email/inbound")),  # admin/service only, MAX_INBOUND_BYTES
)
# Routes that take a body with no bearer token: their own check is the authentication (the SNS
# signature, the unsubscribe token in the URL, a push subscription's auth secret), or they exist only in development (the dev mailbox, and
# the dev sign-in that hands out demo tokens, which answers 404 once a real secret is set).
PUBLIC_BODY_ROUTES = re.compile(
    r"/api/v1/email/webhooks/ses|/api/v1/email/unsubscribe|/api/v1/push/subscription-change"
    r"|/api/v1/dev/sign-in|/dev/mailbox(/.*)?"
)
# Rate limits applied at the door, keyed by the verified caller: these routes' owners call no limiter.
DOOR_LIMITS = (("POST", re.compile(r"/api/v1/events"), "event"),)


class BodyGate:
    """ASGI middleware: authenticate, then bound, any request that carries a body."""

    def __init__(self, app: Any, ctx_ref: Any):
        self.app = app
        self.ctx_ref = ctx_ref  # the AppContext once started, else None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if "\x00" in path or b"%00" in scope.get("query_string", b"").lower():
            # No id, name or search text can hold NUL, and PostgreSQL cannot store it: refuse it here,
            # once for every route, rather than as a database error in whichever handler it reaches.
            await _answer(send, AppError("The URL contains a NUL character.", code="bad_url"), 400)
            return
        length, chunked = _body_headers(scope)
        has_body = chunked or bool(length)
        if not has_body and not _door_limit(method, path):
            await self.app(scope, receive, send)
            return
        try:
            if path.startswith("/api/") and not PUBLIC_BODY_ROUTES.fullmatch(path):
                await self._authenticate(scope, method, path)
        except AppError as exc:
            await _answer(send, exc)
            return
        if any(m == method and pattern.fullmatch(path) for m, pattern in STREAMED_ROUTES):
            await self.app(scope, receive, send)
            return
        if length is not None and length > MAX_JSON_BODY:
            await _answer(send, AppError("The request body is too large.", code="too_large"), 413)
            return
        await _limited(self.app, scope, receive, send)

    async def _authenticate(self, scope: dict[str, Any], method: str, path: str) -> None:
        ctx = self.ctx_ref()
        if ctx is None:
            raise Unavailable("Starting up.")
        token = _bearer(scope)
        if token is None:
            raise Unauthenticated()
        claims = await ctx.verifier.authenticate(token)
        action = _door_limit(method, path)
        if action is not None:
            await ratelimits.hit(ctx, action, claims.user_id)


def _door_limit(method: str, path: str) -> str | None:
    return next((a for m, pattern, a in DOOR_LIMITS if m == method and pattern.fullmatch(path)), None)


def _body_headers(scope: dict[str, Any]) -> tuple[int | None, bool]:
    length: int | None = None
    chunked = False
    for key, value in scope["headers"]:
        if key == b"content-length":
            # A malformed length is the server's to refuse; treat it as a body of unknown size.
            length = int(value) if value.isdigit() else None
            chunked = chunked or length is None
        elif key == b"transfer-encoding":
            chunked = True
    return length, chunked


def _bearer(scope: dict[str, Any]) -> str | None:
    for key, value in scope["headers"]:
        if key == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


async def _limited(app: Any, scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Pass the body on until it exceeds MAX_JSON_BODY; then cut it off and answer 413 ourselves."""
    received = 0
    exceeded = False
    started = False

    async def limited_receive() -> dict[str, Any]:
        nonlocal received, exceeded
        if exceeded:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > MAX_JSON_BODY:
                # Stop reading: the app sees a disconnect, and we answer 413 ourselves below.
                exceeded = True
                return {"type": "http.disconnect"}
        return message

    async def tracked_send(message: dict[str, Any]) -> None:
        nonlocal started
        if exceeded and not started:
            return  # the app's own answer to the cut-off body is replaced by the 413
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, limited_receive, tracked_send)
    except Exception:
        if not exceeded:
            raise
    if exceeded and not started:
        await _answer(send, AppError("The request body is too large.", code="too_large"), 413)


async def _answer(send: Any, exc: AppError, status: int | None = None) -> None:
    response = error_response(status or exc.status, exc.code, exc.message, exc.details)
    retry_after = ratelimits.retry_after_of(exc.details)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    await send(
        {"type": "http.response.start", "status": response.status_code, "headers": response.raw_headers}
    )
    await send({"type": "http.response.body", "body": response.body})
