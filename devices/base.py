"""The device model shared by every device class (after CEN/XFS and XFS4IoT, simplified).

Every driver reports a common :class:`DeviceState` plus class-specific detail, publishes
:class:`DeviceEvent` values to subscribers, and runs each command on its own single I/O thread.
A command returns an :class:`Operation` at once (the caller never blocks); the operation ends with a
:class:`Result` whose :class:`Completion` is a value a journey can show, never a traceback.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class DeviceState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    POWER_OFF = "power_off"
    NO_DEVICE = "no_device"
    HARDWARE_ERROR = "hardware_error"
    USER_ERROR = "user_error"
    BUSY = "busy"
    FRAUD_ATTEMPT = "fraud_attempt"


class Completion(StrEnum):
    SUCCESS = "success"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    HARDWARE_ERROR = "hardware_error"
    USER_ERROR = "user_error"
    UNSUPPORTED = "unsupported"
    INVALID_DATA = "invalid_data"
    NO_MEDIA = "no_media"
    MEDIA_JAMMED = "media_jammed"
    BIN_FULL = "bin_full"
    STOCK_EMPTY = "stock_empty"
    PAPER_OUT = "paper_out"
    OFFLINE = "offline"


@dataclass(frozen=True)
class Result(Generic[T]):
    """How a command ended. ``value`` is set on success (and sometimes alongside an error)."""

    code: Completion
    value: T | None = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.code is Completion.SUCCESS

    @classmethod
    def success(cls, value: T | None = None, detail: str = "") -> Result[T]:
        return cls(Completion.SUCCESS, value, detail)

    @classmethod
    def fail(cls, code: Completion, detail: str = "") -> Result[T]:
        return cls(code, None, detail)


@dataclass(frozen=True)
class DeviceEvent:
    """Something the device reported on its own (card inserted, key pressed, paper low, ...)."""

    device: str
    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class DeviceStatus:
    device: str
    state: DeviceState
    detail: Mapping[str, Any] = field(default_factory=dict)
    last_error: str | None = None


@dataclass(frozen=True)
class DeviceInfo:
    """Identity and capabilities, for the maintenance dashboard."""

    device: str
    model: str
    url: str
    firmware: str = ""
    capabilities: Mapping[str, Any] = field(default_factory=dict)


class CancelToken:
    """Set by the caller (e.g. the customer pressed Cancel); polled by the running command."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds; True if cancelled meanwhile."""
        return self._event.wait(timeout)


