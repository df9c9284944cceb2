"""Crash recovery at start, as the kiosk and the demo run it (Qt-free, so headless runners share it).

Order matters: first every suspect intent the journal holds is resolved (transfers settled by their
idempotency key, cards in the reader captured, receipts marked unknown, a card being dispensed captured),
then every card still held by a device is captured and journaled (a crash between two journaled steps
leaves a card with no open intent). Only after that may a journey start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kiosk.journal.recovery import (
    CardReaderPort,
    RecoveryReport,
    default_resolvers,
    describe,
    recover,
    sweep_cards,
)

if TYPE_CHECKING:
    from app.composition import DeviceSet
    from app.services import TerminalServices
    from devices.card_dispenser.interface import CardDispenser
    from devices.card_reader.interface import CardReader

log = logging.getLogger(__name__)


def _wait_online(driver: Any, connect_wait_s: float) -> Any | None:
    """The driver's status once its link is up (drivers connect on their I/O thread), or None."""
    deadline = time.monotonic() + connect_wait_s
    while True:
        status = driver.status()
        if str(status.state) != "offline":
            return status
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.05)


class ReaderRecoveryPort:
    """The card reader as crash recovery needs it, over the driver (waits briefly for the link).

    With ``draw_in_s`` (set when the kiosk died mid-session) a card the reader does not report is looked
    for at the shutter too: a customer's card held at the closed shutter when the kiosk died is invisible
    to the reader's status, and the first shutter opening of the next session would draw it in as if the
    next customer had inserted it. The shutter is opened for ``draw_in_s``; a card drawn in is then
    captured like any other card found at start.
    """

    def __init__(
        self, reader: CardReader, connect_wait_s: float = 3.0, draw_in_s: float | None = None
    ) -> None:
        self._reader = reader
        self._connect_wait_s = connect_wait_s
        self.draw_in_s = draw_in_s
        self.drawn_in = 0  # cards drawn in from the shutter by this recovery

    def card_present(self) -> bool:
        status = _wait_online(self._reader, self._connect_wait_s)
        if status is None:
            return False
        if status.detail.get("media") in ("inside", "at_gate"):
            return True
        if self.draw_in_s is None:
            return False
        drawn = self._reader.wait_for_card(self.draw_in_s).result(timeout=self.draw_in_s + 10.0)
        if drawn.ok:
            self.drawn_in += 1
            log.warning("a card held at the closed shutter was drawn in at start")
        return bool(drawn.ok)

    def capture_card(self) -> bool:
        return bool(self._reader.capture().result(timeout=10.0).ok)


class DispenserRecoveryPort:
    """The card dispenser: a card at the encoder or the gate after a crash goes to the reject bin."""

    def __init__(self, dispenser: CardDispenser, connect_wait_s: float = 3.0) -> None:
        self._dispenser = dispenser
        self._connect_wait_s = connect_wait_s

    def card_present(self) -> bool:
        status = _wait_online(self._dispenser, self._connect_wait_s)
        return status is not None and status.detail.get("position") in ("encoder", "gate")

    def capture_card(self) -> bool:
        return bool(self._dispenser.capture().result(timeout=10.0).ok)

    def mark_for_capture(self, fields: Mapping[str, Any]) -> str:
        """``dispense_card`` suspect: the new card never reached the customer's hand as far as we know."""
        if not self.card_present():
            return "no_card_in_dispenser"
        return "card_captured" if self.capture_card() else "capture_failed"


# How long the reader's shutter is opened at start after a crash mid-session, for a card held there: a
# motorised reader draws a card past its entrance sensor in well under this.
DRAW_IN_S = 0.5


# Journal events that close an account opening: after one of them the opening is no longer in flight.
OPENING_CLOSED = frozenset(
    {"card_issued", "card_activation_failed", "account_opening_voided", "account_opening_void_refused"}
)


