"""Journeys without Qt: the same effect handlers, journaling and cancellation as the touchscreen.

:class:`HeadlessRunner` is the Qt-free twin of :class:`ui.journey_runner.JourneyRunner`: both carry out,
journal and cancel effects with :class:`app.effects.dispatch.EffectDispatcher`; here background work runs
on a thread pool instead of ``QThreadPool``, and results come back through a queue instead of a queued
signal. The thread that calls
:meth:`HeadlessRunner.pump` plays the GUI thread: it is the only one that ever touches the journey.

:class:`HeadlessKiosk` is the kiosk around it (journal records per session, device events forwarded to
the running journey) and :class:`Customer` a scripted customer who reacts to what the screen shows and
uses the simulators through their control API. The crash-recovery harness (``tests/reliability/``) and the
RSS soak benchmark drive real journeys against real simulators with these, hundreds of times, without
paying for a window per run.
"""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.composition import DeviceSet
from app.effects.dispatch import EffectDispatcher, JournalPort, apply_step
from devices.base import DeviceEvent
from devices.simcontrol import ControlClient
from kiosk.journeys.core import Event, Journey, Outcome, Step, View

if TYPE_CHECKING:
    from app.services import TerminalServices

log = logging.getLogger(__name__)


class HeadlessTimeout(Exception):
    """A wait ran out (the message names what was awaited and what the screen showed)."""


class HeadlessRunner:
    """Runs one journey: shows nothing, records its views, carries out its effects, feeds it events."""

    def __init__(
        self,
        journey: Journey,
        *,
        devices: DeviceSet | None,
        services: Any,
        pool: ThreadPoolExecutor,
        journal: JournalPort | None = None,
    ) -> None:
        self.journey = journey
        self._pool = pool
        self._effects = EffectDispatcher(
            journey, devices=devices, services=services, post=self.post, spawn=self._spawn, journal=journal
        )
        self._events: queue.Queue[Event] = queue.Queue()
        self._ended = False
        self.views: list[View] = []
        self.outcome: Outcome | None = None

    # -- driving --------------------------------------------------------------------------------
    def start(self) -> None:
        self._apply(self.journey.start())

    def post(self, event: Event) -> None:
        """Deliver ``event`` to the journey (safe from any thread)."""
        self._events.put(event)

    def ui(self, action: str, **data: Any) -> None:
        self.post(Event.ui(action, **data))

    @property
    def running(self) -> bool:
        return not self._ended

    @property
    def view(self) -> View | None:
        return self.views[-1] if self.views else None

    def pump(self, timeout: float = 0.05) -> bool:
        """Handle every queued event, waiting up to ``timeout`` for the first; True if any was handled."""
        try:
            event = self._events.get(timeout=timeout)
        except queue.Empty:
            return False
        self._on_event(event)
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                return True
            self._on_event(event)

    def abort(self, reason: str = "aborted") -> None:
        self._ended = True
        self._effects.cancel_all()
        log.info("journey %s aborted: %s", self.journey.name, reason)

    # -- the same steps as JourneyRunner, without the screen ---------------------------------------
    def _spawn(self, fn: Callable[[], Any], finished: Callable[[bool, Any], None]) -> None:
        def work() -> None:
            try:
                value = fn()
            except Exception as exc:
                finished(False, exc)
            else:
                finished(True, value)

        self._pool.submit(work)

    def _on_event(self, event: Event) -> None:
        if self._ended:
            return
        if event.effect_id is not None:
            self._effects.ended(event)
        self._apply(self.journey.handle(event))

    def _apply(self, step: Step) -> None:
        apply_step(step, self._effects, show=self.views.append, end=self._end)

    def _end(self, outcome: Outcome) -> None:
        if not self._ended:
            self._ended = True
            self.outcome = outcome


JourneyBuilder = Callable[["HeadlessKiosk", str, str], Journey]


