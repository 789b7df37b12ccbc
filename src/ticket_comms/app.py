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
from prometheus_client import generate_latest, start_http_server
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException as StarletteHTTPException

from ticket_comms import background, migrations, ratelimits, webapp
from ticket_comms.attachments import router as attachments_router
from ticket_comms.attachments import service as attachments_service
from ticket_comms.attachments.imageworkers import ImageWorkers
from ticket_comms.attachments.imageworkers import Limits as ImageLimits
from ticket_comms.auth import router as auth_router
from ticket_comms.auth.deps import Admin
from ticket_comms.chat import router as chat_router
from ticket_comms.config import Settings, check_secrets
from ticket_comms.context import AppContext
from ticket_comms.database import Database, is_outage, release_embedded_postgres, resolve_database_url
from ticket_comms.demo import router as demo_router
from ticket_comms.demo import seed as demo_seed
from ticket_comms.email import inbound_smtp as inbound_smtp_listener
from ticket_comms.email import router as email_router
from ticket_comms.email.dev_mailbox import router as dev_mailbox_router
from ticket_comms.email.dev_mailbox import sink as dev_mailbox
from ticket_comms.email.ses_webhook import SnsCertificates
from ticket_comms.email.templates import router as email_template_router
from ticket_comms.email.templates.render_pool import TemplateRenderer
from ticket_comms.errors import AppError
from ticket_comms.gate import BodyGate
from ticket_comms.notifications import router as notifications_router
from ticket_comms.notifications import unsubscribe as unsubscribe_router
from ticket_comms.observability import Metrics, RequestContextMiddleware, RuntimeWatch
from ticket_comms.push import router as push_router
from ticket_comms.push import vapid as push_vapid
from ticket_comms.realtime.broadcast import Broadcaster
from ticket_comms.realtime.server import build_server
from ticket_comms.replies import inbound as inbound_mail
from ticket_comms.replies import router as replies_router
from ticket_comms.responses import JSONResponse, error_response
from ticket_comms.tickets import router as tickets_router

log = logging.getLogger(__name__)

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


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def apperror_response(_: Request, exc: AppError) -> JSONResponse:
        response = error_response(exc.status, exc.code, exc.message, exc.details)
        retry_after = ratelimits.retry_after_of(exc.details)
        if exc.status == 429 and retry_after is not None:
            response.headers["Retry-After"] = str(retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def validationerror_response(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        malformed = any(e.get("type") == "json_invalid" for e in exc.errors())
        if malformed:
            return error_response(400, "malformed_json", "The request body is not valid JSON.", details)
        return error_response(422, "validation_failed", "The request is not valid.", details)

    @app.exception_handler(StarletteHTTPException)
    async def httperror_response(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        if is_outage(exc):
            # Reached outside Database's own connection handling: still the database, not a bug.
            return error_response(
                503, "database_unavailable", "The database is unreachable; try again shortly."
            )
        log.exception("unhandled error")
        return error_response(500, "internal_error", "Something went wrong on our side.")


READY_TIMEOUT_SECONDS = 0.8


async def _migrations_current(ctx: AppContext) -> bool:
    async with ctx.db.connection() as conn:
        return await migrations.is_up_to_date(conn)


def create_app(settings: Settings | None = None) -> Any:
    """Return the ASGI app (Socket.IO wrapping FastAPI). `app.state.ctx` is set once started."""
    settings = settings or Settings()
    holder: dict[str, AppContext] = {}
    sio = build_server(lambda: holder["ctx"], settings)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_secrets(settings)
        if settings.is_development:
            settings.signing_key  # noqa: B018 -- generated into DATA_DIR now rather than at the first link
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
        ctx = background.build_context(
            settings,
            db,
            broadcaster,
            limits=ratelimits.RateLimits(settings),
            image_workers=ImageWorkers(
                ImageLimits(settings.image_workers, settings.image_memory_bytes, settings.image_cpu_seconds)
            ),
            sns_certificates=SnsCertificates(),
            renderer=TemplateRenderer(),
        )
        if ctx.verifier.jwks is not None:
            ctx.verifier.jwks.refresh_soon()  # in the background: the first sign-ins need not wait
        ctx.dev_mailbox = await dev_mailbox.start(settings)
        ctx.worker = await background.start_inline(ctx)
        # Loaded now so a bad VAPID_PRIVATE_KEY stops the start instead of the first push.
        push_vapid.load_signer(settings)
        pusher = None
        if settings.worker == "inline":
            from ticket_comms.push import worker as push_worker  # only here: push/worker.py says why

            pusher = push_worker.start_inline(settings, db, metrics)
        inbound_smtp = await inbound_smtp_listener.start_inbound_smtp(ctx, *inbound_mail.smtp_handlers(ctx))
        try:
            await demo_seed.seed_empty_development_database(ctx)
        except Exception:
            # Demo data is a convenience: a failure to write it must not keep the service down.
            log.exception("could not write the demo data")
        holder["ctx"] = ctx
        orphan_sweeper = asyncio.create_task(attachments_service.run_sweeper(ctx))
        app.state.ctx = ctx
        watch = RuntimeWatch(metrics)
        watch.start()
        metrics_server = None
        if settings.metrics_port:
            # A thread of its own (prometheus_client's), so a scrape never waits on the event loop.
            metrics_server, _ = start_http_server(settings.metrics_port, settings.host, metrics.registry)
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
            if ctx.image_workers is not None:
                ctx.image_workers.close()
            if ctx.renderer is not None:
                ctx.renderer.close()
            await ctx.messages.wait_idle()
            await broadcaster.stop()
            await db.close()
            await watch.stop()
            if metrics_server is not None:
                metrics_server.shutdown()
                metrics_server.server_close()
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
    api.include_router(replies_router.router)
    api.include_router(notifications_router.router)
    api.include_router(unsubscribe_router.router)
    api.include_router(push_router.router)
    api.include_router(dev_mailbox_router.router)
    api.include_router(dev_mailbox_router.json_router)
    api.include_router(demo_router.router)
    api.include_router(webapp.config_router(settings))

    @api.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @api.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        ctx: AppContext | None = getattr(request.app.state, "ctx", None)
        if ctx is None:
            return error_response(503, "unavailable", "Starting up.")
        if ctx.db.is_down:
            return error_response(503, "database_unavailable", "The database is unreachable.")
        try:
            # A load balancer needs an answer, not a hang: a database slower than this is not ready.
            current = await asyncio.wait_for(_migrations_current(ctx), READY_TIMEOUT_SECONDS)
        except TimeoutError:
            return error_response(503, "unavailable", "The database did not answer in time.")
        except Exception as exc:
            return error_response(
                503, "database_unavailable", f"Database unreachable: {exc.__class__.__name__}"
            )
        if not current:
            return error_response(503, "unavailable", "Migrations are not applied.")
        return JSONResponse({"status": "ready"})

    if not settings.metrics_port:
        # Request counts, latencies and internals are for operators: admins only on the public port.
        @api.get("/metrics", include_in_schema=False)
        async def prometheus(_: Admin) -> PlainTextResponse:
            return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    asgi: Any = BodyGate(api, lambda: holder.get("ctx"))
    asgi = webapp.WebApp(asgi)  # the built web app at `/`, in front of the API for GET/HEAD only
    asgi = RequestContextMiddleware(asgi, metrics)
    wrapped = socketio.ASGIApp(sio, other_asgi_app=asgi, socketio_path="socket.io")
    wrapped.fastapi = api  # type: ignore[attr-defined]  # tests and the CLI reach app.state through it
    return wrapped
