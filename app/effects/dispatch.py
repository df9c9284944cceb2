"""Carrying out a journey's effects, the part both runners share (Qt-free).

:class:`EffectDispatcher` hands each effect to its handler, journals the effects listed in
:data:`JOURNALED` (an intent before the handler starts, an outcome when the effect ends, so a crash in
between leaves evidence that the next start resolves) and cancels the effects a journey no longer waits
for. :class:`ui.journey_runner.JourneyRunner` (the touchscreen) and
:class:`app.headless_runner.HeadlessRunner` (the crash harness, the soak benchmark) differ only in how
events come back to the journey's thread.
Only the fields a journey put under ``params["journal"]`` are written: never a PIN block, never a full PAN.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from app.composition import DeviceSet
from app.effects import HANDLERS, EffectContext, load_all
from kiosk.journeys.core import Effect, Event, Journey, Outcome, Step, View

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

# Runs ``work`` off the journey's thread, then calls ``finished(ok, value_or_exception)``.
Spawn = Callable[[Callable[[], Any], Callable[[bool, Any], None]], None]


class JournalPort(Protocol):
    def intent(self, event: str, **fields: Any) -> int: ...

    def outcome(self, intent_id: int, result: str, **fields: Any) -> int: ...


class EffectDispatcher:
    """The live effects of one journey. Called only from the thread that drives the journey."""

    def __init__(
        self,
        journey: Journey,
        *,
        devices: DeviceSet | None,
        services: Any,
        post: Callable[[Event], None],
        spawn: Spawn,
        journal: JournalPort | None = None,
    ) -> None:
        load_all()
        self._journey = journey
        self._devices = devices
        self._services = services
        self._post = post
        self._spawn = spawn
        self._journal = journal
        self._live: dict[int, EffectContext] = {}
        self._intents: dict[int, int] = {}

    def dispatch(self, effect: Effect) -> None:
        """Start ``effect`` with its handler; a missing or failing handler ends it with an error event."""
        ctx = EffectContext(effect, self._devices, self._services, self._post, self._spawn)
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

    def ended(self, event: Event) -> None:
        """``event`` ends an effect: forget it and journal the outcome of a journaled one."""
        assert event.effect_id is not None
        self._live.pop(event.effect_id, None)
        intent = self._intents.pop(event.effect_id, None)
        if intent is not None and self._journal is not None:
            # An effect that ended ok may still say how (a transfer "posted", "pending" or "refused").
            result = event.code or ("success" if event.ok else "failed")
            self._journal.outcome(intent, result, detail=str(event.data.get("detail", ""))[:200])

    def cancel_abandoned(self) -> None:
        """Effects the journey no longer waits for (it moved on or was cancelled) are cancelled.

        Journaled effects run to their end: their outcome must reach the journal.
        """
        for effect_id, ctx in list(self._live.items()):
            if not self._journey.is_awaiting(effect_id) and ctx.effect.kind not in JOURNALED:
                ctx.cancel()
                self._live.pop(effect_id, None)

    def cancel_all(self) -> None:
        """Shutdown: cancel every live effect, journaled or not."""
        for ctx in list(self._live.values()):
            ctx.cancel()
        self._live.clear()


def apply_step(
    step: Step,
    effects: EffectDispatcher,
    *,
    show: Callable[[View], None],
    end: Callable[[Outcome], None],
) -> None:
    """What every runner does with a journey's step, in this order: show its view, start its effects,
    cancel the running effects nobody waits for any more (the journey moved on), then end the journey."""
    if step.view is not None:
        show(step.view)
    for effect in step.effects:
        effects.dispatch(effect)
    effects.cancel_abandoned()
    if step.outcome is not None:
        end(step.outcome)
