"""Start the touchscreen: paint the attract screen first, then bring up the bank and the devices behind it.

A customer walking up to a kiosk that is booting should see the bank's welcome, not a black screen. So
this module imports only the shell (Qt, settings, strings) before the first paint; the host client, the
journal, the drivers and crash recovery run on a worker thread right after, and the journeys are attached
on the GUI thread when that is done ("kiosk ready"). Until then a service picked from the menu answers
"not available right now".

If the terminal cannot start (no host credential: it was never enrolled), the window closes and the
command exits with code 2 and one line on stderr, as every other command does. An unreachable host is
not a reason to stop: the terminal starts, offers nothing that needs the host, and says so.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


def _process_started() -> float:
    """Wall-clock time the process was created (what "cold start" counts from)."""
    try:
        import psutil

        return float(psutil.Process().create_time())
    except Exception:  # psutil missing or /proc unreadable: count from this import instead
        return time.time()


STARTED = _process_started()


class Startup:
    """What the worker thread built, and what the GUI thread attached to it."""

    def __init__(self) -> None:
        self.services: Any = None
        self.devices: Any = None
        self.kiosk: Any = None
        self.back_office: Any = None
        self.error: BaseException | None = None
        self.ready_at: float | None = None

    def close(self) -> None:
        if self.back_office is not None:
            self.back_office.close()
        if self.kiosk is not None:
            self.kiosk.shutdown()
        if self.devices is not None:
            self.devices.close()
        if self.services is not None:
            self.services.close()


def prepare_bank_and_devices(settings: Any, state: Startup) -> Startup:
    """Worker thread: services (the host client, the journal), drivers, crash recovery."""
    from app.composition import build_devices
    from app.recovery import recover_at_start
    from app.services import TerminalServices

    state.services = TerminalServices.start(settings)
    state.devices = build_devices(settings)
    state.devices.start()
    recover_at_start(state.services, state.devices)
    # Journey modules and screens are imported here too, so the GUI thread only builds widgets.
    import ui.kiosk_app

    ui.kiosk_app.load_registrations()
    return state


def run_kiosk(
    settings: Any,
    *,
    windowed: bool = False,
    lang: str | None = None,
    quit_after_s: float | None = None,
    on_ready: Callable[[Startup], None] | None = None,
) -> int:
    from PySide6.QtCore import QTimer

    from hostlink.logs import setup_logging
    from hostlink.paths import prepare_data_dir
    from ui.app import KioskWindow, create_application
    from ui.ops import run_in_background
    from ui.theme import DESIGN_HEIGHT, DESIGN_WIDTH

    prepare_data_dir(settings.data_dir)
    setup_logging(settings.data_dir, settings.log_level)
    language = lang or settings.language
    qt_app = create_application(language)
    window = KioskWindow(settings, lang=language)
    state = Startup()
    exit_code = 0

    def attach(_: Startup) -> None:
        from ui.kiosk_app import KioskApp, install_back_office

        state.kiosk = KioskApp(window, state.devices, state.services)
        state.back_office = install_back_office(window, state.kiosk, state.devices, state.services)
        state.ready_at = time.time()
        log.info("kiosk ready: journeys attached %.2f s after start", state.ready_at - STARTED)
        if quit_after_s is not None:
            # Counted from "ready", so a smoke test on a slow machine still sees the whole start.
            QTimer.singleShot(int(quit_after_s * 1000), window.close)
        if on_ready is not None:
            on_ready(state)

    def failed(exc: BaseException) -> None:
        nonlocal exit_code
        state.error = exc
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        log.error("the kiosk could not start: %s", reason)
        print(f"smart-teller: {reason}", file=sys.stderr)
        exit_code = 2
        window.close()

    if windowed:
        window.resize(DESIGN_WIDTH, DESIGN_HEIGHT)
        window.show()
    else:
        window.showFullScreen()
    QTimer.singleShot(
        0,
        lambda: log.info("%s screen shown %.2f s after start", window.current_state(), time.time() - STARTED),
    )
    # No busy spinner: the attract screen is what a booting kiosk should show.
    run_in_background(
        window,
        lambda: prepare_bank_and_devices(settings, state),
        attach,
        failed,
        registry=window.ops,
    )
    try:
        code = int(qt_app.exec())
    finally:
        window.shutdown()  # joins background work, so the worker thread has finished with `state`
        state.close()
    return exit_code or code
