"""`ticket-comms serve | worker | push-worker | migrate | seed | token`."""

from __future__ import annotations

import argparse
import logging
import sys

from ticket_comms.config import Settings, UnsafeSecrets, check_secrets
from ticket_comms.observability import configure_logging

log = logging.getLogger("ticket_comms")


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from ticket_comms.app import create_app
    from ticket_comms.realtime.websocket import websocket_options

    host = args.host or settings.host
    port = args.port or settings.port
    settings = settings.model_copy(update={"host": host, "port": port})
    if args.no_migrate:
        settings = settings.model_copy(update={"migrate_on_start": False})
    app = create_app(settings)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        loop="uvloop",
        http="httptools",
        timeout_graceful_shutdown=5,
        **websocket_options(settings.socketio_compression_threshold),
    )
    return 0


def _migrate(_: argparse.Namespace, settings: Settings) -> int:
    from ticket_comms import migrations
    from ticket_comms.database import release_embedded_postgres, resolve_database_url

    try:
        migrations.upgrade(resolve_database_url(settings))
    finally:
        release_embedded_postgres()
    print("migrations applied")
    return 0


def _token(args: argparse.Namespace, settings: Settings) -> int:
    from ticket_comms.auth.tokens import mint

    print(
        mint(
            settings,
            args.user_id,
            role=args.role,
            email=args.email,
            name=args.name,
            ttl_seconds=args.ttl_hours * 3600,
        )
    )
    return 0


def _seed(_: argparse.Namespace, settings: Settings) -> int:
    import asyncio

    from ticket_comms.demo import seed

    return asyncio.run(seed.run(settings))


def _worker(_: argparse.Namespace, settings: Settings) -> int:
    from ticket_comms import background

    return background.run(settings)


def _push_worker(_: argparse.Namespace, settings: Settings) -> int:
    from ticket_comms.push import worker

    return worker.run(settings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ticket-comms", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="HTTP + Socket.IO + the in-process email worker")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-migrate", action="store_true", help="do not apply migrations on start")
    serve.set_defaults(func=_serve)
    sub.add_parser("worker", help="the email and push workers alone").set_defaults(func=_worker)
    sub.add_parser("push-worker", help="the Web Push worker alone (without email)").set_defaults(
        func=_push_worker
    )
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_migrate)
    sub.add_parser(
        "seed", help="add the demo users and tickets (once; `serve` does it on an empty development database)"
    ).set_defaults(func=_seed)
    token = sub.add_parser("token", help="mint a development token signed with JWT_SECRET")
    token.add_argument("user_id")
    token.add_argument("--role", choices=["admin", "service"])
    token.add_argument("--email")
    token.add_argument("--name")
    token.add_argument("--ttl-hours", type=int, default=24)
    token.set_defaults(func=_token)
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command != "token":
        configure_logging(settings.log_level)
    if args.command in ("serve", "worker"):
        # Both sign links (attachments, unsubscribe); both refuse to run with secrets unfit for the internet.
        try:
            check_secrets(settings)
        except UnsafeSecrets as exc:
            print(f"ticket-comms: {exc}", file=sys.stderr)
            return 2
    return int(args.func(args, settings))


if __name__ == "__main__":
    sys.exit(main())
