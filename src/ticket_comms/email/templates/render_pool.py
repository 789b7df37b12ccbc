"""Admin-edited templates render in worker processes whose memory and CPU the operating system caps.

The sandbox (sandbox.py) refuses the ways to build huge values that are known, and output is counted
as it streams, but every new trick (`'%(a)999999999s'`, nested `'{:{}}'` widths, `str.join` with a
big separator, `batch(N, fill)`, ...) used to be one more patch. Here the operating system is the
last word, whatever the trick:

- each worker sets `RLIMIT_AS` to what it uses after start-up plus `MEMORY_HEADROOM_BYTES`, so a
  render that allocates too much gets a `MemoryError` (a 422, reason "memory") and the worker is
  replaced; the serve process never grows;
- before each render the worker moves its soft `RLIMIT_CPU` to its CPU time so far plus
  `CPU_SECONDS_PER_RENDER`: a C-level operation that the watchdog cannot interrupt (comparing two
  huge self-similar structures) gets SIGXCPU and dies; the caller gets a 422 (reason "timeout") and
  a fresh worker takes its place. The caller also gives up after `WALL_SECONDS` and kills the worker.

Workers are started once (`python -c`, lazily, `WORKERS` of them) and reused: each keeps the compile cache
of rendering.py, so an edited template is compiled once per version per worker. Only templates that
differ from what ships with the service come here (rendering.py decides): built-in templates render
in-process, so sending email does not pay a process crossing per message.

Calls are blocking and thread-safe (`render` runs in a thread): each app has its own pool, built with
its TemplateRenderer (rendering.py) and closed with the app.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import resource
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from ticket_comms.email.templates.errors import TemplateInvalid, TemplateRenderFailed

if TYPE_CHECKING:
    from ticket_comms.email.templates.rendering import Template

log = logging.getLogger(__name__)

WORKERS = 2
MEMORY_HEADROOM_BYTES = 256 * 1024 * 1024
CPU_SECONDS_PER_RENDER = 4
# The watchdog inside the worker answers after RENDER_TIMEOUT_SECONDS; this is for a worker that cannot.
WALL_SECONDS = 8.0
START_SECONDS = 60.0


# ---------------------------------------------------------------------------------------------
# The worker process


def _address_space() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def _limit_cpu(seconds: int) -> None:
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime) + seconds
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


_CHILD = "from ticket_comms.email.templates.render_pool import worker_main; worker_main"


def worker_main(fd: int, headroom: int) -> None:
    from ticket_comms.email.templates import rendering

    conn = Connection(fd)

    # Warm up before the limit: the first render starts the watchdog thread and loads what rendering
    # needs, so the limit measures what a render itself allocates.
    rendering.warm_up()
    limit = _address_space() + headroom
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    conn.send(("ready", limit))
    while True:
        try:
            template, layout, variables = conn.recv()
        except EOFError:
            return
        _limit_cpu(CPU_SECONDS_PER_RENDER)
        recycle = False
        try:
            result = rendering.render_in_worker(template, layout, variables)
            reply: tuple[Any, ...] = ("ok", result.subject, result.html, result.text)
        except TemplateRenderFailed as exc:
            recycle = (exc.details or {}).get("reason") == "memory"
            reply = ("failed", exc.message, exc.details)
        except TemplateInvalid as exc:
            reply = ("invalid", exc.message, exc.details)
        except MemoryError:
            recycle = True
            reply = (
                "failed",
                "The template needed more memory than templates may use.",
                {"reason": "memory"},
            )
        try:
            conn.send(reply)
        except MemoryError:
            return
        if recycle:
            # What a MemoryError left behind (fragments, half-built caches) is not worth keeping.
            return


# ---------------------------------------------------------------------------------------------
# The caller's side


class _WorkerGone(Exception):
    pass


class _Worker:
    def __init__(self) -> None:
        # A plain child process given one end of a socket pair (multiprocessing's own spawn would
        # re-import the parent's __main__, which is whatever script started the process).
        mine, theirs = socket.socketpair()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module, no input
            [sys.executable, "-c", f"{_CHILD}({theirs.fileno()}, {MEMORY_HEADROOM_BYTES})"],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.conn = Connection(mine.detach())
        if not self.conn.poll(START_SECONDS):
            self.kill()
            raise RuntimeError("the template render worker did not start")
        self.conn.recv()

    def call(self, payload: tuple[Any, ...]) -> tuple[Any, ...]:
        try:
            self.conn.send(payload)
            if not self.conn.poll(WALL_SECONDS):
                raise _WorkerGone("timeout")
            reply: tuple[Any, ...] = self.conn.recv()
            return reply
        except (EOFError, OSError) as exc:
            raise _WorkerGone(str(exc) or exc.__class__.__name__) from None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.wait(5)
        with contextlib.suppress(Exception):
            self.conn.close()


class RenderPool:
    def __init__(self, size: int):
        self._size = size
        self._idle: queue.SimpleQueue[_Worker | None] = queue.SimpleQueue()
        for _ in range(size):
            self._idle.put(None)  # a slot; its worker starts on first use

    def render(
        self, template: Template, layout: Template | None, variables: dict[str, Any]
    ) -> tuple[str, str, str]:
        worker = self._idle.get()
        try:
            if worker is None or not worker.alive:
                if worker is not None:
                    worker.kill()
                worker = _Worker()
            try:
                reply = worker.call((template, layout, variables))
            except _WorkerGone as exc:
                log.warning(
                    "a template render worker died or hung: %s",
                    exc,
                    extra={"fields": {"template": template.name}},
                )
                worker.kill()
                worker = None
                raise TemplateRenderFailed(
                    f"Rendering {template.name} used more CPU time or memory than templates may use.",
                    details={"template": template.name, "reason": "timeout"},
                ) from None
            if reply[0] == "failed" and (reply[2] or {}).get("reason") == "memory":
                # The worker exits after a MemoryError (it said so); do not hand it the next render.
                worker.kill()
                worker = None
        finally:
            self._idle.put(worker)
        return _result(template, reply)

    def close(self) -> None:
        """Stop the workers (tests, and the end of the process)."""
        workers = []
        for _ in range(self._size):
            workers.append(self._idle.get())
        for worker in workers:
            if worker is not None:
                worker.kill()
            self._idle.put(None)


def _result(template: Template, reply: tuple[Any, ...]) -> tuple[str, str, str]:
    kind = reply[0]
    if kind == "ok":
        return reply[1], reply[2], reply[3]
    details = reply[2] if isinstance(reply[2], dict) else {}
    if kind == "invalid":
        raise TemplateInvalid(reply[1], details=reply[2])
    details = {"template": template.name, **details}
    raise TemplateRenderFailed(reply[1], details=details)


class TemplateRenderer:
    """One app's rendering resources, built by the app factory and closed with it: the threads that
    render shipped templates off the event loop (two match the cores), and the capped worker processes
    for edited ones (started on first use) with the threads that wait on them."""

    def __init__(self) -> None:
        self.threads = ThreadPoolExecutor(max_workers=2, thread_name_prefix="template-render")
        self.pool = RenderPool(WORKERS)
        self.pool_threads = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="template-pool")

    def close(self) -> None:
        self.threads.shutdown(wait=False, cancel_futures=True)
        self.pool_threads.shutdown(wait=False, cancel_futures=True)
        self.pool.close()
