"""Developer control panel for the simulated hardware: its own Qt window, run by the simulator supervisor.

PySide6 is allowed here and nowhere else in ``simulators``. The panel knows the simulators only by their
control addresses and talks to them with :class:`devices.simcontrol.ControlClient` on worker threads.
"""

from __future__ import annotations

import signal
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulators.panel.window import ControlPanel

if TYPE_CHECKING:
    from simulators.fleet import SimulatorFleet

__all__ = ["ControlPanel", "run_panel"]

SUPERVISE_MS = 250


def run_panel(
    addresses: dict[str, dict[str, Any]],
    *,
    faces_dir: Path | None = None,
    stop: threading.Event | None = None,
    fleet: SimulatorFleet | None = None,
) -> str | None:
    """Show the panel until its window closes or ``stop`` is set (the fleet's SIGINT/SIGTERM flag).

    Returns None after a requested shutdown. A simulator that dies meanwhile is reported in the panel and
    its tab turns "unreachable"; the panel stays open so the developer can see what happened.
    """
    from PySide6.QtCore import QSocketNotifier, QTimer
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["smart-teller-simulators"])
    panel = ControlPanel(addresses, faces_dir=faces_dir)

    # Qt's loop runs in C++: Python signal handlers only run when a byte on the wake-up socket hands
    # control back to the interpreter.
    wake_read, wake_write = socket.socketpair()
    wake_read.setblocking(False)
    wake_write.setblocking(False)
    previous_fd = signal.set_wakeup_fd(wake_write.fileno(), warn_on_full_buffer=False)
    notifier = QSocketNotifier(wake_read.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(lambda *_: _drain(wake_read))

    reported: set[str] = set()

    def supervise() -> None:
        if stop is not None and stop.is_set():
            panel.close()
            return
        if fleet is not None:
            for dead in fleet.dead_children():
                if dead not in reported:
                    reported.add(dead)
                    panel.note(f"simulator exited: {dead}", error=True)

    timer = QTimer()
    timer.timeout.connect(supervise)
    timer.start(SUPERVISE_MS)
    panel.show()
    try:
        app.exec()
    finally:
        timer.stop()
        notifier.setEnabled(False)
        signal.set_wakeup_fd(previous_fd)
        wake_read.close()
        wake_write.close()
        panel.shutdown()
        panel.deleteLater()
    return None


def _drain(sock: socket.socket) -> None:
    try:
        while sock.recv(64):
            pass
    except BlockingIOError:
        pass
