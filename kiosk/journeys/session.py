"""A logged-in customer's session and the services menu every login ends in.

Card + PIN (:mod:`kiosk.journeys.card_login`) and face login (:mod:`kiosk.journeys.face_login`) both
end by starting :class:`ServicesMenu` as a child with a :class:`CustomerSession`: balance,
mini-statement, history, transfers, then "anything else?" until the customer is done. The services
menu never touches the card; its parent decides what "done" means (return the card, or simply thank
the customer).

Outcomes the menu ends with (its parent reads ``status``):
``completed`` (the customer said they were done), ``timeout`` (idle), ``cancelled``, ``retain`` (a PIN
re-entry or a PIN change used the last try: capture the card; ``data["retain_reason"]``, when there, is
the retain receipt's reason key), ``failed`` (a device or the bank failed; ``data["message"]`` says what
to show).
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kiosk.journeys.core import NOTHING, Event, Journey, Outcome, Step

DEFAULT_TRANSFER_MAX_MINOR = 5_000_000  # ¥50,000.00 per transfer at a kiosk (the daily limit is the bank's)


@dataclass(frozen=True)
class SessionConfig:
    """The settings a session's journeys need, as plain values (built from kiosk.settings)."""

    currency: str = "CNY"
    pin_reentry_threshold_minor: int = 500_000
    transfer_max_minor: int = DEFAULT_TRANSFER_MAX_MINOR
    other_bank_fee_minor: int = 200
    own_bank_code: str = "888"
    pin_timeout_s: float = 30.0
    card_insert_timeout_s: float = 30.0
    take_card_timeout_s: float = 30.0
    take_card_warning_s: float = 10.0
    history_page_size: int = 8
    kiosk_id: str = "KIOSK-0001"
    bank_name: str = "Smart Teller Bank"

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> SessionConfig:
        journeys = settings.journeys
        values: dict[str, Any] = {
            "currency": settings.currency,
            "pin_reentry_threshold_minor": journeys.pin_reentry_threshold_minor,
            "transfer_max_minor": journeys.transfer_max_minor,
            "take_card_timeout_s": float(journeys.take_card_timeout_s),
            "take_card_warning_s": float(journeys.take_card_warning_s),
            "kiosk_id": settings.kiosk_id,
            "bank_name": settings.bank_name,
        }
        values.update(overrides)
        return cls(**values)


@dataclass
class CustomerSession:
    """Who is logged in. The PAN lives here for the session only (memory, never in a view or log)."""

    session_id: str
    customer_id: int
    account_id: int
    account_masked: str
    lang: str = "en"
    auth: str = "card"  # "card" or "face"
    pan: str = field(default="", repr=False)
    pan_masked: str = ""
    printer_ok: bool = True
    today: date = field(default_factory=date.today)  # the bank day the session started on

    @property
    def has_card(self) -> bool:
        return bool(self.pan)


class SessionJourney(Journey):
    """Base for session steps: the idle timeout (``session.timeout``) reaches the innermost journey."""

    def handle(self, event: Event) -> Step:
        if event.kind == "session.timeout" and self.outcome is None and self.child is None:
            return self._remember(self.on_timeout())
        return super().handle(event)

    def on_timeout(self) -> Step:
        return self.finish("timeout")

    def notice(
        self,
        kind: str,
        title_key: str,
        body_key: str = "",
        *,
        buttons: tuple[str, ...] = ("ok",),
        **params: Any,
    ) -> Step:
        """An in-journey message with buttons (``ui.<button>`` comes back in state ``notice``)."""
        return self.go(
            "notice",
            "notice",
            kind=kind,
            title_key=title_key,
            body_key=body_key,
            params=params,
            buttons=list(buttons),
        )


def printer_ok_from(event: Event) -> bool:
    value = event.value if isinstance(event.value, Mapping) else {}
    return bool(event.ok and value.get("ready", False))


LoggedInFactory = Callable[[CustomerSession, SessionConfig], Journey]


