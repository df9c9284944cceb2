"""Background work for screens, after Anki's ``QueryOp``: never block the GUI thread.

``run_in_background(parent, fn, on_success, on_failure)`` runs ``fn()`` on a QThreadPool and calls
``on_success(result)`` or ``on_failure(exc)`` later *on the GUI thread*. Every op is in a registry, so the
app can wait for (join) all of them at shutdown. With ``busy=`` a BusyOverlay counts the op as work; the
overlay itself shows only when the wait passes one second. When the parent widget is destroyed first, the
callbacks are dropped instead of touching a dead screen.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal, Slot

from ui.widgets.busy import BusyOverlay

T = TypeVar("T")
log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives on the GUI thread; the worker emits, the queued slot runs on the GUI thread."""

    finished = Signal(bool, object)

    def __init__(self, op: BackgroundOp[Any]) -> None:
        super().__init__()
        self._op = op
        self.finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @Slot(bool, object)
    def _deliver(self, ok: bool, payload: object) -> None:
        self._op._deliver(ok, payload)


class _Runner(QRunnable):
    def __init__(self, op: BackgroundOp[Any]) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._op = op

    def run(self) -> None:
        op = self._op
        try:
            value = op._fn()
        except BaseException as exc:  # any failure becomes a value for on_failure
            op._relay.finished.emit(False, exc)
        else:
            op._relay.finished.emit(True, value)
        finally:
            op._work_done.set()


class BackgroundOp(Generic[T]):
    """Handle on one running op. ``cancel()`` drops its callbacks (the work itself runs to its end)."""

    def __init__(
        self,
        registry: OpRegistry,
        parent: QObject | None,
        fn: Callable[[], T],
        on_success: Callable[[T], None],
        on_failure: Callable[[BaseException], None] | None,
        busy: BusyOverlay | None,
        label: str,
    ) -> None:
        self.label = label or getattr(fn, "__name__", "op")
        self._registry = registry
        self._fn = fn
        self._on_success = on_success
        self._on_failure = on_failure
        self._busy = busy
        self._cancelled = False
        self._parent_alive = True
        self._delivered = threading.Event()
        self._work_done = threading.Event()
        self._relay = _Relay(self)
        self._parent = parent
        if parent is not None:
            parent.destroyed.connect(self._parent_gone)

    def cancel(self) -> None:
        self._cancelled = True

    def done(self) -> bool:
        """The result has been delivered (or dropped) on the GUI thread."""
        return self._delivered.is_set()

    def work_finished(self) -> bool:
        """The function itself has returned (delivery may still be queued)."""
        return self._work_done.is_set()

    def _parent_gone(self, *_: object) -> None:
        self._parent_alive = False
        self._parent = None

    def _deliver(self, ok: bool, payload: object) -> None:
        if self._busy is not None:
            with contextlib.suppress(RuntimeError):  # the overlay's widget was already deleted
                self._busy.end()
        try:
            if self._cancelled or not self._parent_alive or self._registry.closing:
                return
            if ok:
                self._on_success(payload)  # type: ignore[arg-type]
            elif self._on_failure is not None:
                assert isinstance(payload, BaseException)
                self._on_failure(payload)
            else:
                log.error("background op %s failed", self.label, exc_info=payload)  # type: ignore[arg-type]
        finally:
            self._delivered.set()
            self._registry._forget(self)
            if self._parent is not None:
                with contextlib.suppress(RuntimeError, TypeError):  # already gone or never connected
                    self._parent.destroyed.disconnect(self._parent_gone)
                self._parent = None


class OpRegistry:
    """The pool and the list of ops in flight; :meth:`shutdown` joins them."""

    def __init__(self, max_threads: int = 4) -> None:
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max_threads)
        self._running: set[BackgroundOp[Any]] = set()
        self._lock = threading.Lock()
        self.closing = False

    def start(self, op: BackgroundOp[Any]) -> None:
        with self._lock:
            self._running.add(op)
        if op._busy is not None:
            op._busy.begin()
        self.pool.start(_Runner(op))

    def running(self) -> list[BackgroundOp[Any]]:
        with self._lock:
            return list(self._running)

    def _forget(self, op: BackgroundOp[Any]) -> None:
        with self._lock:
            self._running.discard(op)

    def wait_for_done(self, timeout_ms: int = -1) -> bool:
        """Join the worker threads' current work; True when every op's function has returned."""
        return bool(self.pool.waitForDone(timeout_ms))

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """At exit: no more callbacks, wait for the work in flight. False if something is still running."""
        self.closing = True
        finished = self.wait_for_done(timeout_ms)
        if not finished:
            log.warning("shutdown: %d background op(s) still running", len(self.running()))
        return finished


_default_registry: OpRegistry | None = None


def default_registry() -> OpRegistry:
    global _default_registry
    if _default_registry is None:
        _default_registry = OpRegistry()
    return _default_registry


def run_in_background(
    parent: QObject | None,
    fn: Callable[[], T],
    on_success: Callable[[T], None],
    on_failure: Callable[[BaseException], None] | None = None,
    *,
    busy: BusyOverlay | None = None,
    label: str = "",
    registry: OpRegistry | None = None,
) -> BackgroundOp[T]:
    """Run ``fn`` off the GUI thread; call exactly one of the callbacks later on the GUI thread."""
    target = registry or default_registry()
    op: BackgroundOp[T] = BackgroundOp(target, parent, fn, on_success, on_failure, busy, label)
    target.start(op)
    return op
