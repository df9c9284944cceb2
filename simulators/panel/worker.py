"""Talking to one simulator without ever blocking the panel's GUI thread.

Each device gets a :class:`DeviceLink` (lives on the GUI thread) that owns a ``QThread`` running a
:class:`DeviceWorker`. Buttons call :meth:`DeviceLink.send`; the request is posted to the worker thread,
the worker makes the blocking ``ControlClient`` call and posts the answer back to the GUI thread, where
the link hands it to its listeners. The worker also polls ``state`` every ``poll_ms`` (restarting its
single-shot timer only after a poll finished, so a slow or dead simulator never piles polls up), the
printer's receipt list when its count changes, and the camera's ``/snapshot.jpg`` for the preview.

Hand-offs between threads use ``QTimer.singleShot(0, context, callable)`` (Qt runs the callable in the
context object's thread) rather than Python-emitted signals: PySide6 6.12's ``Signal.emit`` hands back a
``True`` it does not own, and on Python 3.11 (bools not immortal) a panel that emits twice a second per
device would drive ``True``'s reference count to zero and abort the interpreter.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from functools import partial
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer

from devices.simcontrol import ControlClient, ControlError

DEFAULT_POLL_MS = 500
CONTROL_TIMEOUT_S = 3.0
SNAPSHOT_TIMEOUT_S = 2.0


def snapshot_url(address: dict[str, Any]) -> str | None:
    """The camera's still-frame URL: given by the fleet, or derived from the MJPEG stream URL."""
    if address.get("snapshot"):
        return str(address["snapshot"])
    url = str(address.get("url", ""))
    if url.startswith("http://") and url.endswith("/stream.mjpg"):
        return url[: -len("stream.mjpg")] + "snapshot.jpg"
    return None


def post(context: QObject, fn: Callable[..., None], *args: Any) -> None:
    """Run ``fn(*args)`` in ``context``'s thread, soon (dropped if ``context`` is gone by then)."""
    QTimer.singleShot(0, context, partial(fn, *args))


class DeviceWorker(QObject):
    """Lives on its own thread; every method here may block on a socket."""

    def __init__(self, link: DeviceLink, device: str, address: dict[str, Any], poll_ms: int) -> None:
        super().__init__()
        self.link = link
        self.device = device
        self.client = ControlClient(str(address["control"]), timeout=CONTROL_TIMEOUT_S)
        self.snapshot_url = snapshot_url(address) if device == "camera" else None
        self.poll_ms = poll_ms
        self.preview = False  # the camera tab turns it on while it is visible
        self._timer: QTimer | None = None
        self._receipt_count = -1
        self._stopped = False

    def begin(self) -> None:
        self._timer = QTimer(self)  # created here so it belongs to the worker thread
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.poll)
        self.poll()

    def finish(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.stop()

    def set_preview(self, on: bool) -> None:
        self.preview = on and self.snapshot_url is not None

    def call(self, cmd: str, args: dict[str, Any]) -> None:
        if self._stopped:
            return
        try:
            result = self.client.call(cmd, **args)
        except (ControlError, OSError, ValueError) as exc:
            post(self.link, self.link.deliver_reply, cmd, False, str(exc))
            return
        post(self.link, self.link.deliver_reply, cmd, True, result)
        self.poll_now()

    def poll_now(self) -> None:
        """Refresh the state view right after an action instead of waiting for the next tick."""
        if self._timer is not None:
            self._timer.stop()
        self.poll()

    def poll(self) -> None:
        if self._stopped:
            return
        try:
            state = self.client.call("state")
        except (ControlError, OSError, ValueError) as exc:
            post(self.link, self.link.deliver_state, None, str(exc))
        else:
            post(self.link, self.link.deliver_state, state if isinstance(state, dict) else None, "")
            if self.device == "printer" and isinstance(state, dict):
                self._poll_receipts(int(state.get("receipts", 0)))
        if self.preview:
            self._poll_snapshot()
        if self._timer is not None and not self._stopped:
            self._timer.start(self.poll_ms)

    def _poll_receipts(self, count: int) -> None:
        if count == self._receipt_count:
            return
        try:
            receipts = self.client.call("receipts")
        except (ControlError, OSError, ValueError):
            return  # tried again on the next poll: the count still differs
        self._receipt_count = count
        post(self.link, self.link.deliver_receipts, receipts if isinstance(receipts, list) else [])

    def _poll_snapshot(self) -> None:
        assert self.snapshot_url is not None
        try:
            with urllib.request.urlopen(self.snapshot_url, timeout=SNAPSHOT_TIMEOUT_S) as reply:  # noqa: S310 (loopback http)
                jpeg = reply.read()
        except (urllib.error.URLError, OSError, ValueError):
            jpeg = b""  # stalled, disconnected or gone: the preview says "no picture"
        post(self.link, self.link.deliver_snapshot, jpeg)


class DeviceLink(QObject):
    """GUI-thread handle on one simulator: :meth:`send` a command; answers reach the listeners.

    Listeners are plain callables run on the GUI thread: ``on_state(state or None)`` after every poll
    (None: the simulator does not answer), ``on_reply(cmd, ok, result or error text)``,
    ``on_receipts(list)`` (printer) and ``on_snapshot(jpeg bytes, b"" for none)`` (camera).
    """

    def __init__(
        self,
        device: str,
        address: dict[str, Any],
        poll_ms: int = DEFAULT_POLL_MS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.device = device
        self.address = dict(address)
        self.last_state: dict[str, Any] | None = None
        self.last_error = ""
        self.on_state: list[Callable[[dict[str, Any] | None], None]] = []
        self.on_reply: list[Callable[[str, bool, Any], None]] = []
        self.on_receipts: list[Callable[[list[dict[str, Any]]], None]] = []
        self.on_snapshot: list[Callable[[bytes], None]] = []
        self.io_thread = QThread()  # not ``thread``: QObject.thread() says which thread the link lives in
        self.io_thread.setObjectName(f"panel-{device}")
        self.worker = DeviceWorker(self, device, address, poll_ms)
        self.worker.moveToThread(self.io_thread)
        self.io_thread.started.connect(self.worker.begin)
        self.io_thread.finished.connect(self.worker.deleteLater)
        self._started = False
        self._closed = False

    def start(self) -> None:
        self._started = True
        self.io_thread.start()

    def send(self, cmd: str, **args: Any) -> None:
        if not self._closed:
            post(self.worker, self.worker.call, cmd, dict(args))

    def set_preview(self, on: bool) -> None:
        if not self._closed:
            post(self.worker, self.worker.set_preview, bool(on))

    # -- answers from the worker, run on the GUI thread -----------------------------------------
    def deliver_reply(self, cmd: str, ok: bool, result: Any) -> None:
        for listener in list(self.on_reply):
            listener(cmd, ok, result)

    def deliver_state(self, state: dict[str, Any] | None, error: str) -> None:
        self.last_state, self.last_error = state, error
        for listener in list(self.on_state):
            listener(state)

    def deliver_receipts(self, receipts: list[dict[str, Any]]) -> None:
        for listener in list(self.on_receipts):
            listener(receipts)

    def deliver_snapshot(self, jpeg: bytes) -> None:
        for listener in list(self.on_snapshot):
            listener(jpeg)

    def close(self, timeout_ms: int = 8000) -> bool:
        """Stop polling and join the thread (a call in flight finishes first; they time out in seconds)."""
        if self._closed:
            return True
        self._closed = True
        if not self._started:
            self.worker.deleteLater()
            return True
        post(self.worker, self.worker.finish)
        self.io_thread.quit()
        return bool(self.io_thread.wait(timeout_ms))
