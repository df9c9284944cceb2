"""The kiosk application: Qt set-up, the window that hosts the screens, and the shell's flow.

``main(settings, windowed, lang)`` runs the touchscreen. :class:`KioskWindow` owns the plain-Python
:class:`~ui.screens.base.Navigation` (attract → language → menu), renders its current state with a
:class:`~ui.screens.base.ScreenStack`, times out idle sessions, and lets journeys plug in with
:meth:`KioskWindow.register_journey`. ``render_offscreen(widget, path)`` saves a widget as PNG for the
docs, the tests and ``smart-teller demo``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from devices.base import DeviceState, DeviceStatus
from kiosk.i18n import LANGUAGES
from kiosk.settings import Settings
from ui.adapters import DeviceAdapter, EventSource
from ui.ops import BackgroundOp, OpRegistry, run_in_background
from ui.screens.attract import AttractScreen
from ui.screens.base import IdleTimeout, Navigation, Screen, ScreenStack
from ui.screens.language import LanguageScreen
from ui.screens.menu import MenuScreen
from ui.screens.message import MessageScreen
from ui.screens.out_of_service import DEVICES_DOWN, HOST_UNREACHABLE, OutOfServiceScreen
from ui.theme import DESIGN_HEIGHT, DESIGN_WIDTH, apply_theme, base_font, scale_for
from ui.widgets.busy import BusyOverlay
from ui.widgets.countdown import CountdownBanner

T = TypeVar("T")
log = logging.getLogger(__name__)

# The shell's own flow; journeys add their states with Navigation.jump from their starters.
SHELL_FLOW: dict[str, dict[str, str]] = {
    "attract": {"start": "language"},
    "language": {"language": "menu", "back": "attract"},
    "menu": {"exit": "attract"},
    "message": {},
    "out_of_service": {},
}

# Which configured devices each menu service needs (settings.devices.<name> must be set).
SERVICE_DEVICES: dict[str, tuple[str, ...]] = {
    "insert_card": ("card_reader", "pin_pad"),
    "face_login": ("camera",),
    "open_account": ("id_reader", "camera", "pin_pad", "card_dispenser"),
    "help": (),
}

# What still works without the bank host: the help assistant's answers are on the terminal.
OFFLINE_SERVICES = frozenset({"help"})
# A device in one of these states cannot serve: the services that need it are not offered. (A user error,
# such as paper out or a card left in the slot, is the customer's or the next customer's to clear.)
DEVICE_DOWN_STATES = frozenset(
    {DeviceState.OFFLINE, DeviceState.POWER_OFF, DeviceState.NO_DEVICE, DeviceState.HARDWARE_ERROR}
)

JourneyStarter = Callable[["KioskWindow", Mapping[str, Any]], None]
RESCALE_DEBOUNCE_MS = 150


class _Host(QWidget):
    """The central widget; the stack, the banner and the busy overlay float on it."""

    resized = Signal()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()


class KioskWindow(QMainWindow):
    maintenanceRequested = Signal()
    sessionEnded = Signal(str)
    languageChanged = Signal(str)

    def __init__(
        self,
        settings: Settings,
        *,
        lang: str | None = None,
        idle_timeout_s: float | None = None,
        idle_warning_s: float | None = None,
        ops: OpRegistry | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.default_lang = lang or settings.language
        self.lang = self.default_lang
        self.ops = ops or OpRegistry()
        self._journeys: dict[str, JourneyStarter] = {}
        self._adapters: dict[str, DeviceAdapter] = {}
        self._scale = 1.0
        self._shut_down = False
        self.host_available = True  # until the host link says otherwise
        self.devices_down: set[str] = set()  # attached devices whose state is in DEVICE_DOWN_STATES
        self.setWindowTitle(settings.bank_name)
        self.setMinimumSize(QSize(640, 400))

        host = _Host(self)
        host.resized.connect(self._place_overlays)
        self.setCentralWidget(host)
        self.stack = ScreenStack(self.lang, host)
        self.banner = CountdownBanner(self.lang, host)
        self.busy = BusyOverlay(host, self.lang)

        self.attract = self._add(AttractScreen(settings.bank_name, self.lang))
        self.language_screen = self._add(LanguageScreen(self.lang))
        self.menu = self._add(MenuScreen(self.lang))
        self.message = self._add(MessageScreen(self.lang))
        self.out_of_service = self._add(OutOfServiceScreen(settings.kiosk_id, self.lang))
        self.attract.maintenanceRequested.connect(self.maintenanceRequested)
        self.out_of_service.maintenanceRequested.connect(self.maintenanceRequested)
        self._update_menu()

        self.navigation = Navigation({k: dict(v) for k, v in SHELL_FLOW.items()}, start="attract")
        self.navigation.subscribe(self._render_state)

        journeys = settings.journeys
        self.idle = IdleTimeout(
            self.banner,
            float(idle_timeout_s if idle_timeout_s is not None else journeys.idle_timeout_s),
            float(idle_warning_s if idle_warning_s is not None else journeys.idle_warning_s),
            self,
        )
        self.idle.timedOut.connect(lambda: self.end_session("idle"))
        self.stack.screenChanged.connect(self._screen_changed)

        self._rescale_timer = QTimer(self)
        self._rescale_timer.setSingleShot(True)
        self._rescale_timer.setInterval(RESCALE_DEBOUNCE_MS)
        self._rescale_timer.timeout.connect(self._rescale)
        self.resize(DESIGN_WIDTH, DESIGN_HEIGHT)
        self.navigation.reset()

    # -- screens and flow --------------------------------------------------------------------
    def _add(self, screen: Screen) -> Any:
        self.stack.add(screen)
        screen.action.connect(lambda action, payload, s=screen: self._on_action(s.name, action, payload))
        return screen

    def add_screen(self, screen: Screen, transitions: Mapping[str, str] | None = None) -> Screen:
        """Journeys add their screens (and optionally the actions leading out of them)."""
        self._add(screen)
        self.navigation.transitions.setdefault(screen.name, {}).update(transitions or {})
        return screen

    def register_journey(self, service: str, starter: JourneyStarter) -> None:
        """``starter(window, context)`` runs when the customer picks ``service`` from the menu."""
        self._journeys[service] = starter
        self._update_menu()

    def current_state(self) -> str:
        return self.navigation.current

    def show_state(self, state: str, context: Mapping[str, Any] | None = None) -> None:
        self.navigation.jump(state, context)

    def show_message(
        self,
        kind: str,
        *,
        title_key: str | None = None,
        body_key: str | None = None,
        params: Mapping[str, Any] | None = None,
        button_key: str = "common.ok",
        next_state: str = "attract",
        **extra: Any,
    ) -> None:
        context: dict[str, Any] = {"kind": kind, "button_key": button_key, "next": next_state, **extra}
        if title_key:
            context["title_key"] = title_key
        if body_key:
            context["body_key"] = body_key
        if params:
            context["params"] = dict(params)
        self.navigation.jump("message", context)

    def show_out_of_service(self, reason: str) -> None:
        log.warning("out of service: %s", reason)
        self.navigation.reset("out_of_service", {"reason": reason})

    def set_host_available(self, up: bool) -> None:
        """The bank host's link changed. Down: nothing that needs the host is offered; an idle terminal
        says so plainly (both languages) until the host is back. A session in progress ends through its
        journey, which already tells the customer it could not reach the bank."""
        self.host_available = up
        self._update_menu()
        idle = self.current_state() in ("attract", "language", "menu", "out_of_service")
        if not up and idle:
            self.show_out_of_service(HOST_UNREACHABLE)
        elif (
            up and self.current_state() == "out_of_service" and self.out_of_service.reason == HOST_UNREACHABLE
        ):
            log.info("bank host reachable again: back in service")
            self.end_session("host_back")

    def end_session(self, why: str) -> None:
        """Back to attract in the default language; the back stack is forgotten."""
        log.info("session ended (%s)", why)
        self.set_language(self.default_lang)
        self.navigation.reset("attract")
        self.sessionEnded.emit(why)
        if not self.host_available:  # the host went while a customer was served: say so now
            self.show_out_of_service(HOST_UNREACHABLE)
        elif self.nothing_to_offer():
            self.show_out_of_service(DEVICES_DOWN)

    def set_language(self, lang: str) -> None:
        if lang not in LANGUAGES:
            log.warning("unknown language %r ignored", lang)
            return
        self.lang = lang
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setFont(base_font(lang, self._scale))
        self.stack.set_language(lang)
        self.banner.retranslate(lang)
        self.busy.retranslate(lang)
        self.languageChanged.emit(lang)

    def _render_state(self, state: str, context: Mapping[str, Any]) -> None:
        self.stack.show_screen(state, context)

    def _screen_changed(self, name: str) -> None:
        screen = self.stack.screen(name)
        self.idle.set_active(not screen.idle_exempt)

    def _on_action(self, screen: str, action: str, payload: object) -> None:
        if screen == "language" and action == "language":
            self.set_language(str(payload))
        elif screen == "menu" and action in SERVICE_DEVICES:
            self._start_service(action)
            return
        elif screen == "message" and action in ("done", "timeout"):
            target = str(payload or "attract")
            if target == "attract":
                self.end_session(action)
            else:
                self.navigation.jump(target)
            return
        if action == "exit":
            self.end_session("exit")
            return
        if self.navigation.allowed(action):
            self.navigation.go(action)
        elif action == "back":
            self.navigation.back()

    def _start_service(self, service: str) -> None:
        starter = self._journeys.get(service)
        if starter is None or not self.menu.is_available(service):
            self.show_message(
                "info",
                title_key="menu.unavailable.title",
                body_key="menu.unavailable.body",
                button_key="common.back",
                next_state="menu",
            )
            return
        starter(self, {"service": service, "lang": self.lang})

    def _update_menu(self) -> None:
        devices = self.settings.devices
        for service, needed in SERVICE_DEVICES.items():
            configured = all(getattr(devices, name) for name in needed)
            working = not self.devices_down.intersection(needed)
            self.menu.set_available(
                service,
                configured and working and (self.host_available or service in OFFLINE_SERVICES),
                device_down=configured and not working,
            )

    def nothing_to_offer(self) -> bool:
        """Every banking service this terminal offers needs a device that is down now (help alone is no
        reason to keep a customer at the terminal)."""
        devices = self.settings.devices
        offered = [
            needed
            for service, needed in SERVICE_DEVICES.items()
            if service not in OFFLINE_SERVICES and all(getattr(devices, name) for name in needed)
        ]
        return bool(offered) and all(self.devices_down.intersection(needed) for needed in offered)

    # -- devices and background work ---------------------------------------------------------
    def attach_device(self, name: str, source: EventSource) -> DeviceAdapter:
        """Wrap a driver so its events reach the screens on the GUI thread, and its state the menu."""
        adapter = DeviceAdapter(source, parent=self)
        adapter.deviceEvent.connect(self.menu.on_device_event)
        adapter.statusChanged.connect(lambda status, name=name: self._on_device_status(name, status))
        self._adapters[name] = adapter
        initial = adapter.status()
        if initial is not None:
            self._on_device_status(name, initial)
        return adapter

    def _on_device_status(self, name: str, status: DeviceStatus) -> None:
        """A device went down or came back: the menu says which services wait for it; when none can be
        offered an idle terminal goes out of service, and comes back by itself when one can again."""
        down = status.state in DEVICE_DOWN_STATES
        if down == (name in self.devices_down):
            return
        if down:
            log.warning("%s is down (%s): services that need it are not offered", name, status.state)
            self.devices_down.add(name)
        else:
            log.info("%s is back (%s)", name, status.state)
            self.devices_down.discard(name)
        self._update_menu()
        state = self.current_state()
        if self.nothing_to_offer():
            if state in ("attract", "language", "menu") and self.host_available:
                self.show_out_of_service(DEVICES_DOWN)
        elif state == "out_of_service" and self.out_of_service.reason == DEVICES_DOWN:
            log.info("a service can be offered again: back in service")
            self.end_session("devices_back")

    def adapter(self, name: str) -> DeviceAdapter | None:
        return self._adapters.get(name)

    def run_in_background(
        self,
        fn: Callable[[], T],
        on_success: Callable[[T], None],
        on_failure: Callable[[BaseException], None] | None = None,
        *,
        parent: QWidget | None = None,
        label: str = "",
    ) -> BackgroundOp[T]:
        """Off the GUI thread, with the busy spinner if it takes more than a second."""
        return run_in_background(
            parent or self, fn, on_success, on_failure, busy=self.busy, label=label, registry=self.ops
        )

    # -- geometry and shutdown ---------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale_timer.start()

    def _place_overlays(self) -> None:
        host = self.centralWidget()
        if host is None:
            return
        rect = host.rect()
        self.stack.setGeometry(rect)
        margin = 24
        height = max(self.banner.sizeHint().height(), 96)
        self.banner.setGeometry(margin, rect.height() - height - margin, rect.width() - 2 * margin, height)
        self.busy.setGeometry(rect)

    def _rescale(self) -> None:
        scale = scale_for(self.width(), self.height())
        if abs(scale - self._scale) < 0.05:
            return
        self._scale = scale
        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, self.lang, scale)
        self._place_overlays()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop timers, drop device subscriptions and join every background op (safe to repeat)."""
        if self._shut_down:
            return
        self._shut_down = True
        self.idle.close()
        self.banner.stop()
        for adapter in self._adapters.values():
            adapter.close()
        self._adapters.clear()
        current = self.stack.current_screen()
        if current is not None:
            current.on_leave()
        self.ops.shutdown()