def void_unfinished_openings(services: TerminalServices) -> dict[int, str]:
    """Openings this kiosk journaled as ``account_opened`` but never closed (the process died before the
    card was issued): the host deletes them, since no card reached a customer. The host refuses one whose
    card was activated or whose account has a posting, so a finished opening is never undone.
    """
    from hostlink import api

    opened: dict[int, tuple[int, int | None]] = {}  # card id → (customer id, account id)
    for record in services.journal.records():
        card_id = record.fields.get("card_id")
        if record.event == "account_opened" and isinstance(card_id, int):
            account_id = record.fields.get("account_id")
            opened[card_id] = (
                int(record.fields.get("customer_id", 0)),
                account_id if isinstance(account_id, int) else None,
            )
        elif record.event in OPENING_CLOSED and isinstance(card_id, int):
            opened.pop(card_id, None)
    results: dict[int, str] = {}
    for card_id, (customer_id, account_id) in opened.items():
        order = api.OpeningVoid(
            customer_id=customer_id, account_id=account_id, card_id=card_id, reason="crash_recovery"
        )
        voided = services.host.void_opening(order, f"recovery:void:{card_id}").voided
        event = "account_opening_voided" if voided else "account_opening_void_refused"
        services.journal.record(event, customer_id=customer_id, card_id=card_id, reason="crash_recovery")
        results[card_id] = event
        log.warning("unfinished account opening (card %s) at start: %s", card_id, event)
    return results


def interrupted_sessions(services: TerminalServices) -> list[str]:
    """Sessions the journal shows started and never ended: the kiosk died in front of a customer."""
    unended: dict[str, None] = {}
    for record in services.journal.records():
        if record.session_id is None:
            continue
        if record.event == "session_started":
            unended[record.session_id] = None
        elif record.event == "session_ended":
            unended.pop(record.session_id, None)
    return list(unended)


@dataclass
class StartupRecovery:
    report: RecoveryReport
    swept: dict[str, str] = field(default_factory=dict)
    openings: dict[int, str] = field(default_factory=dict)
    interrupted: list[str] = field(default_factory=list)  # sessions closed as interrupted
    drawn_in: int = 0  # cards drawn in from the reader's shutter (and captured)

    @property
    def cards_captured(self) -> int:
        return self.report.cards_captured + sum(1 for r in self.swept.values() if r == "card_captured")


def recover_at_start(
    services: TerminalServices,
    devices: DeviceSet,
    *,
    connect_wait_s: float = 3.0,
    draw_in_s: float = DRAW_IN_S,
) -> StartupRecovery:
    """Resolve what a crash left open (transfers, cards, receipts), then capture any card still held.

    A session the kiosk never ended (it died mid-visit) is journaled as ended ``interrupted`` at the end,
    after the reader's shutter was opened for ``draw_in_s`` to take in a card held there.
    """
    services.attach_card_link(devices.pin_pad)
    interrupted = interrupted_sessions(services)
    ports: dict[str, CardReaderPort] = {}
    reader = devices.card_reader
    reader_port = (
        ReaderRecoveryPort(reader, connect_wait_s, draw_in_s if interrupted else None)
        if reader is not None
        else None
    )
    if reader_port is not None:
        ports["card_reader"] = reader_port
    dispenser = devices.card_dispenser
    dispenser_port = DispenserRecoveryPort(dispenser, connect_wait_s) if dispenser is not None else None
    if dispenser_port is not None:
        ports["card_dispenser"] = dispenser_port
    resolvers = default_resolvers(
        settle_transfer=services.settle_transfer,
        card_reader=reader_port,
        mark_card_for_capture=dispenser_port.mark_for_capture if dispenser_port is not None else None,
    )
    report = recover(services.journal, resolvers)
    for line in describe(report.suspects):
        log.warning("recovered after a crash: %s", line)
    swept = sweep_cards(services.journal, ports)
    for name, result in swept.items():
        log.warning("card found in the %s at start: %s", name, result)
    # After the dispenser's card went to the reject bin: an opening whose card never left is undone.
    openings = void_unfinished_openings(services)
    for session_id in interrupted:
        services.journal.record("session_ended", session_id=session_id, outcome="interrupted")
    drawn_in = reader_port.drawn_in if reader_port is not None else 0
    return StartupRecovery(report, swept, openings, interrupted, drawn_in)
