"""Maintenance mode wired into the kiosk window: entry, login, the dashboard's live updates, idle logout.

``install_maintenance(window, devices, runtime)`` is the one entry point. It adds the login and the
maintenance screens to the window's stack, answers ``window.maintenanceRequested`` (the hidden corner
gesture or Ctrl+Alt+M) — but never while a customer session is in progress — and applies a persisted
out-of-service state at once, so a restarted terminal that a supervisor closed stays closed.

The dashboard follows each driver through its :class:`~ui.adapters.DeviceAdapter` (``statusChanged`` and
``event`` signals on the GUI thread); nothing here polls a device. Every service call runs off the GUI
thread through the window's background-op registry and is refused by the service itself when the
session has idled out or the role does not permit it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

from app.composition import DeviceSet
from devices.printer.layout import ReceiptDocument, ReceiptLine
from hostlink.technicians import LoginOutcome, LoginResult, TechnicianDirectory, TechSession
from kiosk.banktime import format_bank_time
from kiosk.i18n import tr
from kiosk.journal import Journal
from kiosk.maintenance.overview import describe_device
from kiosk.maintenance.service import ActionOutcome, MaintenanceService
from kiosk.maintenance.store import MaintenanceStore
from kiosk.settings import Settings
from ui.app import KioskWindow
from ui.maintenance.login import MaintenanceLoginScreen
from ui.maintenance.pages import ServicePage
from ui.maintenance.screen import MaintenanceScreen

T = TypeVar("T")
log = logging.getLogger(__name__)

CUSTOMER_FREE_STATES = ("attract", "out_of_service")
IDLE_TICK_MS = 1000
_INPUT_EVENTS = {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress}


class MaintenanceController(QObject):
    """Owns the technician session and moves the window in and out of maintenance."""

    def __init__(
        self,
        window: KioskWindow,
        devices: DeviceSet,
        service: MaintenanceService,
        *,
        idle_timeout_s: float | None = None,
        idle_warning_s: float = 60.0,
        owned_journal: Journal | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.devices = devices
        self.service = service
        self.idle_timeout_s = idle_timeout_s
        self.idle_warning_s = idle_warning_s
        self._owned_journal = owned_journal
        self._session: TechSession | None = None
        self._came_from = "attract"
        self._came_from_reason = ""
        self._closed_by_maintenance = False
        names = [name for name, _ in devices.items()]
        self.login_screen = MaintenanceLoginScreen(window.lang)
        self.screen = MaintenanceScreen(self, names, window.lang)
        service_page = self.screen.pages["service"]
        if isinstance(service_page, ServicePage):
            service_page.changed_callback = self.screen.update_service_state
        window.add_screen(self.login_screen)
        window.add_screen(self.screen)
        self.login_screen.action.connect(self._login_action)
        self.screen.action.connect(self._screen_action)
        self.screen.idle_banner.extend_requested.connect(self._stay)
        self.screen.idle_banner.expired.connect(lambda: self.logout("idle"))
        for name, driver in devices.items():
            adapter = window.adapter(name) or window.attach_device(name, driver)
            adapter.statusChanged.connect(lambda _status, n=name: self._device_changed(n))
            adapter.deviceEvent.connect(lambda _event, n=name: self._device_changed(n))
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(IDLE_TICK_MS)
        self._idle_timer.timeout.connect(self._idle_tick)
        window.maintenanceRequested.connect(self.request_entry)
        window.destroyed.connect(self._close_journal)
        state = service.out_of_service()
        if state.active:
            window.show_out_of_service(state.reason)

    # -- Runner (what the pages use) -----------------------------------------------------------
    @property
    def session(self) -> TechSession | None:
        return self._session

    def run(self, fn: Callable[[TechSession], T], done: Callable[[T], None], *, label: str = "") -> None:
        session = self._session
        if session is None:
            return
        self.window.run_in_background(
            lambda: fn(session), done, self._failed, parent=self.screen, label=label or "maintenance"
        )

    def describe(self, name: str) -> dict[str, Any]:
        driver = self.devices.get(name)
        return describe_device(name, driver, self.service.store.totals())

    def test_receipt(self) -> ReceiptDocument:
        settings = self.service.settings
        now = datetime.now(UTC)
        who = self._session.username if self._session is not None else ""
        lang = "zh" if self.window.lang.startswith("zh") else "en"
        return ReceiptDocument(
            bank_name=settings.bank_name,
            kiosk_id=settings.kiosk_id,
            # Bank time with its zone, as on customers' receipts: the technician compares them.
            date=format_bank_time(now, settings.bank_timezone),
            reference=f"TEST-{now.strftime('%Y%m%d%H%M%S')}",
            title=tr("maint.action.print_test", self.window.lang),
            lines=(
                ReceiptLine(tr("maint.title", self.window.lang), who),
                ReceiptLine("Branch", settings.branch),
            ),
            footer=("Printer test - not a transaction",),
            language=lang,
        )

    # -- entry and exit ------------------------------------------------------------------------
    def in_maintenance(self) -> bool:
        return self.window.current_state() in (self.login_screen.name, self.screen.name)

    def request_entry(self) -> bool:
        """The hidden gesture: show the login, unless a customer is being served."""
        state = self.window.current_state()
        if self.in_maintenance():
            return False
        if state not in CUSTOMER_FREE_STATES:
            log.info("maintenance refused: a customer session is in progress (%s)", state)
            self.service.journal.record("maintenance_entry_refused", reason="customer_session", screen=state)
            return False
        self._came_from = state
        self._came_from_reason = self.window.out_of_service.reason if state == "out_of_service" else ""
        self._closed_by_maintenance = self.service.out_of_service().active
        self.service.journal.record("maintenance_entry", screen=state)
        self._show_login(setup=self.service.needs_first_supervisor())
        return True

    def _show_login(self, *, setup: bool, notice: str = "") -> None:
        context: dict[str, Any] = {"setup": setup}
        if notice:
            context["notice"] = notice
        self.window.show_state(self.login_screen.name, context)

    def leave(self) -> None:
        """Back to the customer side: out of service if a supervisor (or anything before) said so."""
        state = self.service.out_of_service()
        if state.active:
            self.window.show_out_of_service(state.reason)
        elif self._came_from == "out_of_service" and not self._closed_by_maintenance:
            # closed for another reason (the app found a device or the database missing): stay closed
            self.window.show_out_of_service(self._came_from_reason)
        else:
            self.window.end_session("maintenance")

    # -- login ---------------------------------------------------------------------------------
    def _login_action(self, action: str, payload: object) -> None:
        if action == "cancel":
            self.leave()
        elif action == "login" and isinstance(payload, tuple):
            username, password = payload
            self.login_screen.set_busy(True)
            self.window.run_in_background(
                lambda: self.service.login(username, password),
                self._logged_in,
                self._login_failed,
                parent=self.login_screen,
                label="technician login",
            )
        elif action == "create" and isinstance(payload, tuple):
            username, password = payload
            self.login_screen.set_busy(True)
            self.window.run_in_background(
                lambda: self.service.create_first_supervisor(username, password),
                lambda outcome: self._created(username, outcome),
                self._login_failed,
                parent=self.login_screen,
                label="first supervisor",
            )

    def _created(self, username: str, outcome: ActionOutcome) -> None:
        if outcome.ok:
            self._show_login(
                setup=False, notice=tr("maint.setup.created", self.window.lang, username=username)
            )
        else:
            self.login_screen.show_error(outcome.detail)

    def _logged_in(self, result: LoginResult) -> None:
        lang = self.window.lang
        if result.outcome is LoginOutcome.OK and result.session is not None:
            self._start_session(result.session)
            return
        if result.outcome is LoginOutcome.LOCKED and result.locked_until is not None:
            minutes = max(1, math.ceil((result.locked_until - datetime.now(UTC)).total_seconds() / 60))
            self.login_screen.show_error(tr("maint.login.locked", lang, minutes=minutes))
        elif result.tries_left is not None:
            self.login_screen.show_error(tr("maint.login.bad_tries", lang, tries=result.tries_left))
        else:
            self.login_screen.show_error(tr("maint.login.bad", lang))

    def _login_failed(self, exc: BaseException) -> None:
        log.error("technician login failed: %s", exc)
        self.login_screen.show_error(
            tr("maint.outcome.failed", self.window.lang, code="error", detail=str(exc))
        )

    def _start_session(self, session: TechSession) -> None:
        if self.idle_timeout_s is not None:
            session.idle_timeout = timedelta(seconds=self.idle_timeout_s)
        self._session = session
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._idle_timer.start()
        self.window.show_state(self.screen.name)

    # -- session -------------------------------------------------------------------------------
    def logout(self, reason: str = "logout") -> None:
        session = self._session
        if session is None:
            return
        self._session = None
        self._idle_timer.stop()
        self.screen.idle_banner.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self.service.logout(session, reason)
        self.leave()

    def _screen_action(self, action: str, payload: object) -> None:
        if action == "logout":
            self.logout("logout")

    def _stay(self) -> None:
        if self._session is not None:
            self._session.touch()
        self.screen.idle_banner.stop()

    def _idle_tick(self) -> None:
        session = self._session
        if session is None:
            return
        left = session.remaining().total_seconds()
        if left <= 0:
            self.logout("idle")
            return
        warning = min(self.idle_warning_s, session.idle_timeout.total_seconds() / 2)
        banner = self.screen.idle_banner
        if left <= warning and not banner.is_running():
            banner.start(left, warning_s=left, message_key="maint.idle", button_key="maint.idle.more")
        elif left > warning and banner.is_running():
            banner.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._session is not None and event.type() in _INPUT_EVENTS and self.in_maintenance():
            self._session.touch()
        return False

    # -- devices -------------------------------------------------------------------------------
    def _device_changed(self, name: str) -> None:
        if self.window.current_state() == self.screen.name:
            self.screen.devices_page.refresh(name)

    def _failed(self, exc: BaseException) -> None:
        log.error("maintenance action failed: %s", exc, exc_info=exc)
        page = self.screen.pages[self.screen.current_page]
        page.outcome.show_outcome(
            False, tr("maint.outcome.failed", self.window.lang, code="error", detail=str(exc))
        )

    def _close_journal(self, *_: object) -> None:
        if self._owned_journal is not None:
            self._owned_journal.close()
            self._owned_journal = None


def install_maintenance(
    window: KioskWindow,
    devices: DeviceSet,
    settings: Settings,
    techs: TechnicianDirectory,
    *,
    journal: Journal | None = None,
    idle_timeout_s: float | None = None,
    idle_warning_s: float = 60.0,
    command_timeout_s: float = 20.0,
    card_take_timeout_s: float = 20.0,
) -> MaintenanceController:
    """Connect maintenance mode to ``window``; returns the controller (tests and the demo drive it).

    ``journal`` defaults to the terminal's journal in the data dir (opened here and closed with the
    window); ``techs`` is where accounts are checked (the bank host, through its API).
    ``idle_timeout_s`` overrides the settings' technician idle minutes (tests, demos).
    """
    owned = None
    if journal is None:
        journal = owned = Journal(settings.data_dir / "journal", settings.kiosk_id)
    store = MaintenanceStore(settings.data_dir / "maintenance")
    service = MaintenanceService(
        journal,
        techs,
        store,
        dict(devices.items()),
        settings,
        log_file=settings.data_dir / "logs" / "smart-teller.log",
        command_timeout_s=command_timeout_s,
        card_take_timeout_s=card_take_timeout_s,
    )
    return MaintenanceController(
        window,
        devices,
        service,
        idle_timeout_s=idle_timeout_s,
        idle_warning_s=idle_warning_s,
        owned_journal=owned,
    )
