"""The composition that joins the window, the drivers, the services and the journeys.

Journeys plug in through a small registry: a module calls :func:`register_journey_factory` at import with
the menu service it answers (``insert_card``, ``face_login``, ``open_account``), a factory that builds the
Qt-free :class:`~kiosk.journeys.core.Journey` from a :class:`JourneyStart`, and the screen classes its
views name. :func:`load_registrations` imports every module of the packages in :data:`REGISTRATION_PACKAGES`
(``ui/journeys/``), so adding a journey never edits this file.
Screens that other journeys share (the logged-in services menu, card return) register with
:func:`register_screens` only.

:class:`KioskApp` then runs one journey at a time: the customer picks a service, the factory builds the
journey, a :class:`~ui.journey_runner.JourneyRunner` shows its views as screens, forwards the screens'
actions and the devices' events to it, and when it ends shows its final message (``Outcome.data
["message"]``) or goes back to attract. The idle timeout during a journey is an event the journey handles
(a card in the reader is returned first), not a silent reset.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from app.composition import DeviceSet
from app.services import TerminalServices
from devices.base import DeviceEvent
from hostlink import api
from kiosk.journal import SessionJournal
from kiosk.journeys.core import Event, Journey, Outcome, View
from ui.app import KioskWindow
from ui.journey_runner import JourneyRunner, Spawn
from ui.ops import run_in_background
from ui.screens.base import Screen

log = logging.getLogger(__name__)

REGISTRATION_PACKAGES: tuple[str, ...] = ("ui.journeys",)

ScreenFactory = Callable[[str], Screen]  # lang → screen; a Screen subclass is one


@dataclass(frozen=True)
class JourneyStart:
    """What a journey factory gets when the customer picks its service."""

    service: str
    lang: str
    session_id: str
    services: TerminalServices
    devices: DeviceSet
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Any:
        return self.services.settings


JourneyFactory = Callable[[JourneyStart], Journey]


@dataclass(frozen=True)
class JourneyRegistration:
    service: str
    factory: JourneyFactory
    screens: tuple[ScreenFactory, ...] = ()


JOURNEYS: dict[str, JourneyRegistration] = {}
SHARED_SCREENS: list[ScreenFactory] = []


def register_journey_factory(
    service: str, factory: JourneyFactory, screens: Sequence[ScreenFactory] = ()
) -> None:
    """``factory(start) → Journey`` runs when the customer picks ``service``; ``screens`` are its steps."""
    existing = JOURNEYS.get(service)
    if existing is not None and existing.factory is not factory:
        raise ValueError(f"two journeys registered for service {service!r}")
    JOURNEYS[service] = JourneyRegistration(service, factory, tuple(screens))


def register_screens(screens: Iterable[ScreenFactory]) -> None:
    """Screens used by more than one journey (services menu, enquiries, transfers, card return)."""
    for screen in screens:
        if screen not in SHARED_SCREENS:
            SHARED_SCREENS.append(screen)


def load_registrations() -> None:
    """Import every module of the registration packages (each registers itself at import)."""
    for package_name in REGISTRATION_PACKAGES:
        package = importlib.import_module(package_name)
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package_name}.{module.name}")


def _device_event(event: DeviceEvent) -> Event:
    """A driver event as a journey event: ``card_reader.card_inserted``, ``pin_pad.key_pressed`` ..."""
    return Event(f"{event.device}.{event.kind}", dict(event.data))


class KioskApp(QObject):
    """Runs the registered journeys in a :class:`KioskWindow` with real (or simulated) devices."""

    hostLinkChanged = Signal(bool)

    def __init__(
        self,
        window: KioskWindow,
        devices: DeviceSet,
        services: TerminalServices,
        *,
        spawn: Spawn | None = None,
        journey_context: Mapping[str, Any] | None = None,
    ) -> None:
        """``journey_context`` is merged into every journey's start context (tests shorten timeouts
        with ``{"session_config": {...}}``; the demo does too)."""
        super().__init__(window)
        self.journey_context = dict(journey_context or {})
        load_registrations()
        self.window = window
        self.devices = devices
        self.services = services
        services.attach_card_link(devices.pin_pad)
        self._spawn: Spawn = spawn or self._spawn_on_pool
        self.runner: JourneyRunner | None = None
        self.session_id: str | None = None
        self.outcomes: list[Outcome] = []
        self._screen_names: set[str] = set()
        self._add_screens()
        for service in JOURNEYS:
            window.register_journey(service, self._starter(service))
        for name, driver in devices.items():
            adapter = window.attach_device(name, driver)
            adapter.deviceEvent.connect(self._on_device_event)
        # The idle timeout ends a journey through the journey (card first), not by a silent reset.
        window.idle.timedOut.disconnect()
        window.idle.timedOut.connect(self._on_idle_timeout)
        # The host link is watched on its own thread; the window hears about it on the GUI thread.
        self.hostLinkChanged.connect(window.set_host_available, Qt.ConnectionType.QueuedConnection)
        link = getattr(services, "link", None)
        self._unsubscribe_link = link.subscribe(self.hostLinkChanged.emit) if link is not None else None
        if link is not None and link.up is False:
            window.set_host_available(False)

    # -- screens --------------------------------------------------------------------------------
    def _add_screens(self) -> None:
        factories: list[ScreenFactory] = list(SHARED_SCREENS)
        for registration in JOURNEYS.values():
            factories.extend(f for f in registration.screens if f not in factories)
        for make in factories:
            screen = make(self.window.lang)
            if screen.name in self._screen_names or screen.name in self.window.stack.names():
                screen.deleteLater()
                continue
            # Journey screens talk to the running journey only, never to the shell's navigation map.
            self.window.stack.add(screen)
            screen.action.connect(self._on_screen_action)
            self._screen_names.add(screen.name)

    def journey_screens(self) -> list[str]:
        return sorted(self._screen_names)

    # -- journeys ---------------------------------------------------------------------------------
    def _starter(self, service: str) -> Callable[[KioskWindow, Mapping[str, Any]], None]:
        def start(window: KioskWindow, context: Mapping[str, Any]) -> None:
            self.start_journey(service, context)

        return start

    def start_journey(self, service: str, context: Mapping[str, Any] | None = None) -> JourneyRunner:
        if self.runner is not None and self.runner.running:
            self.runner.abort("a new journey started")
        registration = JOURNEYS[service]
        session_id = self.services.new_session_id()
        start = JourneyStart(
            service,
            self.window.lang,
            session_id,
            self.services,
            self.devices,
            {**self.journey_context, **dict(context or {})},
        )
        journey = registration.factory(start)
        self.session_id = session_id
        self.services.journal.record("session_started", session_id=session_id, service=service)
        runner = JourneyRunner(
            journey,
            show=self._show,
            devices=self.devices,
            services=self.services,
            spawn=self._spawn,
            journal=SessionJournal(self.services.journal, session_id),
            parent=self,
        )
        runner.finished.connect(self._on_finished)
        self.runner = runner
        runner.start()
        return runner

    def _show(self, view: View) -> None:
        if view.screen not in self._screen_names and view.screen not in self.window.stack.names():
            log.error("journey asked for unknown screen %s", view.screen)
            return
        if view.screen == self.window.current_state():
            screen = self.window.stack.screen(view.screen)
            screen.on_enter(view.data)  # same screen, new data (a PIN digit, the next page)
            return
        self.window.show_state(view.screen, view.data)

    def _on_screen_action(self, action: str, payload: object) -> None:
        runner = self.runner
        if runner is None or not runner.running:
            log.debug("screen action %s with no journey running", action)
            return
        data = (
            dict(payload) if isinstance(payload, Mapping) else ({} if payload is None else {"value": payload})
        )
        runner.ui(action, **data)

    def _on_device_event(self, event: DeviceEvent) -> None:
        if self.runner is not None and self.runner.running:
            self.runner.post(_device_event(event))

    def _on_idle_timeout(self) -> None:
        if self.runner is not None and self.runner.running:
            self.runner.post(Event("session.timeout"))
        else:
            self.window.end_session("idle")

    def _on_finished(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.services.journal.record("session_ended", session_id=self.session_id, outcome=outcome.status)
        message = outcome.data.get("message")
        if isinstance(message, Mapping):
            self.window.show_message(
                str(message.get("kind", "info")),
                title_key=message.get("title_key"),
                body_key=message.get("body_key"),
                params=message.get("params"),
                button_key=str(message.get("button_key", "common.ok")),
                next_state="attract",
                countdown_s=message.get("countdown_s", 15),
            )
        else:
            self.window.end_session(outcome.status)

    def _spawn_on_pool(self, fn: Callable[[], Any], finished: Callable[[bool, Any], None]) -> None:
        """Bank, HSM and database work off the GUI thread, with the busy spinner after a second."""
        run_in_background(
            self.window,
            fn,
            lambda value: finished(True, value),
            lambda exc: finished(False, exc),
            busy=self.window.busy,
            registry=self.window.ops,
        )

    def shutdown(self) -> None:
        if self._unsubscribe_link is not None:
            self._unsubscribe_link()
            self._unsubscribe_link = None
        if self.runner is not None and self.runner.running:
            self.runner.abort("shutdown")


# -- the running kiosk ---------------------------------------------------------------------------------
@dataclass
class BackOffice:
    """What runs beside the customer journeys: maintenance mode, the security monitor, accessibility."""

    maintenance: Any
    monitor: Any
    follower: Any
    accessibility: Any

    def close(self) -> None:
        self.follower.close()


def install_back_office(
    window: KioskWindow, kiosk: KioskApp, devices: DeviceSet, services: TerminalServices
) -> BackOffice:
    """Maintenance mode (with the loan review queue and the security page), the live security monitor
    fed by the journal and the drivers' events, and the accessibility modes."""
    from kiosk.maintenance.host_loans import HostLoanReview
    from kiosk.maintenance.host_techs import HostTechnicians
    from kiosk.monitoring.monitor import JournalFollower, SecurityMonitor
    from ui.accessibility import install_accessibility
    from ui.maintenance import install_maintenance
    from ui.maintenance.loan_review import install_loan_review
    from ui.maintenance.security_page import install_security_monitor

    settings = services.settings

    def new_key() -> str:
        return api.new_idempotency_key("MAINT")

    techs = HostTechnicians(services.host, idle_minutes=settings.security.tech_idle_minutes, new_key=new_key)
    maintenance = install_maintenance(window, devices, settings, techs, journal=services.journal)
    install_loan_review(maintenance, HostLoanReview(services.host, new_key))
    monitor = SecurityMonitor(journal=services.journal, kiosk_id=settings.kiosk_id)
    install_security_monitor(maintenance, monitor)
    follower = JournalFollower(services.journal.path, monitor.observe_journal)
    follower.start()
    for name, _driver in devices.items():
        adapter = window.adapter(name)
        if adapter is not None:
            adapter.deviceEvent.connect(monitor.observe_device_event)
    accessibility = install_accessibility(window, kiosk)
    return BackOffice(maintenance, monitor, follower, accessibility)