@dataclass(frozen=True)
class LoggedInService:
    action: str
    factory: LoggedInFactory
    label_key: str
    order: int = 100
    card_only: bool = False  # needs the card in the reader (a PIN change): not offered after face login


_LOGGED_IN: dict[str, LoggedInService] = {}
_CORE_ACTIONS = frozenset({"balance", "mini_statement", "history", "transfer", "finish"})


def register_logged_in_service(
    action: str, factory: LoggedInFactory, *, label_key: str, order: int = 100, card_only: bool = False
) -> None:
    """Offer ``factory(session, config)`` in the services menu as ``ui.<action>`` (one button);
    ``card_only``: only in sessions with a card (card + PIN), never after a face login."""
    if action in _CORE_ACTIONS:
        raise ValueError(f"{action!r} is a built-in service")
    existing = _LOGGED_IN.get(action)
    if existing is not None and existing.factory is not factory:
        raise ValueError(f"two journeys registered for {action!r}")
    _LOGGED_IN[action] = LoggedInService(action, factory, label_key, order, card_only)


@functools.cache
def _import_journey_modules() -> None:
    package = importlib.import_module(__package__ or "kiosk.journeys")
    for module in pkgutil.iter_modules(package.__path__, f"{package.__name__}."):
        importlib.import_module(module.name)


def logged_in_services() -> list[LoggedInService]:
    """Every extra service, in menu order (importing the journey modules the first time: a module offers
    a service by calling :func:`register_logged_in_service` when it is imported, so a new service needs
    no list kept by hand)."""
    _import_journey_modules()
    return sorted(_LOGGED_IN.values(), key=lambda service: (service.order, service.action))


class ServicesMenu(SessionJourney):
    name = "services"

    def __init__(self, session: CustomerSession, config: SessionConfig) -> None:
        super().__init__()
        self.session = session
        self.config = config

    def _offered(self) -> list[LoggedInService]:
        return [s for s in logged_in_services() if self.session.has_card or not s.card_only]

    def _menu(self) -> Step:
        return self.go(
            "services_menu",
            account=self.session.account_masked,
            card=self.session.pan_masked,
            auth=self.session.auth,
            printer_ok=self.session.printer_ok,
            extra=[{"action": s.action, "label_key": s.label_key} for s in self._offered()],
        )

    def on_start(self) -> Step:
        return self._menu().then(self.run("printer.status"))

    def handle(self, event: Event) -> Step:
        # The printer check may answer while a child runs: it only updates the session.
        if event.kind == "printer.status.done" and event.effect_id in self._awaiting:
            self._awaiting.pop(event.effect_id)
            self.session.printer_ok = printer_ok_from(event)
            if self.child is None and self.state == "services_menu":
                return self._remember(self.stay(printer_ok=self.session.printer_ok))
            return NOTHING
        return super().handle(event)

    def on_services_menu(self, event: Event) -> Step:
        from kiosk.journeys.enquiry import Enquiry
        from kiosk.journeys.transfer import Transfer

        if event.kind in ("ui.balance", "ui.mini_statement", "ui.history"):
            return self.start_child(Enquiry(self.session, self.config, event.kind[3:]))
        if event.kind == "ui.transfer":
            return self.start_child(Transfer(self.session, self.config))
        extra = {f"ui.{service.action}": service for service in self._offered()}
        if event.kind in extra:
            return self.start_child(extra[event.kind].factory(self.session, self.config))
        if event.kind == "ui.finish":
            return self.finish("completed")
        return NOTHING

    def on_child_done(self, child: Journey, outcome: Outcome) -> Step:
        if outcome.status == "completed":
            return self.go("anything_else")
        if outcome.status == "cancelled":
            return self._menu()
        return self.finish(outcome.status, **outcome.data)

    def on_anything_else(self, event: Event) -> Step:
        if event.kind == "ui.yes":
            return self._menu()
        if event.kind == "ui.no":
            return self.finish("completed")
        return NOTHING

    def cancel(self) -> Step:
        # Cancel on the menu itself means "I am done", the same as Finish.
        return self.finish("completed")
