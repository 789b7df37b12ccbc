"""The app factory: builds the database, services and Socket.IO server from Settings, and wires them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import socketio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import PlainTextResponse
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException as StarletteHTTPException

from ticket_comms import migrations
from ticket_comms.attachments import router as attachments_router
from ticket_comms.attachments import service as attachments_service
from ticket_comms.attachments.storage import build_storage
from ticket_comms.auth import router as auth_router
from ticket_comms.auth.service import Users
from ticket_comms.auth.tokens import TokenVerifier
from ticket_comms.chat import router as chat_router
from ticket_comms.config import Settings
from ticket_comms.context import AppContext
from ticket_comms.database import Database, release_embedded_postgres, resolve_database_url
from ticket_comms.email import mailbox as email_mailbox
from ticket_comms.email import router as email_router
from ticket_comms.email import template_router as email_template_router
from ticket_comms.email import tracking as email_tracking
from ticket_comms.email import worker as email_worker
from ticket_comms.errors import AppError
from ticket_comms.notifications import router as notifications_router
from ticket_comms.observability import Metrics, RequestContextMiddleware, RuntimeWatch
from ticket_comms.push import router as push_router
from ticket_comms.push import vapid as push_vapid
from ticket_comms.push import worker as push_worker
from ticket_comms.realtime.broadcast import Broadcaster
from ticket_comms.realtime.server import build_server
from ticket_comms.responses import JSONResponse, error_response
from ticket_comms.tickets import router as tickets_router

log = logging.getLogger(__name__)

# JSON bodies are small; uploads have their own limit (MAX_UPLOAD_BYTES) on their own route.
MAX_JSON_BODY = 1_048_576

HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


_error = error_response


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        malformed = any(e.get("type") == "json_invalid" for e in exc.errors())
        if malformed:
            return _error(400, "malformed_json", "The request body is not valid JSON.", details)
        return _error(422, "validation_failed", "The request is not valid.", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return _error(500, "internal_error", "Something went wrong on our side.")


class BodyLimitMiddleware:
    """Refuse JSON bodies over MAX_JSON_BODY before reading them (413), whatever Content-Length says."""

    def __init__(self, app: Any, exempt_suffixes: tuple[str, ...]):
        self.app = app
        self.exempt = exempt_suffixes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in ("GET", "HEAD")
            or scope["path"].endswith(self.exempt)
        ):
            await self.app(scope, receive, send)
            return
        for key, value in scope["headers"]:
            if key == b"content-length" and value.isdigit() and int(value) > MAX_JSON_BODY:
                await _send_too_large(send)
                return
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
            await self.app(scope, limited_receive, tracked_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _send_too_large(send)


async def _send_too_large(send: Any) -> None:
    response = _error(413, "too_large", "The request body is too large.")
    await send({"type": "http.response.start", "status": 413, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


def create_app(settings: Settings | None = None) -> Any:
    """Return the ASGI app (Socket.IO wrapping FastAPI). `app.state.ctx` is set once started."""
    settings = settings or Settings()
    holder: dict[str, AppContext] = {}
    sio = build_server(lambda: holder["ctx"], settings)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.using_dev_secret:
            log.warning(
                "JWT_SECRET is not set: using the built-in development secret. Never do this in production."
            )
        url = await asyncio.to_thread(resolve_database_url, settings)
        if settings.migrate_on_start:
            await migrations.upgrade_in_child_process(url)
        db = Database(url, max_size=settings.database_pool_size)
        await db.open()
        broadcaster = Broadcaster(sio, settings.redis_url)
        await broadcaster.start()
        ctx = AppContext(
            settings=settings,
            db=db,
            verifier=TokenVerifier(settings),
            users=Users(db),
            broadcast=broadcaster,
            storage=build_storage(settings),
        )
        ctx.dev_mailbox = await email_mailbox.start(settings)
        ctx.worker = await email_worker.start_inline(ctx)
        # Loaded now so a bad VAPID_PRIVATE_KEY stops the start instead of the first push.
        push_vapid.load_signer(settings)
        pusher = push_worker.start_inline(settings, db, metrics)
        inbound_smtp = await email_tracking.start_inbound_smtp(ctx)
        holder["ctx"] = ctx
        orphan_sweeper = asyncio.create_task(attachments_service.run_sweeper(ctx))
        app.state.ctx = ctx
        watch = RuntimeWatch(metrics)
        watch.start()
        log.info("ticket-comms ready", extra={"fields": {"redis": bool(settings.redis_url)}})
        try:
            yield
        finally:
            if ctx.worker is not None:
                await ctx.worker.stop()
            if pusher is not None:
                await pusher.stop()
            if inbound_smtp is not None:
                await inbound_smtp.stop()
            orphan_sweeper.cancel()
            await asyncio.gather(orphan_sweeper, return_exceptions=True)
            if ctx.dev_mailbox is not None:
                await ctx.dev_mailbox.stop()
            await ctx.storage.close()
            await broadcaster.stop()
            await db.close()
            await watch.stop()
            if not settings.database_url:
                await asyncio.to_thread(release_embedded_postgres)

    api = FastAPI(title="ticket-comms", version="1", lifespan=lifespan, default_response_class=JSONResponse)
    api.state.settings = settings
    api.state.metrics = metrics
    api.state.sio = sio
    _install_error_handlers(api)
    if settings.cors_origins:
        api.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["Authorization", "Content-Type", "X-Request-Id"],
            max_age=600,
        )
    api.include_router(auth_router.router)
    api.include_router(tickets_router.router)
    api.include_router(chat_router.router)
    api.include_router(attachments_router.router)
    api.include_router(email_template_router.router)
    api.include_router(email_router.router)
    api.include_router(notifications_router.router)
    api.include_router(push_router.router)
    api.include_router(email_mailbox.router)
    api.include_router(email_mailbox.json_router)

    @api.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        ctx: AppContext | None = getattr(request.app.state, "ctx", None)
        if ctx is None:
            return _error(503, "unavailable", "Starting up.")
        try:
            async with ctx.db.connection() as conn:
                current = await migrations.is_up_to_date(conn)
        except Exception as exc:
            return _error(503, "unavailable", f"Database unreachable: {exc.__class__.__name__}")
        if not current:
            return _error(503, "unavailable", "Migrations are not applied.")
        return JSONResponse({"status": "ready"})

    @api.get("/metrics", include_in_schema=False)
    async def prometheus() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    asgi: Any = BodyLimitMiddleware(api, exempt_suffixes=("/attachments", "/email/inbound"))
    asgi = RequestContextMiddleware(asgi, metrics)
    wrapped = socketio.ASGIApp(sio, other_asgi_app=asgi, socketio_path="socket.io")
    wrapped.fastapi = api  # type: ignore[attr-defined]  # tests and the CLI reach app.state through it
    return wrapped