def _card_journey(kiosk: HeadlessKiosk, session_id: str, lang: str) -> Journey:
    from kiosk.journeys.card_login import CardJourney
    from kiosk.journeys.session import SessionConfig

    settings = kiosk.services.settings
    config = SessionConfig.from_settings(settings, **dict(kiosk.journey_context.get("session_config", {})))
    return CardJourney(
        session_id, lang, config, kiosk.services.today(), pin_tries=settings.security.pin_tries
    )


JOURNEYS: dict[str, JourneyBuilder] = {"insert_card": _card_journey}


class HeadlessKiosk:
    """The kiosk without a window: one journey at a time, journaled like :class:`ui.kiosk_app.KioskApp`."""

    def __init__(
        self,
        services: TerminalServices,
        devices: DeviceSet,
        *,
        journey_context: Mapping[str, Any] | None = None,
        workers: int = 4,
    ) -> None:
        self.services = services
        self.devices = devices
        services.attach_card_link(devices.pin_pad)
        self.journey_context = dict(journey_context or {})
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="headless-effect")
        self.runner: HeadlessRunner | None = None
        self.session_id: str | None = None
        self.outcomes: list[Outcome] = []
        self._unsubscribe = [driver.subscribe(self._on_device_event) for _, driver in devices.items()]

    def _on_device_event(self, event: DeviceEvent) -> None:
        runner = self.runner
        if runner is not None and runner.running:
            runner.post(Event(f"{event.device}.{event.kind}", dict(event.data)))

    def start_journey(self, service: str = "insert_card", lang: str = "en") -> HeadlessRunner:
        from kiosk.journal import SessionJournal

        if self.runner is not None and self.runner.running:
            self.runner.abort("a new journey started")
        session_id = self.services.new_session_id()
        journey = JOURNEYS[service](self, session_id, lang)
        self.session_id = session_id
        self.services.journal.record("session_started", session_id=session_id, service=service)
        self.runner = HeadlessRunner(
            journey,
            devices=self.devices,
            services=self.services,
            pool=self.pool,
            journal=SessionJournal(self.services.journal, session_id),
        )
        self.runner.start()
        return self.runner

    def pump(self, timeout: float = 0.02) -> None:
        runner = self.runner
        if runner is None:
            time.sleep(timeout)
            return
        was_running = runner.running
        runner.pump(timeout)
        if was_running and not runner.running and runner.outcome is not None:
            self.outcomes.append(runner.outcome)
            self.services.journal.record(
                "session_ended", session_id=self.session_id, outcome=runner.outcome.status
            )

    def run_until(self, predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                view = self.runner.view if self.runner is not None else None
                raise HeadlessTimeout(f"timed out waiting for {what} (view: {view.screen if view else None})")
            self.pump()

    def close(self) -> None:
        if self.runner is not None and self.runner.running:
            self.runner.abort("shutdown")
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.pool.shutdown(wait=True, cancel_futures=True)


# -- a scripted customer ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CardHolder:
    pan: str
    name: str
    expiry: str
    pin: str = field(repr=False)


# The simulated build's seed cards (bank/seed.py; test PINs from the README).
WANG_FANG = CardHolder("43219876543210987", "WANG/FANG", "3012", "1234")
LI_NA = CardHolder("6212340000001017", "LI/NA", "3106", "2468")
CHEN_JIE = CardHolder("6212340000003039", "CHEN/JIE", "3009", "8642")  # frozen current account
LI_NA_ACCOUNT = "0001100000010030"
WANG_FANG_ACCOUNT = "0001100000010014"
CHEN_JIE_ACCOUNT = "0001100000010071"


@dataclass(frozen=True)
class Errand:
    """One thing the customer does from the services menu."""

    service: str  # balance, mini_statement, history, transfer, bill_payment, change_pin
    print_receipt: bool = False
    transfer_kind: str = ""  # own, customer, other_bank
    amount: str = "1.00"
    payee: (
        tuple[str, str] | tuple[()]
    ) = ()  # (account, name) for a customer transfer; default: Li Na or Wang Fang
    # (biller code, customer number) of a bill payment; a top-up pays ``amount`` (one of its offers).
    bill: tuple[str, str] | tuple[()] = ()


@dataclass(frozen=True)
class Visit:
    """A customer's whole visit: the card, the PINs typed in order, the errands, and taking the card."""

    name: str
    card: CardHolder
    errands: tuple[Errand, ...] = ()
    pins: tuple[str, ...] = ()  # default: the right PIN every time it is asked
    take_card: bool = True


VISITS: dict[str, Visit] = {
    v.name: v
    for v in (
        Visit("balance_receipt", WANG_FANG, (Errand("balance", print_receipt=True),)),
        Visit(
            "enquiries",
            LI_NA,
            (Errand("mini_statement", print_receipt=True), Errand("history"), Errand("balance")),
        ),
        Visit("transfer_customer", WANG_FANG, (Errand("transfer", True, "customer", "12.34"),)),
        Visit("transfer_own", WANG_FANG, (Errand("transfer", False, "own", "3.21"),)),
        Visit("transfer_other_bank", LI_NA, (Errand("transfer", True, "other_bank", "5.00"),)),
        Visit("transfer_pin_reentry", LI_NA, (Errand("transfer", False, "own", "20.00"),)),
        Visit("wrong_pin_retained", CHEN_JIE, (), pins=("1111", "2222", "3333")),
        # Chen Jie's current account is frozen: the bank refuses after the customer confirmed.
        Visit(
            "transfer_refused",
            WANG_FANG,
            (Errand("transfer", False, "customer", "2.00", payee=(CHEN_JIE_ACCOUNT, "陈杰")),),
        ),
        Visit("card_not_taken", LI_NA, (Errand("balance"),), take_card=False),
    )
}


# For many visits on one data dir: short take-card and PIN clocks; PIN re-entry from ¥10.00 so that
# transfers exercise it without draining the seed accounts.
QUICK_SESSION: dict[str, Any] = {
    "take_card_timeout_s": 1.0,
    "take_card_warning_s": 0.5,
    "pin_timeout_s": 8.0,
    "card_insert_timeout_s": 8.0,
    "pin_reentry_threshold_minor": 1_000,
}


class Customer:
    """Reacts to each new view like a person at the kiosk, using the simulators' control API."""

    def __init__(self, kiosk: HeadlessKiosk, controls: Mapping[str, str]) -> None:
        self.kiosk = kiosk
        self.ctl = {name: ControlClient(address) for name, address in controls.items()}

    def visit(self, visit: Visit, *, lang: str = "en", timeout: float = 60.0) -> Outcome:
        runner = self.kiosk.start_journey("insert_card", lang)
        errands = list(visit.errands)
        pins = list(visit.pins)
        current: list[Errand] = []
        seen = 0
        deadline = time.monotonic() + timeout
        while runner.running:
            if time.monotonic() > deadline:
                view = runner.view
                raise HeadlessTimeout(f"visit {visit.name} stuck on {view.screen if view else None}")
            self.kiosk.pump()
            while seen < len(runner.views):
                previous = runner.views[seen - 1] if seen else None
                view = runner.views[seen]
                seen += 1
                same_screen = (
                    previous is not None
                    and previous.screen == view.screen
                    # A PIN change asks three times on one screen: a new title is a new question.
                    and previous.data.get("title_key") == view.data.get("title_key")
                )
                if same_screen and view.screen != "transfer_amount":
                    continue  # the same screen with new data (a PIN digit, a countdown)
                self._react(visit, view, errands, pins, current)
        assert runner.outcome is not None
        self.kiosk.pump(0)  # journal the session's end
        return runner.outcome

    def _react(
        self, visit: Visit, view: View, errands: list[Errand], pins: list[str], current: list[Errand]
    ) -> None:
        screen, data = view.screen, view.data
        errand = current[-1] if current else None
        if screen == "card_insert":
            self.ctl["card_reader"].call(
                "insert_card", pan=visit.card.pan, name=visit.card.name, expiry=visit.card.expiry
            )
        elif screen == "pin_entry":
            runner = self.kiosk.runner
            asked = runner.views[-1] if runner is not None and runner.views else view
            self._wait(
                lambda: (
                    self.ctl["pin_pad"].call("state").get("mode") == "pin"
                    or runner is None
                    or not runner.running
                    or runner.views[-1].screen != "pin_entry"
                    or runner.views[-1].data.get("title_key") != asked.data.get("title_key")
                ),
                "PIN entry on the pad",
            )
            if self.ctl["pin_pad"].call("state").get("mode") != "pin":
                return  # the journey moved on before the pad was ready (the bank could not be reached)
            pin = pins.pop(0) if pins else visit.card.pin
            self.ctl["pin_pad"].call("press_keys", keys=pin + "E")
        elif screen == "services_menu":
            if errands:
                current.append(errands.pop(0))
                self._ui(current[-1].service)
            else:
                self._ui("finish")
        elif screen in ("balance", "statement", "history"):
            wants = errand is not None and errand.print_receipt and bool(data.get("printer_ok", True))
            self._ui("print" if wants else "done")
        elif screen == "history_range":
            self._ui("range", days=30)
        elif screen == "anything_else":
            self._ui("yes" if errands else "no")
        elif screen == "transfer_kind":
            kind = errand.transfer_kind if errand is not None else "customer"
            if kind == "own" and not data.get("own_possible"):
                kind = "customer"
            self._ui("kind", value=kind)
        elif screen == "transfer_own_account":
            accounts = list(data.get("accounts", []))
            self._ui("account", value=int(accounts[0]["account_id"]))
        elif screen == "transfer_payee":
            if data.get("kind") == "other_bank":
                self._ui("payee", account="6222020200112233445", name="ZHAO LEI", bank_code="102")
            elif errand is not None and errand.payee:
                self._ui("payee", account=errand.payee[0], name=errand.payee[1])
            elif visit.card == LI_NA:
                self._ui("payee", account=WANG_FANG_ACCOUNT, name="王芳")
            else:
                self._ui("payee", account=LI_NA_ACCOUNT, name="李娜")
        elif screen == "transfer_amount":
            if data.get("error"):
                # Over a limit or the balance (many transfers on one data dir): give up this transfer.
                self._ui("cancel")
            elif not data.get("pin_pad_entry"):
                self._ui("amount", value=errand.amount if errand is not None else "1.00")
        elif screen in ("transfer_confirm", "billing_confirm"):
            self._ui("confirm")
        elif screen in ("transfer_result", "billing_result"):
            wants = errand is not None and errand.print_receipt and bool(data.get("printer_ok", True))
            self._ui("print" if wants else "done")
        elif screen == "billing_biller":
            self._ui("biller", value=errand.bill[0] if errand is not None and errand.bill else "PHONE")
        elif screen == "billing_account":
            if data.get("error"):
                self._ui("cancel")  # a number the biller does not know: give this payment up
            else:
                self._ui("number", value=errand.bill[1] if errand is not None and errand.bill else "")
        elif screen == "billing_topup":
            offers = [int(a) for a in data.get("amounts", [])]
            wanted = _minor(errand.amount) if errand is not None else 0
            self._ui("amount", value=wanted if wanted in offers else (offers[0] if offers else 0))
        elif screen == "billing_bill":
            self._ui("pay" if int(data.get("due_minor", 0)) > 0 else "cancel")  # nothing due: done
        elif screen == "notice":
            buttons = list(data.get("buttons", ["ok"]))
            self._ui(str(buttons[0]))
        elif screen == "card_take" and visit.take_card:
            self._wait(lambda: self._reader_media() == "at_gate", "the card at the gate")
            self.ctl["card_reader"].call("take_card")

    def _reader_media(self) -> str:
        return str(self.ctl["card_reader"].call("state").get("media"))

    def _ui(self, action: str, **data: Any) -> None:
        runner = self.kiosk.runner
        if runner is not None:
            runner.ui(action, **data)

    def _wait(self, predicate: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
        self.kiosk.run_until(predicate, what, timeout)


def _minor(amount: str) -> int:
    units, _, cents = amount.partition(".")
    return int(units) * 100 + int((cents + "00")[:2])


def visit_names() -> Sequence[str]:
    return sorted(VISITS)