def create_application(lang: str = "en", argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(argv or sys.argv[:1])
    app.setApplicationName("Smart Teller")
    app.setOrganizationName("Smart Teller")
    apply_theme(app, lang)
    return app


def render_offscreen(widget: QWidget, path: Path | str, size: QSize | None = None) -> Path:
    """Save ``widget`` as a PNG (works under ``QT_QPA_PLATFORM=offscreen``). Returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if size is not None:
        widget.resize(size)
    was_visible = widget.isVisible()
    if not was_visible:
        widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        widget.show()
    QApplication.processEvents()
    if not widget.grab().save(str(target), "PNG"):
        raise OSError(f"could not write {target}")
    if not was_visible:
        widget.hide()
    return target


def main(
    settings: Settings,
    windowed: bool = False,
    lang: str | None = None,
    *,
    quit_after_s: float | None = None,
    devices: Mapping[str, EventSource] | None = None,
) -> int:
    """Run the kiosk until the window closes; returns the exit code."""
    language = lang or settings.language
    app = create_application(language)
    window = KioskWindow(settings, lang=language)
    for name, source in (devices or {}).items():
        window.attach_device(name, source)
    if windowed:
        window.resize(DESIGN_WIDTH, DESIGN_HEIGHT)
        window.show()
    else:
        window.showFullScreen()
    if quit_after_s is not None:
        QTimer.singleShot(int(quit_after_s * 1000), window.close)
    code = int(app.exec())
    window.shutdown()
    return code
