"""Crash evidence: on start, every intent without an outcome is a *suspect*, resolved and journaled.

The journal writes an intent before each hardware action or money movement and its outcome after, so a
process that died in between leaves an open intent. At the next start :func:`recover` lists them and hands
each to the resolver registered for its event type. Resolvers reach the bank and the hardware only through
the small ports below, which the composition root (``ui/``) fills with real adapters; ``kiosk`` never
imports a device driver.

Every resolution is journaled as an outcome of the suspect intent (event ``suspect_resolved``), so the
dispute team sees the intent, the crash and what was done about it. A resolver that fails leaves the
intent open (it is tried again next start) and journals ``suspect_resolution_failed``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk.journal.journal import Journal, Suspect

log = logging.getLogger(__name__)

RESOLVED_EVENT = "suspect_resolved"


@dataclass(frozen=True)
class Resolution:
    """What was done about one suspect: ``result`` is a short code, ``fields`` go into the journal."""

    result: str
    fields: Mapping[str, Any] = field(default_factory=dict)


class SuspectResolver(Protocol):
    def resolve(self, suspect: Suspect) -> Resolution: ...


class CardReaderPort(Protocol):
    """The card reader as recovery needs it (the driver adapter satisfies this structurally)."""

    def card_present(self) -> bool: ...

    def capture_card(self) -> bool: ...


# The bank side of an in-flight transfer: confirm (post) or void the pending transfer named by its
# reference; returns "confirmed" or "voided".
SettleTransfer = Callable[[str], str]
# The bank side of a card that was being dispensed: flag the new card record so it is never used and the
# dispenser captures it; returns a short result such as "marked_for_capture".
MarkCardForCapture = Callable[[Mapping[str, Any]], str]


class TransferResolver:
    """``transfer``: a transfer in flight is confirmed or voided by the bank through ``settle``."""

    def __init__(self, settle: SettleTransfer) -> None:
        self._settle = settle

    def resolve(self, suspect: Suspect) -> Resolution:
        reference = suspect.fields.get("transfer_id") or suspect.fields.get("idempotency_key")
        if not reference:
            return Resolution("manual_review", {"reason": "intent names no transfer_id / idempotency_key"})
        return Resolution(self._settle(str(reference)), {"transfer_id": str(reference)})


class CardInReaderResolver:
    """Card reader actions (eject, capture, read): a card left in the reader is captured and counted."""

    def __init__(self, reader: CardReaderPort) -> None:
        self._reader = reader
        self.captured = 0

    def resolve(self, suspect: Suspect) -> Resolution:
        if not self._reader.card_present():
            return Resolution("no_card_in_reader")
        if not self._reader.capture_card():
            return Resolution(
                "capture_failed", {"action": "card left in reader; take the kiosk out of service"}
            )
        self.captured += 1
        return Resolution("card_captured", {"captured_this_start": self.captured})


class DispenseCardResolver:
    """``dispense_card``: the new card may be at the gate or in the encoder; mark it to be captured."""

    def __init__(self, mark_for_capture: MarkCardForCapture) -> None:
        self._mark = mark_for_capture

    def resolve(self, suspect: Suspect) -> Resolution:
        return Resolution(self._mark(suspect.fields))


class PrintResolver:
    """``print``: nobody knows whether the receipt came out; say so, so a dispute is not settled on it."""

    def resolve(self, suspect: Suspect) -> Resolution:
        return Resolution("receipt_unknown")


@dataclass
class RecoveryReport:
    suspects: list[Suspect]
    resolved: list[tuple[Suspect, Resolution]] = field(default_factory=list)
    failed: list[tuple[Suspect, str]] = field(default_factory=list)

    @property
    def cards_captured(self) -> int:
        return sum(1 for _, resolution in self.resolved if resolution.result == "card_captured")


CARD_READER_EVENTS = ("card_eject", "card_capture", "card_read", "card_accept")
DISPENSER_EVENTS = ("dispense_card", "dispense_card_capture")


def default_resolvers(
    *,
    settle_transfer: SettleTransfer | None = None,
    card_reader: CardReaderPort | None = None,
    mark_card_for_capture: MarkCardForCapture | None = None,
) -> dict[str, SuspectResolver]:
    """The standard event → resolver map for whichever ports the composition root can give."""
    resolvers: dict[str, SuspectResolver] = {"print": PrintResolver()}
    if settle_transfer is not None:
        resolvers["transfer"] = TransferResolver(settle_transfer)
    if card_reader is not None:
        card = CardInReaderResolver(card_reader)
        for event in CARD_READER_EVENTS:
            resolvers[event] = card
    if mark_card_for_capture is not None:
        # A crash mid-dispense, or while a new card left at the gate was being captured: either way the
        # card in the dispenser (encoder or gate) goes to the reject bin.
        dispensed = DispenseCardResolver(mark_card_for_capture)
        for event in DISPENSER_EVENTS:
            resolvers[event] = dispensed
    return resolvers


def recover(journal: Journal, resolvers: Mapping[str, SuspectResolver]) -> RecoveryReport:
    """Repair a torn tail, then list the suspects and resolve each; every step is journaled. Call once at
    start, before journeys."""
    journal.repair()
    report = RecoveryReport(journal.suspects())
    if not report.suspects:
        return report
    journal.record("recovery_started", suspects=[_summary(s) for s in report.suspects])
    for suspect in report.suspects:
        resolver = resolvers.get(suspect.event)
        if resolver is None:
            resolution = Resolution("manual_review", {"reason": f"no resolver for {suspect.event!r}"})
        else:
            try:
                resolution = resolver.resolve(suspect)
            except Exception as exc:  # a resolver's failure must not stop the others or the start
                reason = f"{type(exc).__name__}: {exc}"
                log.exception("resolving suspect intent %d (%s) failed", suspect.intent_seq, suspect.event)
                journal.record(
                    "suspect_resolution_failed",
                    session_id=suspect.session_id,
                    intent=suspect.intent_seq,
                    suspect_event=suspect.event,
                    error=reason,
                )
                report.failed.append((suspect, reason))
                continue
        journal.outcome(
            suspect.intent_seq,
            resolution.result,
            event=RESOLVED_EVENT,
            suspect_event=suspect.event,
            **dict(resolution.fields),
        )
        report.resolved.append((suspect, resolution))
    journal.record(
        "recovery_finished",
        resolved=len(report.resolved),
        failed=len(report.failed),
        cards_captured=report.cards_captured,
    )
    return report


SWEEP_EVENT = "card_found_at_start"


def sweep_cards(journal: Journal, devices: Mapping[str, CardReaderPort], **fields: str) -> dict[str, str]:
    """Capture a card still held by a device after the suspects are resolved, and journal it.

    A crash *between* two journaled steps leaves a card with no open intent: one waiting for its PIN in
    the reader, one whose eject timed out just before the capture was journaled, a new card the dispenser
    held when the kiosk died. Nobody is in front of the kiosk to take it after a restart, so every card
    found at start goes to the retain bin and is counted, as an ATM does on power-up. ``fields`` go into
    each record (``run="earlier"`` when the demo sweeps a killed run's simulators).
    """
    results: dict[str, str] = {}
    for name, port in devices.items():
        try:
            if not port.card_present():
                continue
            result = "card_captured" if port.capture_card() else "capture_failed"
        except Exception as exc:  # one device's failure must not stop the others or the start
            log.exception("sweeping the %s at start failed", name)
            result = f"sweep_failed: {type(exc).__name__}"
        results[name] = result
        journal.record(SWEEP_EVENT, device=name, result=result, **fields)
    return results


def _summary(suspect: Suspect) -> dict[str, Any]:
    return {"intent": suspect.intent_seq, "event": suspect.event, "ts": suspect.ts}


def describe(suspects: Iterable[Suspect]) -> list[str]:
    """One line per suspect, for the start-up log and the maintenance screen."""
    return [f"#{s.intent_seq} {s.event} at {s.ts} (session {s.session_id or '-'})" for s in suspects]
