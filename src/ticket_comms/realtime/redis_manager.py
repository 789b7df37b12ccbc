"""python-socketio's Redis manager with our membership-by-user operation and Redis-outage handling
(realtime/manager.py says what the managers do). Imported only when REDIS_URL is set."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from ticket_comms.realtime.manager import FastEmit, RoomIndex, apply

log = logging.getLogger(__name__)

MEMBERSHIP = "ticket-comms:membership"
# A membership change that could not be published (Redis down) is retried this long, then dropped:
# by then every socket of the process has reconnected to a Redis-less process or the change is moot.
MEMBERSHIP_RETRY_SECONDS = 60.0
# Redis down: how long emits skip publishing after a failure, the longest pause between attempts to
# resubscribe, and how long connecting may take.
PUBLISH_PAUSE_SECONDS = 1.0
LISTEN_RETRY_MAX_SECONDS = 2.0
REDIS_CONNECT_TIMEOUT_SECONDS = 3.0


class RedisManager(RoomIndex, FastEmit, socketio.AsyncRedisManager):
    def __init__(self, url: str, **kwargs: Any):
        # Without a connect timeout, a Redis host that stops answering holds every emit for minutes.
        kwargs.setdefault("redis_options", {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT_SECONDS})
        super().__init__(url, **kwargs)
        self._retries: set[asyncio.Task[None]] = set()
        self._publish_paused_until = 0.0
        self._dropped = 0
        # Called after the subscription comes back from an outage (realtime/resync.py).
        self.on_resubscribe: Callable[[], Awaitable[None]] | None = None

    # -- Redis down (tests/robustness/test_redis_outage.py) ---------------------------------------
    # Emits reach this process's sockets first (python-socketio handles them here, then publishes),
    # so a process keeps serving its own sockets. What other processes miss, clients get back with
    # `sync`; membership changes are retried (`_publish_later`) so none is lost.

    async def _publish(self, data: Any) -> None:
        """python-socketio's publish (two attempts), but after a failure emits skip Redis for
        PUBLISH_PAUSE_SECONDS instead of each paying two connection attempts and two error lines."""
        loop = asyncio.get_running_loop()
        if loop.time() < self._publish_paused_until:
            self._dropped += 1
            return
        for _ in range(2):
            try:
                if not self.connected:  # type: ignore[has-type]
                    self._redis_connect()
                await self.redis.publish(self.channel, self.json.dumps(data))
                if self._dropped:
                    log.warning("Redis is back: %d emits did not reach the other processes", self._dropped)
                    self._dropped = 0
                return
            except Exception as exc:
                self.connected = False
                error = exc
        if not self._dropped:
            log.error("cannot publish to Redis, other processes miss emits until it is back: %s", error)
        self._dropped += 1
        self._publish_paused_until = loop.time() + PUBLISH_PAUSE_SECONDS

    async def _resubscribed(self) -> None:
        if self.on_resubscribe is not None:
            try:
                await self.on_resubscribe()
            except Exception:
                log.exception("could not recompute rooms after Redis came back")

    async def _redis_listen_with_retries(self):  # type: ignore[no-untyped-def]
        """python-socketio's listener, but the pause between resubscriptions is capped at
        LISTEN_RETRY_MAX_SECONDS (it doubles up to 60 s, so fan-out across processes stayed off for
        up to a minute after Redis was back), and an outage is logged once, not once per attempt."""
        retry_sleep = 0.25
        failures = 0
        while True:
            try:
                self._redis_connect()
                await self.pubsub.subscribe(self.channel)
                if failures:
                    log.warning("resubscribed to Redis after %d failed attempts", failures)
                    task = asyncio.create_task(self._resubscribed())
                    self._retries.add(task)
                    task.add_done_callback(self._retries.discard)
                failures = 0
                retry_sleep = 0.25
                async for message in self.pubsub.listen():
                    yield message
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not failures:
                    log.error("lost the Redis subscription, retrying: %s", exc)
                failures += 1
                await asyncio.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, LISTEN_RETRY_MAX_SECONDS)

    async def _handle_emit(self, message: dict[str, Any]) -> None:
        remote_callback = message.get("callback")
        if remote_callback is None and not message.get("binary"):
            data = message["data"]
            if isinstance(data, list):
                data = data[0] if len(data) == 1 else tuple(data)
            namespace = message.get("namespace") or "/"
            if await self._local_emit(
                message["event"], data, namespace, message.get("room"), message.get("skip_sid"), None
            ):
                return
        await super()._handle_emit(message)

    async def apply_membership(self, op: str, room: str, user_room: str) -> None:
        """Apply the change here at once, then tell the other processes."""
        await apply(self, op, room, user_room)
        message = {
            "method": MEMBERSHIP,
            "op": op,
            "room": room,
            "userRoom": user_room,
            "host_id": self.host_id,
        }
        if not await self._try_publish(message):
            task = asyncio.create_task(self._publish_later(message))
            self._retries.add(task)
            task.add_done_callback(self._retries.discard)

    async def _try_publish(self, message: dict[str, Any]) -> bool:
        try:
            if not self.connected:  # type: ignore[has-type]
                self._redis_connect()
            await self.redis.publish(self.channel, self.json.dumps(message))
            return True
        except Exception as exc:
            log.warning("could not publish a membership change: %s", exc)
            self.connected = False
            return False

    async def _publish_later(self, message: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MEMBERSHIP_RETRY_SECONDS
        while loop.time() < deadline:
            await asyncio.sleep(0.5)
            if await self._try_publish(message):
                return
        log.error(
            "dropped a membership change after %.0f s without Redis: %s", MEMBERSHIP_RETRY_SECONDS, message
        )

    async def _listen(self):  # type: ignore[no-untyped-def]
        # Membership changes are handled here, in channel order, and never reach the stock dispatcher
        # (which ignores methods it does not know). Everything else is passed on already decoded.
        async for raw in super()._listen():
            try:
                data = self.json.loads(raw)
            except ValueError:
                continue
            if isinstance(data, dict) and data.get("method") == MEMBERSHIP:
                if data.get("host_id") != self.host_id:
                    try:
                        await apply(self, data["op"], data["room"], data["userRoom"])
                    except Exception:
                        log.exception("could not apply a membership change")
                continue
            yield data

    async def close(self) -> None:
        """Stop listening and close the Redis connection (the app's shutdown)."""
        for task in list(self._retries):
            task.cancel()
        thread = getattr(self, "thread", None)
        if thread is not None:
            thread.cancel()
            try:
                await thread
            except (asyncio.CancelledError, Exception):  # noqa: S110 - shutting down
                pass
        if self.redis is not None:
            await self.redis.aclose()
