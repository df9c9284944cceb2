"""Runs a Qt-free journey on the GUI: shows its views, carries out its effects, feeds it events.

Every event reaches the journey on the GUI thread (device callbacks and background results are queued
through a signal), so a journey is only ever touched by one thread. Hardware effects listed in
:data:`JOURNALED` are journaled as an intent before they start and an outcome after, so a crash in between
leaves evidence that the next start resolves. Only the fields a journey put under ``params["journal"]``
are written: never a PIN block, never a full PAN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, Qt, Signal, Slot

from kiosk.journeys.core import Effect, Event, Journey, Outcome, Step, View
from ui.effects import HANDLERS, EffectContext, load_all

log = logging.getLogger(__name__)

# Hardware actions and money movements whose intent is written before and outcome after (design brief,
# section 6), under the event names crash recovery (kiosk.journal.recovery) resolves.
JOURNAL_EVENTS: dict[str, str] = {
    "card_reader.eject": "card_eject",
    "card_reader.capture": "card_capture",
    "card_dispenser.dispense": "dispense_card",
    "card_dispenser.capture": "dispense_card_capture",
    "printer.print": "print",
    "bank.transfer": "transfer",
}
JOURNALED = frozenset(JOURNAL_EVENTS)

Spawn = Callable[[Callable[[], Any], Callable[[bool, Any], None]], None]


class JournalPort(Protocol):
    def intent(self, event: str, **fields: Any) -> int: ...

    def outcome(self, intent_id: int, result: str, **fields: Any) -> int: ...


class JourneyRunner(QObject):
    finished = Signal(object)  # Outcome
    viewChanged = Signal(object)  # View
    _deliver = Signal(object)  # Event, from any thread to the GUI thread

    def __init__(
        self,
        journey: Journey,
        *,
        show: Callable[[View], None],
        devices: Any,
        services: Any,
        spawn: Spawn,
        journal: JournalPort | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        load_all()
        self.journey = journey
        self._show = show
        self._devices = devices
        self._services = services
        self._spawn = spawn
        self._journal = journal
        self._live: dict[int, EffectContext] = {}
        self._intents: dict[int, int] = {}
        self._ended = False
        self.views: list[View] = []
        self._deliver.connect(self._on_event, Qt.ConnectionType.QueuedConnection)

    # -- driving ----------------------------------------------------------------------------
    def start(self) -> None:
        self._apply(self.journey.start())

    def post(self, event: Event) -> None:
        """Deliver ``event`` to the journey (safe from any thread)."""
        self._deliver.emit(event)

    def ui(self, action: str, **data: Any) -> None:
        """A screen action, from the GUI thread."""
        self.post(Event.ui(action, **data))

    @property
    def running(self) -> bool:
        return not self._ended

    def abort(self, reason: str = "aborted") -> None:
        """Stop at once (shutdown): cancel every live effect; no outcome is signalled."""
        self._ended = True
        for ctx in list(self._live.values()):
            ctx.cancel()
        self._live.clear()
        log.info("journey %s aborted: %s", self.journey.name, reason)

    @Slot(object)
    def _on_event(self, event: Event) -> None:
        if self._ended:
            return
        if event.effect_id is not None:
            self._effect_ended(event)
        self._apply(self.journey.handle(event))

    # -- steps and effects ------------------------------------------------------------------
    def _apply(self, step: Step) -> None:
        if step.view is not None:
            self.views.append(step.view)
            self._show(step.view)
            self.viewChanged.emit(step.view)
        for effect in step.effects:
            self._dispatch(effect)
        self._cancel_abandoned()
        if step.outcome is not None:
            self._end(step.outcome)

    def _dispatch(self, effect: Effect) -> None:
        ctx = EffectContext(effect, self._devices, self._services, self.post, self._spawn)
        fn = HANDLERS.get(effect.kind)
        if fn is None:
            log.error("no handler for effect %s", effect.kind)
            ctx.done(False, code="unsupported", detail=f"no handler for {effect.kind}")
            return
        if effect.kind in JOURNALED and self._journal is not None:
            fields = dict(effect.params.get("journal", {}))
            self._intents[effect.id] = self._journal.intent(JOURNAL_EVENTS[effect.kind], **fields)
        self._live[effect.id] = ctx
        try:
            fn(ctx)
        except Exception as exc:
            log.exception("effect %s failed to start", effect.kind)
            ctx.done(False, code="hardware_error", detail=str(exc))

    def _effect_ended(self, event: Event) -> None:
        assert event.effect_id is not None
        self._live.pop(event.effect_id, None)
        intent = self._intents.pop(event.effect_id, None)
        if intent is not None and self._journal is not None:
            # An effect that ended ok may still say how (a transfer "posted", "pending" or "refused").
            result = event.code or ("success" if event.ok else "failed")
            self._journal.outcome(intent, result, detail=str(event.data.get("detail", ""))[:200])

    def _cancel_abandoned(self) -> None:
        """Effects the journey no longer waits for (it moved on or was cancelled) are cancelled."""
        for effect_id, ctx in list(self._live.items()):
            if not self.journey.is_awaiting(effect_id) and ctx.effect.kind not in JOURNALED:
                ctx.cancel()
                self._live.pop(effect_id, None)

    def _end(self, outcome: Outcome) -> None:
        if self._ended:
            return
        self._ended = True
        log.info("journey %s ended: %s", self.journey.name, outcome.status)
        self.finished.emit(outcome)
