"""Qt adapters over the Qt-free drivers: events and completions arrive as signals on the GUI thread.

A driver calls its subscribers on its own I/O thread; a screen must never be touched from there. The
adapter's callback only emits an internal signal whose queued connection hops to the GUI thread, where
the public ``deviceEvent``/``statusChanged`` signals fire (not ``event``: that name is QObject's event
handler). ``operation_done(op, receiver)`` does the same for a command's :class:`devices.base.Operation`,
so screens start a command and simply get called back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot

from devices.base import DeviceEvent, DeviceStatus, Operation, Result

log = logging.getLogger(__name__)


class EventSource(Protocol):
    """What the adapter needs from a driver (devices.base.DriverBase satisfies it)."""

    def subscribe(self, callback: Callable[[DeviceEvent], None]) -> Callable[[], None]: ...

    def status(self) -> DeviceStatus: ...


class DeviceAdapter(QObject):
    """Re-emits a driver's events on the GUI thread; ``statusChanged`` when its status differs."""

    deviceEvent = Signal(object)  # DeviceEvent
    statusChanged = Signal(object)  # DeviceStatus
    _incoming = Signal(object)

    def __init__(self, device: EventSource, *, poll_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.device = device
        self._last_status: DeviceStatus | None = None
        self._incoming.connect(self._on_gui_thread, Qt.ConnectionType.QueuedConnection)
        self._unsubscribe: Callable[[], None] | None = device.subscribe(self._from_driver_thread)
        # Detail such as "paper low" can change without an event; a cheap status poll catches it.
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self.refresh_status)
        if poll_ms > 0:
            self._poll.start()
        self.refresh_status()

    def status(self) -> DeviceStatus | None:
        return self._last_status

    def close(self) -> None:
        self._poll.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _from_driver_thread(self, event: DeviceEvent) -> None:
        # Runs on the driver's I/O thread: emit only, touch nothing else.
        try:
            self._incoming.emit(event)
        except RuntimeError:  # the adapter was deleted while the driver still ran
            log.debug("event %s after the adapter was deleted", event.kind)

    @Slot(object)
    def _on_gui_thread(self, event: DeviceEvent) -> None:
        self.deviceEvent.emit(event)
        if event.kind == "state_changed":
            self.refresh_status()

    @Slot()
    def refresh_status(self) -> None:
        try:
            status = self.device.status()
        except Exception as exc:  # a broken driver shows as an error, not a crash
            log.warning("status of %r failed: %s", self.device, exc)
            return
        if status != self._last_status:
            self._last_status = status
            self.statusChanged.emit(status)


class OperationWatcher(QObject):
    """Turns one Operation's completion into ``finished(Result)`` on the GUI thread."""

    finished = Signal(object)  # devices.base.Result
    _completed = Signal(object)

    def __init__(self, op: Operation[Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.op = op
        self._completed.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    def start(self) -> None:
        # add_done_callback runs on the I/O thread, or right here when the op is already finished;
        # the queued hop makes both cases call back later on the GUI thread.
        self.op.add_done_callback(self._from_any_thread)

    def _from_any_thread(self, result: Result[Any]) -> None:
        try:
            self._completed.emit(result)
        except RuntimeError:
            log.debug("operation %s finished after its watcher was deleted", self.op.name)

    @Slot(object)
    def _deliver(self, result: Result[Any]) -> None:
        try:
            self.finished.emit(result)
        finally:
            _pending.discard(self)


_pending: set[OperationWatcher] = set()  # keeps watchers without a parent alive until they fire


def operation_done(
    op: Operation[Any], receiver: Callable[[Result[Any]], None], parent: QObject | None = None
) -> OperationWatcher:
    """Call ``receiver(result)`` on the GUI thread when ``op`` completes; never blocks.

    With ``parent`` (usually the screen), deleting the screen also drops the pending callback.
    """
    watcher = OperationWatcher(op, parent)
    watcher.finished.connect(receiver)
    if parent is None:
        _pending.add(watcher)
    watcher.start()
    return watcher
