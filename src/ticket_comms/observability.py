"""Structured JSON logs carrying a request id; Prometheus metrics for HTTP requests, event-loop
stalls and garbage-collection pauses."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import logging
import sys
import time
import uuid
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["requestId"] = request_id
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "socketio", "engineio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.error").handlers[:] = []
    logging.getLogger("uvicorn").handlers[:] = []


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests_total", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        pauses = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
        self.loop_lag = Histogram(
            "event_loop_lag_seconds",
            "How late the event loop ran a timer (sampled every 50 ms): every socket and request waits this long",
            registry=self.registry,
            buckets=pauses,
        )
        self.gc_pause = Histogram(
            "gc_pause_seconds",
            "Garbage-collection pauses, by generation",
            ["generation"],
            registry=self.registry,
            buckets=pauses,
        )
        self.tasks = Gauge(
            "asyncio_tasks",
            "Tasks alive in the event loop (sampled every 5 s): about two per open socket; a climb with a "
            "steady number of sockets is a leak",
            registry=self.registry,
        )
        # Web Push outcomes (push/sender.py): each push to one subscription counts once when it ends;
        # retried counts every attempt that will be tried again (429, 5xx, no answer).
        self.push_sent = Counter(
            "push_sent_total", "Pushes accepted by a push service", registry=self.registry
        )
        self.push_failed = Counter(
            "push_failed_total",
            "Pushes that failed for good (refused, or retries exhausted)",
            registry=self.registry,
        )
        self.push_expired = Counter(
            "push_expired_total",
            "Pushes answered 404/410: the subscription was gone and has been removed",
            registry=self.registry,
        )
        self.push_retried = Counter(
            "push_retried_total",
            "Push attempts deferred for a retry (429, 5xx, timeout)",
            registry=self.registry,
        )


class RuntimeWatch:
    """Measures what stalls every connection at once: the event loop running late, and garbage
    collections (which stop it). Long ones are also logged, with their duration. Also counts the
    loop's tasks (`asyncio_tasks`), which the soak (bench/soak.py) watches for leaks."""

    SAMPLE_SECONDS = 0.05
    LOG_ABOVE_SECONDS = 0.1
    TASKS_EVERY = 100  # samples: the task count every 5 s

    def __init__(self, metrics: Metrics):
        self.metrics = metrics
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.create_task(self._sample_lag(), name="event-loop-lag")

    async def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        paused = time.perf_counter() - self._gc_started
        self.metrics.gc_pause.labels(str(info["generation"])).observe(paused)
        if paused > self.LOG_ABOVE_SECONDS:
            log.warning(
                "garbage collection paused the process",
                extra={"fields": {"generation": info["generation"], "ms": round(paused * 1000, 1)}},
            )

    async def _sample_lag(self) -> None:
        loop = asyncio.get_running_loop()
        samples = 0
        while True:
            if samples % self.TASKS_EVERY == 0:
                # Counting walks every task (a few ms with 20,000): not at every sample.
                self.metrics.tasks.set(len(asyncio.all_tasks(loop)))
            samples += 1
            started = loop.time()
            await asyncio.sleep(self.SAMPLE_SECONDS)
            lag = max(0.0, loop.time() - started - self.SAMPLE_SECONDS)
            self.metrics.loop_lag.observe(lag)
            if lag > self.LOG_ABOVE_SECONDS:
                log.warning("the event loop stalled", extra={"fields": {"ms": round(lag * 1000, 1)}})


log = logging.getLogger(__name__)
access_log = logging.getLogger("ticket_comms.access")


class RequestContextMiddleware:
    """Pure ASGI (cheaper than BaseHTTPMiddleware on the hot path): request id, access log, metrics."""

    def __init__(self, app: Any, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next((v for k, v in scope["headers"] if k == b"x-request-id"), None)
        request_id = incoming.decode("latin-1")[:100] if incoming else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            path = getattr(route, "path", None) or (
                "/socket.io" if scope["path"].startswith("/socket.io") else "other"
            )
            self.metrics.requests.labels(scope["method"], path, str(status)).inc()
            self.metrics.latency.labels(scope["method"], path).observe(elapsed)
            if status >= 500 or access_log.isEnabledFor(logging.DEBUG):
                access_log.log(
                    logging.ERROR if status >= 500 else logging.DEBUG,
                    "request",
                    extra={
                        "fields": {
                            "method": scope["method"],
                            "path": scope["path"],
                            "status": status,
                            "ms": round(elapsed * 1000, 2),
                        }
                    },
                )
            request_id_var.reset(token)
