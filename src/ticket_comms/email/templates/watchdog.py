"""The render watchdog: interrupts in-process template renders that run past their deadline."""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from ticket_comms.email.templates.errors import RenderTimeout


class Watchdog:
    """Interrupts renders that run past their deadline by raising `RenderTimeout` in their thread.

    One daemon thread for the whole process, waking every 50 ms only while renders are running,
    instead of a timer per render.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._deadlines: dict[int, float] = {}
        self._interrupted: set[int] = set()
        self._thread: threading.Thread | None = None

    @contextmanager
    def watch(self, seconds: float) -> Iterator[None]:
        ident = threading.get_ident()
        with self._lock:
            self._deadlines[ident] = time.monotonic() + seconds
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="template-watchdog", daemon=True)
                self._thread.start()
        self._wake.set()
        try:
            yield
        finally:
            with self._lock:
                self._deadlines.pop(ident, None)
                if ident in self._interrupted:
                    # Interrupted just as the render finished: drop the pending exception so it cannot
                    # surface later in the pool's own code (it is raised here, inside the caller's try,
                    # or not at all).
                    self._interrupted.discard(ident)
                    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), None)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(0.05)
            now = time.monotonic()
            with self._lock:
                for ident, deadline in list(self._deadlines.items()):
                    if deadline <= now:
                        # Under the lock, so the thread is still inside `watch` and catches it there.
                        del self._deadlines[ident]
                        self._interrupted.add(ident)
                        ctypes.pythonapi.PyThreadState_SetAsyncExc(
                            ctypes.c_ulong(ident), ctypes.py_object(RenderTimeout)
                        )
                if not self._deadlines:
                    self._wake.clear()