class Operation(Generic[T]):
    """A command in flight. ``cancel()`` asks it to stop; ``result()`` waits for its :class:`Result`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.token = CancelToken()
        self._future: Future[Result[T]] = Future()

    def cancel(self) -> None:
        self.token.cancel()

    def done(self) -> bool:
        return self._future.done()

    def result(self, timeout: float | None = None) -> Result[T]:
        try:
            return self._future.result(timeout)
        except FutureTimeout:
            return Result.fail(Completion.TIMEOUT, f"{self.name}: no result within {timeout}s")

    def add_done_callback(self, callback: Callable[[Result[T]], None]) -> None:
        self._future.add_done_callback(lambda fut: callback(fut.result()))

    def _finish(self, result: Result[T]) -> None:
        if not self._future.done():
            self._future.set_result(result)


EventCallback = Callable[[DeviceEvent], None]


class Device(Protocol):
    """What every device class offers, whatever it does: its life cycle, its status and its events.

    Each class's interface (``devices/<class>/interface.py``) extends this; the composition root starts
    and stops devices through it, the maintenance pages read their status through it."""

    def start(self) -> None: ...

    def request_stop(self) -> None:
        """Ask the I/O thread to stop without waiting (so several devices stop at once)."""
        ...

    def close(self, timeout: float = 5.0) -> None: ...

    def status(self) -> DeviceStatus: ...

    def subscribe(self, callback: EventCallback) -> Callable[[], None]: ...


class DeviceLinkError(Exception):
    """The link to the device broke (closed socket, unplugged cable, no reply)."""


class DriverBase:
    """One I/O thread per driver: commands are queued and run there, one at a time.

    Subclasses implement :meth:`_connect`, :meth:`_disconnect` and optionally :meth:`_idle`
    (called between commands, e.g. to poll the device for unsolicited state). A command raising
    :class:`DeviceLinkError` marks the device offline; the thread reconnects with back-off.
    """

    device_class = "device"
    reconnect_interval = 0.5

    def __init__(self, url: str, *, name: str | None = None) -> None:
        self.url = url
        self.name = name or self.device_class
        self._jobs: queue.Queue[tuple[Operation[Any], Callable[[CancelToken], Result[Any]]] | None] = (
            queue.Queue()
        )
        self._subscribers: list[EventCallback] = []
        self._sub_lock = threading.Lock()
        self._state = DeviceState.OFFLINE
        self._detail: dict[str, Any] = {}
        self._last_error: str | None = None
        self._status_lock = threading.Lock()
        self._stop = threading.Event()
        self._connected = False
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-io", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the I/O thread and join it (every thread we start is joined)."""
        self.request_stop()
        self.join(timeout)

    def request_stop(self) -> None:
        """Ask the I/O thread to finish (returns at once); :meth:`join` waits for it. Closing many
        drivers this way overlaps their shutdowns instead of adding them up."""
        self._stop.set()
        self._jobs.put(None)

    def join(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def __enter__(self) -> DriverBase:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- events ------------------------------------------------------------------------------
    def subscribe(self, callback: EventCallback) -> Callable[[], None]:
        with self._sub_lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._sub_lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _emit(self, kind: str, **data: Any) -> None:
        event = DeviceEvent(self.device_class, kind, data)
        with self._sub_lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:  # a faulty subscriber must not kill the I/O thread
                log.exception("event subscriber failed for %s", kind)

    # -- status ------------------------------------------------------------------------------
    def status(self) -> DeviceStatus:
        with self._status_lock:
            return DeviceStatus(self.device_class, self._state, dict(self._detail), self._last_error)

    def _set_state(self, state: DeviceState, *, error: str | None = None, **detail: Any) -> None:
        with self._status_lock:
            changed = state is not self._state
            self._state = state
            self._detail.update(detail)
            if error is not None:
                self._last_error = error
        if changed:
            self._emit("state_changed", state=str(state), error=error)

    # -- commands ----------------------------------------------------------------------------
    def submit(self, name: str, job: Callable[[CancelToken], Result[T]]) -> Operation[T]:
        """Queue ``job`` for the I/O thread; returns at once."""
        op: Operation[T] = Operation(name)
        if self._stop.is_set() or self._thread is None:
            op._finish(Result.fail(Completion.OFFLINE, f"{self.name} driver is not running"))
            return op
        self._jobs.put((op, job))
        return op

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._connected:
                self._try_connect()
                if not self._connected:
                    self._fail_queued_while_offline()
                    continue
            try:
                item = self._jobs.get(timeout=self._idle_interval())
            except queue.Empty:
                self._guard(self._idle)
                continue
            if item is None:
                break
            op, job = item
            if op.token.cancelled:
                op._finish(Result.fail(Completion.CANCELLED, "cancelled before it started"))
                continue
            op._finish(self._guard_job(op, job))
        self._drain(Completion.CANCELLED, "driver closed")
        if self._connected:
            self._safe_disconnect()

    def _idle_interval(self) -> float:
        return 0.2

    def _guard(self, fn: Callable[[], None]) -> None:
        try:
            fn()
        except DeviceLinkError as exc:
            self._lost(str(exc))
        except Exception as exc:  # never let the I/O thread die
            log.exception("%s idle work failed", self.name)
            self._lost(f"unexpected error: {exc}")

    def _guard_job(self, op: Operation[Any], job: Callable[[CancelToken], Result[Any]]) -> Result[Any]:
        try:
            return job(op.token)
        except DeviceLinkError as exc:
            self._lost(str(exc))
            return Result.fail(Completion.OFFLINE, str(exc))
        except Exception as exc:
            log.exception("%s command %s failed", self.name, op.name)
            self._lost(f"unexpected error: {exc}")
            return Result.fail(Completion.HARDWARE_ERROR, str(exc))

    def _try_connect(self) -> None:
        try:
            self._connect()
        except Exception as exc:
            self._set_state(DeviceState.OFFLINE, error=f"connect failed: {exc}")
            self._stop.wait(self.reconnect_interval)
            return
        self._connected = True
        self._on_connected()

    def _on_connected(self) -> None:
        self._set_state(DeviceState.ONLINE)

    def _lost(self, reason: str) -> None:
        log.warning("%s link lost: %s", self.name, reason)
        self._safe_disconnect()
        self._connected = False
        self._set_state(DeviceState.OFFLINE, error=reason)

    def _safe_disconnect(self) -> None:
        try:
            self._disconnect()
        except Exception:
            log.debug("%s disconnect failed", self.name, exc_info=True)

    def _fail_queued_while_offline(self) -> None:
        self._drain(Completion.OFFLINE, f"{self.name} is offline")

    def _drain(self, code: Completion, detail: str) -> None:
        while True:
            try:
                item = self._jobs.get_nowait()
            except queue.Empty:
                return
            if item is None:
                self._stop.set()
                continue
            item[0]._finish(Result.fail(code, detail))

    # -- to implement ------------------------------------------------------------------------
    def _connect(self) -> None:
        raise NotImplementedError

    def _disconnect(self) -> None:
        raise NotImplementedError

    def _idle(self) -> None:
        """Work between commands (polling). Default: nothing."""
