"""Per-user rate limits and quotas (the `limits` library), shared by HTTP and socket callers.

Each action has one or more windows ("30 per 10 seconds; 120 per minute", settings RATE_LIMIT_*).
Counts live in Redis when REDIS_URL is set, so they hold across every `serve` process, and in memory
otherwise. The sliding-window-counter strategy keeps two counters per window, so a quota counted in
bytes costs the same as one counted in requests.

The defaults leave a real user's bursts alone (pasting ten images, a quick exchange of messages) and
stop scripts. When the counter store is unreachable the limits are skipped, with a warning: a Redis
outage must not take chat down with it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from typing import Any

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from ticket_comms.config import Settings
from ticket_comms.errors import RateLimited

log = logging.getLogger(__name__)

# Action name -> the Settings field that holds its windows.
ACTIONS = {
    "message_send": "rate_limit_message_send",
    "message_edit": "rate_limit_message_edit",
    "reaction": "rate_limit_reaction",
    "upload": "rate_limit_upload",
    "upload_bytes": "rate_limit_upload_bytes",
    "search": "rate_limit_search",
    "event": "rate_limit_event",
    "push_subscription_change": "rate_limit_push_subscription_change",
}
_WARN_EVERY_SECONDS = 30.0
# After the store failed, requests skip it for this long instead of each waiting on its timeout.
_SKIP_AFTER_FAILURE_SECONDS = 5.0
# How often the in-memory store sweeps out expired counters (see `SweptMemoryStorage`).
SWEEP_SECONDS = 10.0


class SweptMemoryStorage(MemoryStorage):
    """limits' in-memory counter store, with its expiry sweep run at most every SWEEP_SECONDS.

    Upstream (limits 5.8.0) starts a pass over every counter key after each counter change, as soon
    as the previous pass ended: with 8,000 connected users each pass walked ~16,000 keys, and the
    passes took over half the server's CPU at 300 messages/s (py-spy, bench/realtime_fanout.py).
    Reads already drop an expired counter (`MemoryStorage.get`), so the sweep only returns the memory
    of counters nobody reads again: once every few seconds is plenty. This overrides upstream's
    private `__schedule_expiry`; tests/robustness/test_rate_limits.py fails if that name goes away.
    """

    def __init__(self) -> None:
        self._next_sweep = 0.0
        super().__init__()

    async def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + SWEEP_SECONDS
        await super()._MemoryStorage__schedule_expiry()  # type: ignore[misc]


class RateLimits:
    def __init__(self, settings: Settings):
        self.enabled = settings.rate_limits_enabled
        storage: Storage
        if settings.redis_url:
            # redis-py (already a dependency for Socket.IO fan-out), not limits' default coredis.
            storage = RedisStorage(
                "async+" + settings.redis_url,
                implementation="redispy",
                key_prefix="ticket-comms-limits",
                socket_timeout=0.5,
                socket_connect_timeout=0.5,
            )
        else:
            storage = SweptMemoryStorage()
        self.storage = storage
        self.limiter = SlidingWindowCounterRateLimiter(storage)
        self.rules: dict[str, list[RateLimitItem]] = {
            action: parse_many(getattr(settings, field)) for action, field in ACTIONS.items()
        }
        self._last_warning = 0.0
        self._skip_until = 0.0

    async def hit(self, action: str, key: str, cost: int = 1) -> None:
        """Count `cost` against `key`'s `action` windows, or raise RateLimited.

        Each window's hit is one atomic check-and-count in the store (a Redis round trip with REDIS_URL),
        and the first window that refuses stops there: a refused request is counted in the windows
        before it, never in its own or the ones after. Testing every window first and then counting
        (so a refusal counted nothing) took twice the store calls on every message sent, for nothing a
        user notices: a refusal means a window is already full."""
        if not self.enabled or cost <= 0 or time.monotonic() < self._skip_until:
            return
        try:
            for rule in self.rules[action]:
                if not await self.limiter.hit(rule, action, key, cost=cost):
                    raise await self._refusal(rule, action, key)
        except RateLimited:
            raise
        except Exception:
            self._warn_unavailable()

    async def remaining(self, action: str, key: str) -> int | None:
        """The least room left in `action`'s windows for `key` (None when unknown or unlimited)."""
        if not self.enabled or time.monotonic() < self._skip_until:
            return None
        try:
            stats = [await self.limiter.get_window_stats(rule, action, key) for rule in self.rules[action]]
        except Exception:
            self._warn_unavailable()
            return None
        return min((s.remaining for s in stats), default=None)

    async def _refusal(self, rule: RateLimitItem, action: str, key: str) -> RateLimited:
        stats = await self.limiter.get_window_stats(rule, action, key)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        return refusal(action, str(rule), retry_after)

    def _warn_unavailable(self) -> None:
        now = time.monotonic()
        self._skip_until = now + _SKIP_AFTER_FAILURE_SECONDS
        if now - self._last_warning > _WARN_EVERY_SECONDS:
            self._last_warning = now
            log.warning("rate limit store unreachable: limits are not applied", exc_info=True)


def refusal(action: str, limit: str, retry_after: int) -> RateLimited:
    """The contract's 429: `details.retryAfter` (seconds) is also sent as the Retry-After header."""
    return RateLimited(
        "Too many requests; try again later.",
        details={"action": action, "limit": limit, "retryAfter": retry_after},
    )


def retry_after_of(details: Any) -> int | None:
    if isinstance(details, dict) and isinstance(details.get("retryAfter"), int):
        return details["retryAfter"]
    return None


def describe(rules: Sequence[RateLimitItem]) -> str:
    return "; ".join(str(r) for r in rules)


async def hit(ctx: Any, action: str, key: str, cost: int = 1) -> None:
    """Count one `action` by `key` (a user id) against ctx's limits; raise RateLimited when over.

    The one call every entry point uses, HTTP or socket: an AppError, so a socket handler's error ack
    carries `{"code": "rate_limited", "details": {"retryAfter": seconds, ...}}` as HTTP's body does.
    """
    limits: RateLimits | None = getattr(ctx, "limits", None)
    if limits is not None:
        await limits.hit(action, key, cost)
